import { appendFile, copyFile, mkdir, rename, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * - `rename`: logrotate/logback style, the file is renamed and a new one created (for a container log,
 *   the link's target is rotated so, as the kubelet does);
 * - `copytruncate`: the file is copied and emptied in place;
 * - `restart`: a container restart, the link is swapped to a new target file (the old one stays).
 */
export type Rotation = 'rename' | 'copytruncate' | 'restart';

/**
 * Writes numbered lines ("<run> seq=<n> …") the way rsyslog's testbench does,
 * rotating now and then, so the receiving end can prove every number arrived.
 * In `container` layout, app.log is a link to real/<n>.log, as
 * /var/log/containers links point into /var/log/pods.
 */
export class NumberedWriter {
  /**
   * Today (UTC): the lines land in today's daily index, which no retention
   * deletes while a test runs, whatever day the tests run on.
   */
  private readonly day = new Date().toISOString().slice(0, 10);
  private readonly dir: string;
  private readonly run: string;
  private readonly layout: 'file' | 'container';
  private next = 1;
  private generation = 0;
  private restarts = 0;

  constructor(dir: string, run: string, layout: 'file' | 'container' = 'file') {
    this.dir = dir;
    this.run = run;
    this.layout = layout;
  }

  /** The path the application's log is read at. */
  get path(): string {
    return join(this.dir, 'app.log');
  }

  /** The file the lines go to: the path itself, or the current link target. */
  private get target(): string {
    return this.layout === 'file' ? this.path : join(this.dir, 'real', `${this.restarts}.log`);
  }

  get written(): number {
    return this.next - 1;
  }

  async init(): Promise<void> {
    if (this.layout === 'file') return;
    await mkdir(join(this.dir, 'real'), { recursive: true });
    await writeFile(this.target, '');
    await symlink(this.target, this.path);
  }

  line(n: number): string {
    return `${this.day} 03:12:00.${String(n % 1000).padStart(3, '0')} INFO ${this.run} seq=${n} payload ${'x'.repeat(n % 97)}\n`;
  }

  async write(count: number): Promise<void> {
    let text = '';
    for (let i = 0; i < count; i++) text += this.line(this.next++);
    await appendFile(this.target, text);
  }

  async rotate(kind: Rotation): Promise<void> {
    this.generation++;
    const current = this.target;
    if (kind === 'rename') {
      await rename(current, `${current}.${this.generation}`);
      await writeFile(current, '');
    } else if (kind === 'copytruncate') {
      await copyFile(current, `${current}.${this.generation}`);
      await truncate(current, 0);
    } else {
      if (this.layout !== 'container') throw new Error('restart rotation needs the container layout');
      this.restarts++;
      await writeFile(this.target, '');
      const tmp = join(this.dir, 'next.link');
      await rm(tmp, { force: true });
      await symlink(this.target, tmp);
      await rename(tmp, this.path);
    }
  }
}

/** Sequence numbers found in messages of one run. */
export function sequenceNumbers(messages: Iterable<string>, run: string): number[] {
  const out: number[] = [];
  const pattern = new RegExp(`${run} seq=(\\d+) `);
  for (const message of messages) {
    const match = pattern.exec(message);
    if (match) out.push(Number(match[1]));
  }
  return out;
}

/** Numbers from 1 to n that are missing, and numbers seen more than once. */
export function gapsAndRepeats(numbers: number[], n: number): { missing: number[]; repeated: number[] } {
  const seen = new Map<number, number>();
  for (const x of numbers) seen.set(x, (seen.get(x) ?? 0) + 1);
  const missing: number[] = [];
  for (let i = 1; i <= n; i++) if (!seen.has(i)) missing.push(i);
  const repeated = [...seen].filter(([, c]) => c > 1).map(([x]) => x);
  return { missing, repeated };
}

/** 3,4,5,9 → "3-5 9": readable in a failure message however many are missing. */
export function ranges(numbers: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < numbers.length; ) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    out.push(i === j ? `${numbers[i]}` : `${numbers[i]}-${numbers[j]}`);
    i = j + 1;
  }
  return out.slice(0, 30).join(' ');
}
