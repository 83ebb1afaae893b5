// Fills the compile cache the image ships (NODE_COMPILE_CACHE) by loading every
// module of the commands, so that no container strips TypeScript or compiles
// them again at its start. Run it as the user the containers run as: Node
// keeps a cache per user id. Plain JavaScript for the same reason as
// bin/lookout.js: a TypeScript file would be stripped before the cache is on.
import { readdir } from 'node:fs/promises';
import { constants, enableCompileCache } from 'node:module';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
// bin/cli.ts is left out: it runs the command line when loaded. `lookout --help` loads it.
const FOLDERS = ['core', 'notify', 'sidecar', 'collector', 'event-router', 'alert-rules'];
const BIN = ['bin/components.ts', 'bin/config.ts', 'bin/status.ts'];

const { status } = enableCompileCache();
if (
  status !== constants.compileCacheStatus.ENABLED &&
  status !== constants.compileCacheStatus.ALREADY_ENABLED
) {
  throw new Error(`the compile cache is not on (status ${status}): is NODE_COMPILE_CACHE writable?`);
}
const modules = BIN.map((file) => join(root, file));
for (const folder of FOLDERS) {
  for (const entry of await readdir(join(root, folder), { recursive: true })) {
    if (entry.endsWith('.ts') && !entry.endsWith('.test.ts') && !entry.includes('fixtures')) {
      modules.push(join(root, folder, entry));
    }
  }
}
for (const file of modules.sort()) await import(file);
process.stdout.write(`compiled ${modules.length} modules into ${process.env.NODE_COMPILE_CACHE}\n`);
