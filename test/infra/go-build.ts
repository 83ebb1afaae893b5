import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { cacheDir, cachedDir } from './dirs.ts';
import { onPath, run } from './exec.ts';

/** A Go command built from a module of its own: a go.mod that pins it and a main.go that calls it. */
export interface GoCommand {
  /** The module's directory. */
  dir: string;
  binary: string;
  /** The module that fixes the version, whose version names the cached build. */
  versionOf: string;
  ldflags: (version: string) => string[];
  /** Said once before a build, for the ones that take minutes. */
  buildTime?: string;
}

const SOURCE_FILES = ['go.mod', 'go.sum', 'main.go'];

async function moduleVersion(command: GoCommand): Promise<string> {
  const goMod = await readFile(path.join(command.dir, 'go.mod'), 'utf8');
  const escaped = command.versionOf.replaceAll('.', '\\.').replaceAll('/', '\\/');
  const match = goMod.match(new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, 'm'));
  if (!match?.[1]) throw new Error(`no version of ${command.versionOf} in ${command.dir}/go.mod`);
  return match[1];
}

/**
 * The binary in the cache, built with Go from the module proxy the first time. The cache entry is named
 * by the version and a hash of the module's files, so editing go.mod or main.go without a version change
 * still makes a fresh build rather than reuse a stale binary.
 */
export async function ensureGoBinary(command: GoCommand, log: (line: string) => void): Promise<string> {
  const version = await moduleVersion(command);
  const ldflags = ['-s', '-w', ...command.ldflags(version)].join(' ');
  const hash = createHash('sha256').update(ldflags);
  for (const file of SOURCE_FILES) hash.update(await readFile(path.join(command.dir, file)));
  const entry = `${command.binary}-${version}-${hash.digest('hex').slice(0, 12)}`;
  const cached = await cachedDir(path.join(cacheDir(), entry), async (tmp) => {
    if (!onPath('go')) {
      throw new Error(
        `${command.binary} is built from source: install Go 1.24 or newer (https://go.dev/dl/)`,
      );
    }
    log(`building ${command.binary} ${version} with Go (once per version${command.buildTime ?? ''})`);
    const env = {
      ...process.env,
      // Static, like the release binaries, so nothing depends on the host's libc.
      CGO_ENABLED: '0',
      // A user's go.work or -mod=vendor would build something other than these pinned modules, and
      // VCS stamping would run git on the Lookout checkout for nothing.
      GOWORK: 'off',
      GOFLAGS: '-mod=readonly -buildvcs=false',
    };
    const output = path.join(tmp, command.binary);
    await run('go', ['build', '-trimpath', '-ldflags', ldflags, '-o', output, '.'], {
      cwd: command.dir,
      env,
    });
  });
  return path.join(cached, command.binary);
}
