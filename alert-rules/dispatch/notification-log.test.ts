import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DocumentFile } from '../../notify/outbox/document.ts';
import { captureLog } from '../../test/robots/harness.ts';
import { NotificationLog } from './notification-log.ts';

const HOUR = 3_600_000;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function open(file: string, maxEntries = 100) {
  const { log, lines } = captureLog();
  const document = new DocumentFile(file, 'notification log', log);
  return { nflog: new NotificationLog({ document, retentionMs: HOUR, maxEntries, log }), lines };
}

function logFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lookout-nflog-'));
  dirs.push(dir);
  return join(dir, 'notifications.json');
}

const told = (groupKey: string, sentAt: number) => ({
  receiver: 'team',
  groupKey,
  firing: ['a1'],
  resolved: [],
  sentAt,
});

describe('NotificationLog', () => {
  it('keeps what was told for the next process, until the repeat interval and retention have passed', async () => {
    const file = logFile();
    const first = open(file).nflog;
    await first.record(told('g1', 0), 4 * HOUR);
    const next = open(file).nflog;
    expect(next.query('team', 'g1', 5 * HOUR - 1)?.firing).toEqual(['a1']);
    expect(next.query('other', 'g1', 0)).toBeUndefined();
    expect(next.query('team', 'g1', 5 * HOUR)).toBeUndefined();
  });

  it('forgets the entries expiring soonest when full, and logs it', async () => {
    const { nflog, lines } = open(logFile(), 10);
    for (let i = 0; i <= 10; i++) await nflog.record(told(`g${i}`, i), HOUR);
    expect(nflog.size).toBe(9);
    expect(nflog.query('team', 'g0', 10)).toBeUndefined();
    expect(nflog.query('team', 'g10', 10)).toBeDefined();
    expect(lines.join('\n')).toContain('notification log full');
  });

  it('starts empty from an unreadable file, saying so', () => {
    const file = logFile();
    writeFileSync(file, '{"entries": [{"receiver": 1}]}');
    const { nflog, lines } = open(file);
    expect(nflog.size).toBe(0);
    expect(lines.join('\n')).toContain('notification log unreadable');
  });
});
