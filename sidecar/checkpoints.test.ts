import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointStore } from './checkpoints.ts';
import { tempDirs } from './queue/fixtures/helpers.ts';

interface Position {
  path: string;
  ino: number;
  offset: number;
}

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

function position(offset: number, path = '/var/log/app.log'): Position {
  return { path, ino: 42, offset };
}

describe('checkpoint store', () => {
  it('starts empty without a file, and keeps what was flushed across a reopen', async () => {
    const file = join(await dirs.make(), 'checkpoints.json');
    const store = await CheckpointStore.open<Position>(file);
    expect(store.source).toBe('empty');
    expect(store.get('a')).toBeUndefined();
    store.set('a', position(10));
    store.set('b', position(20, '/var/log/other.log'));
    store.delete('b');
    await store.flush();

    const again = await CheckpointStore.open<Position>(file);
    expect(again.source).toBe('file');
    expect(again.keys()).toEqual(['a']);
    expect(again.get('a')).toEqual(position(10));
  });

  it('saves the value as it was at set(), not as the caller later changed it', async () => {
    const file = join(await dirs.make(), 'checkpoints.json');
    const store = await CheckpointStore.open<Position>(file);
    const mine = position(10);
    store.set('a', mine);
    mine.offset = 99;
    await store.flush();
    expect((await CheckpointStore.open<Position>(file)).get('a')?.offset).toBe(10);
  });

  it('shares writes between concurrent flushes, and each sees its own changes saved', async () => {
    const dir = await dirs.make();
    const file = join(dir, 'checkpoints.json');
    const store = await CheckpointStore.open<Position>(file);
    const flushes: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      store.set('a', position(i));
      flushes.push(store.flush());
    }
    await Promise.all(flushes);
    expect((await CheckpointStore.open<Position>(file)).get('a')?.offset).toBe(19);
    // Exactly two writes: the first flush's, and one shared by the 19 that came while it ran
    // (the backup holds the first write's value).
    expect(JSON.parse(await readFile(`${file}.bak`, 'utf8')).checkpoints.a.offset).toBe(0);
  });

  it('falls back to the previous good version when the file is corrupt, ignoring a leftover tmp', async () => {
    const dir = await dirs.make();
    const file = join(dir, 'checkpoints.json');
    const store = await CheckpointStore.open<Position>(file);
    store.set('a', position(1));
    await store.flush();
    store.set('a', position(2));
    await store.flush();
    expect(JSON.parse(await readFile(`${file}.bak`, 'utf8')).checkpoints.a.offset).toBe(1);

    await writeFile(file, '{"version":1,"checkpoints":{"a":{"pa');
    await writeFile(`${file}.tmp`, '{"version":1,"checkpoints":{"a":{"path":"/x","ino":42,"offset":3');
    const recovered = await CheckpointStore.open<Position>(file);
    expect(recovered.source).toBe('backup');
    expect(recovered.corruptFiles).toBe(1);
    expect(recovered.get('a')?.offset).toBe(1);
    expect(await readdir(dir)).not.toContain('checkpoints.json.tmp');

    // The next flush replaces the damaged file; the damaged one never becomes the backup's only copy.
    recovered.set('a', position(5));
    await recovered.flush();
    expect((await CheckpointStore.open<Position>(file)).get('a')?.offset).toBe(5);
  });

  it('starts empty, counting both, when the file and its backup are unusable', async () => {
    const dir = await dirs.make();
    const file = join(dir, 'checkpoints.json');
    await writeFile(file, '[1,2,3]');
    await writeFile(`${file}.bak`, '{"version":1,"checkpoints":{"a":7}}');
    const store = await CheckpointStore.open(file);
    expect(store.source).toBe('empty');
    expect(store.corruptFiles).toBe(2);
    expect(store.size).toBe(0);
  });

  it('does not write when nothing changed', async () => {
    const dir = await dirs.make();
    const file = join(dir, 'checkpoints.json');
    const store = await CheckpointStore.open<Position>(file);
    await store.flush();
    expect(await readdir(dir)).toEqual([]);
    store.set('a', position(1));
    await store.flush();
    const before = await readFile(file, 'utf8');
    store.set('a', position(1));
    await store.flush();
    expect(await readdir(dir)).toEqual(['checkpoints.json']);
    expect(await readFile(file, 'utf8')).toBe(before);
  });
});
