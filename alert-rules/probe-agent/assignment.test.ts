import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../core/log.ts';
import type { Assignment } from '../probes/agent-protocol.ts';
import { AssignmentFile, assignedTargets } from './assignment.ts';

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

const assignment: Assignment = {
  location: 'east',
  targets: [
    {
      id: 'shop',
      target: 'https://shop.example/',
      module: 'shop_page',
      intervalMs: 30_000,
      timeoutMs: 5_000,
    },
    { id: 'api', target: 'https://api.example/', module: 'shop_page', intervalMs: 2_000, timeoutMs: 5_000 },
    { id: 'ping', target: 'ping.example', module: 'icmp', intervalMs: 30_000, timeoutMs: 5_000 },
  ],
  modules: {
    shop_page: { prober: 'http', timeout: '3s', http: { fail_if_body_matches_regexp: ['ERROR'] } },
    icmp: { prober: 'icmp' },
  },
};

describe('assignedTargets', () => {
  it('validates the modules as written, leaves out the targets of one it cannot take, and bounds the timeout', () => {
    const targets = assignedTargets(assignment, 100, silent);
    expect(targets.map((t) => [t.id, t.moduleName, t.timeoutMs])).toEqual([
      ['shop', 'shop_page', 5_000],
      ['api', 'shop_page', 2_000],
    ]);
    expect(targets[0]?.module).toMatchObject({ prober: 'http', timeoutMs: 3_000 });
    expect(targets[0]?.module.http).toMatchObject({ fail_if_body_matches_regexp: ['ERROR'] });
  });

  it('probes at most maxTargets', () => {
    expect(assignedTargets(assignment, 1, silent).map((t) => t.id)).toEqual(['shop']);
  });
});

describe('AssignmentFile', () => {
  it('keeps the last assignment for a restart, and starts without one it cannot understand', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'assignment-'));
    try {
      const file = new AssignmentFile(dir, silent);
      expect(await file.load()).toBeUndefined();
      await file.save({ etag: '"abc"', assignment });
      expect(await new AssignmentFile(dir, silent).load()).toEqual({ etag: '"abc"', assignment });
      await writeFile(join(dir, 'assignment.json'), '{"etag": 1}');
      expect(await file.load()).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
