import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRuleFiles } from '../alert-rules/rules/load.ts';
import { run } from './infra/exec.ts';

const FIXTURES = path.join(import.meta.dirname, '..', 'alert-rules', 'rules', 'fixtures');

async function promtoolAccepts(file: string): Promise<boolean> {
  return run('promtool', ['check', 'rules', file], { cwd: FIXTURES }).then(
    () => true,
    () => false,
  );
}

async function loaderAccepts(file: string, logs?: { namespaces?: string[] }): Promise<boolean> {
  return loadRuleFiles([file], { baseDir: FIXTURES, remoteWrite: true, logs }).then(
    () => true,
    () => false,
  );
}

// The fixtures' names say whether they are valid; Prometheus's own checker must agree with the name and with us.
describe('rule files: the same verdict as promtool check rules', () => {
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml'))) {
    it(file, async () => {
      const valid = file.startsWith('valid-');
      expect(await promtoolAccepts(file)).toBe(valid);
      expect(await loaderAccepts(file)).toBe(valid);
    });
  }
});

describe('a file with a log group', () => {
  it('is for Lookout only: refused by promtool, read by Lookout with a log search configured', async () => {
    const file = 'lookout-only-log-group.yaml';
    expect(await promtoolAccepts(file)).toBe(false);
    expect(await loaderAccepts(file)).toBe(false);
    expect(await loaderAccepts(file, {})).toBe(true);
  });
});
