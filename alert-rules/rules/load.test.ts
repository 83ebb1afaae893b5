import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadRuleFiles, RuleFilesInvalidError } from './load.ts';

const GOOD = 'groups:\n- name: %s\n  rules:\n  - alert: Down\n    expr: up == 0\n';

describe('loadRuleFiles', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lookout-rules-'));
    await mkdir(path.join(dir, 'rules'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const write = (file: string, text: string | Buffer) => writeFile(path.join(dir, file), text);
  const failure = async (patterns: string[], maxFileBytes?: number) => {
    const error = await loadRuleFiles(patterns, { baseDir: dir, remoteWrite: true, maxFileBytes }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(RuleFilesInvalidError);
    return (error as Error).message.split('\n');
  };

  it('reads the files the patterns match, relative to the base directory, each once and in order', async () => {
    await write('rules/b.yaml', GOOD.replace('%s', 'b'));
    await write('rules/a.yaml', GOOD.replace('%s', 'a'));
    await write('rules/notes.txt', 'not rules');
    await write('extra.yml', GOOD.replace('%s', 'a'));
    const groups = await loadRuleFiles(['rules/*.yaml', 'rules/a.yaml', 'extra.yml', 'missing/*.yaml'], {
      baseDir: dir,
      remoteWrite: false,
    });
    expect(groups.map((g) => [g.file, g.name])).toEqual([
      ['rules/a.yaml', 'a'],
      ['rules/b.yaml', 'b'],
      ['extra.yml', 'a'],
    ]);
  });

  it('lists every problem of every file in one error', async () => {
    await write('rules/a.yaml', 'groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up ==\n');
    await write('rules/b.yaml', 'groups:\n- name: b\n  rulez: []\n');
    await write('rules/c.yaml', GOOD.replace('%s', 'c'));
    expect(await failure(['rules/*.yaml', 'rules/named.yaml'])).toEqual([
      '3 problem(s) in rule files',
      'rules/named.yaml: no such file',
      'rules/a.yaml:5: group "a", rule 1 ("A"): expr: syntax error at 1:6: unexpected end of expression',
      'rules/b.yaml:3: group "b": unknown field "rulez"',
    ]);
  });

  it('refuses a file above the size limit unread, and one that is not UTF-8', async () => {
    await write('rules/big.yaml', `${GOOD.replace('%s', 'big')}# ${'x'.repeat(200)}\n`);
    await write('rules/latin1.yaml', Buffer.from('groups:\n- name: caf\xe9\n', 'latin1'));
    expect(await failure(['rules/*.yaml'], 200)).toEqual([
      '2 problem(s) in rule files',
      'rules/big.yaml: the file has 266 bytes, more than the limit of 200',
      'rules/latin1.yaml: the file is not valid UTF-8',
    ]);
  });

  it('reads a mounted ConfigMap, whose files are links through a hidden ..data directory', async () => {
    await mkdir(path.join(dir, 'rules', '..2026_01_01_00_00_00.1'));
    await write('rules/..2026_01_01_00_00_00.1/app.yaml', GOOD.replace('%s', 'mounted'));
    await symlink('..2026_01_01_00_00_00.1', path.join(dir, 'rules', '..data'));
    await symlink('..data/app.yaml', path.join(dir, 'rules', 'app.yaml'));
    const groups = await loadRuleFiles(['rules/*'], { baseDir: dir, remoteWrite: true });
    expect(groups.map((g) => [g.file, g.name])).toEqual([['rules/app.yaml', 'mounted']]);
  });

  it('takes absolute patterns as they are', async () => {
    await write('rules/a.yaml', GOOD.replace('%s', 'a'));
    const pattern = path.join(dir, 'rules', '*.yaml');
    const groups = await loadRuleFiles([pattern], { baseDir: '/nonexistent', remoteWrite: true });
    expect(groups.map((g) => g.file)).toEqual([path.join(dir, 'rules', 'a.yaml')]);
  });
});
