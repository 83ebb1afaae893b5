import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DirectoryWatch } from './discover.ts';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('watching the directories of patterns', () => {
  it('wakes on a change below a pattern it is given, and no more once no pattern needs that directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-watch-'));
    let changes = 0;
    const watch = new DirectoryWatch(() => changes++);
    watch.update([join(dir, '*.log')]);
    await writeFile(join(dir, 'a.log'), 'x\n');
    for (let i = 0; i < 50 && changes === 0; i++) await pause(20);
    expect(changes).toBeGreaterThan(0);

    watch.update([]);
    changes = 0;
    await writeFile(join(dir, 'b.log'), 'x\n');
    await pause(300);
    expect(changes).toBe(0);
    watch.close();
    await rm(dir, { recursive: true, force: true });
  });
});
