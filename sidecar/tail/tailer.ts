import { type FileHandle, open, readdir, realpath, stat } from 'node:fs/promises';
import { dirname, join, matchesGlob, sep } from 'node:path';
import { type BackoffOptions, backoffDelay } from '../../core/backoff.ts';
import { BufferPool } from '../../core/buffer-pool.ts';
import { type Clock, systemClock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';
import type { GaugeDefinition, Metrics } from '../../core/metrics.ts';
import { SIDECAR_METRICS } from '../metrics.ts';
import type { PayloadEntry, PayloadWriter } from '../record.ts';
import type { FileIdentity, RawLine } from '../types.ts';
import { DirectoryWatch, findFiles, type InputPatterns } from './discover.ts';
import { type Fingerprint, matchesFingerprint, readFingerprint } from './fingerprint.ts';
import { LineReader } from './line-reader.ts';
import { ReadTimes, type SavedReadTimes } from './read-times.ts';

/** What the tailer needs of a file's processing chain (parse/pipeline.ts): raw lines in, queue entries out. */
export interface LineProcessor {
  push(line: RawLine): PayloadEntry[];
  /** Lets held events out after their timeouts (or all of them with force). */
  flush(now: number, force: boolean): PayloadEntry[];
  /** First byte of an event still held back; the checkpoint must not pass it. */
  pendingOffset(): number | undefined;
  /** A queue payload of this file, to write entries into as they are made (see PayloadWriter for the sizes). */
  payload(start: number | Buffer, fullBytes: number): PayloadWriter;
}

export interface TailInput extends InputPatterns {
  /** Where to start in a file found at the first scan with no checkpoint. Files appearing later start at 0. */
  readFrom: 'beginning' | 'end';
  /**
   * A directory the files must really be in: a file whose path leads elsewhere (through a symlink
   * someone else controls) is not read.
   */
  within?: string;
}

export interface FileCheckpoint extends SavedReadTimes {
  path: string;
  /** Where the path led when it was a symlink: a rotated target is looked for beside it. */
  target?: string;
  dev: number;
  ino: number;
  fingerprint: string;
  fingerprintLength: number;
  generation: number;
  offset: number;
}

export interface CheckpointTable {
  get(key: string): FileCheckpoint | undefined;
  set(key: string, value: FileCheckpoint): void;
  delete(key: string): void;
  keys(): Iterable<string>;
  flush(): Promise<void>;
}

/** The gauges a tailer keeps; a second tailer in the process needs gauges of its own. */
export interface TailerGauges {
  filesOpen: GaugeDefinition;
  up: GaugeDefinition;
}

export interface TailerOptions<I extends TailInput = TailInput> {
  /** The inputs at start; addInput and removeInput change them while running. */
  inputs: readonly I[];
  append(payloads: Buffer[], signal?: AbortSignal): Promise<void>;
  checkpoints: CheckpointTable;
  pipelineFor(file: { path: string; identity: FileIdentity; input: I }): LineProcessor;
  /** A removed input's files have all been read to their end and released. */
  onInputReleased?(input: I): void;
  gauges?: TailerGauges;
  log: Logger;
  metrics: Metrics;
  maxLineBytes: number;
  chunkBytes?: number;
  /** A file's entries are appended once this many bytes are ready (and at the end of each pass). */
  batchBytes: number;
  scanIntervalMs: number;
  /** A line with no newline is emitted after the file has been idle this long. */
  partialLineTimeoutMs: number;
  /** A rotated-away or deleted file is released after it has been idle at its end this long. */
  releaseAfterMs: number;
  /** Waits between restarts of reading after a failure. */
  restartBackoff: BackoffOptions;
  clock?: Clock;
}

/**
 * A removed input is scanned once more (`leaving`), so files it matches that were never opened are
 * read too; then (`draining`) it is kept only until its files are released.
 */
type InputState = 'active' | 'leaving' | 'draining';

interface Tracked<I> {
  key: string;
  path: string;
  target: string;
  input: I;
  fd: FileHandle;
  dev: number;
  ino: number;
  fingerprint?: Fingerprint;
  generation: number;
  reader: LineReader;
  /** Where reading started: the checkpoint until the first one is saved. */
  origin: number;
  readTimes: ReadTimes;
  pipeline?: LineProcessor;
  /** The path no longer leads here: rotated away or deleted. Read to the end, then released. */
  detached: boolean;
  lastData: number;
  atEnd: boolean;
  /** Entries made but not yet appended to the queue. */
  batch: PayloadWriter | undefined;
  /** The size of the file's last batch: the next one starts with that much room. */
  lastBatchBytes: number;
}

const IDLE_WAIT_MS = 250;
const BATCH_START_BYTES = 16 * 1024;
/** Room past a full batch for the record that makes it full, so that record rarely makes the buffer grow. */
const BATCH_SLACK_BYTES = 16 * 1024;
/** Appends in flight before reading waits for the oldest to be durable: bounds memory when the queue is slow or full. */
const MAX_LANDING = 4;

/** A checkpoint to save once the appends before it are durable. */
interface PendingCheckpoint<I> {
  file: Tracked<I>;
  generation: number;
  offset: number;
}

/**
 * Follows files by identity (device, inode and first-line fingerprint), not by
 * name. Entries reach the queue before the checkpoint moves past them, so a
 * crash at any instant re-reads rather than loses.
 */
export class Tailer<I extends TailInput = TailInput> {
  private readonly opts: TailerOptions<I>;
  private readonly inputs: Map<I, InputState>;
  private readonly files = new Map<string, Tracked<I>>();
  private readonly failing = new Map<string, string>();
  private readonly watch: DirectoryWatch;
  private readonly clock: Clock;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private scanRequested = true;
  private firstScan = true;
  private lastScan = 0;
  private readonly abort = new AbortController();
  private landing: {
    durable: Promise<void>;
    payloads: Buffer[];
    checkpoint: PendingCheckpoint<I> | undefined;
  }[] = [];
  /** Full-size batch buffers, back from the queue once their appends are durable. */
  private readonly batchBuffers: BufferPool;
  /** Failures since reading last completed a pass; reading is down while this is not 0. */
  private failures = 0;
  private readonly m;

  constructor(opts: TailerOptions<I>) {
    this.opts = opts;
    this.inputs = new Map(opts.inputs.map((input) => [input, 'active']));
    this.clock = opts.clock ?? systemClock;
    this.batchBuffers = new BufferPool(opts.batchBytes + BATCH_SLACK_BYTES, MAX_LANDING);
    this.watch = new DirectoryWatch(() => this.requestScan());
    const { metrics } = opts;
    const gauges = opts.gauges ?? { filesOpen: SIDECAR_METRICS.filesOpen, up: SIDECAR_METRICS.tailerUp };
    this.m = {
      lines: metrics.counter(SIDECAR_METRICS.readLines),
      bytes: metrics.counter(SIDECAR_METRICS.readBytes),
      truncated: metrics.counter(SIDECAR_METRICS.truncatedLines),
      rotations: metrics.counter(SIDECAR_METRICS.rotations),
      fileErrors: metrics.counter(SIDECAR_METRICS.fileErrors),
      files: metrics.gauge(gauges.filesOpen),
      up: metrics.gauge(gauges.up),
      restarts: metrics.counter(SIDECAR_METRICS.tailerRestarts),
    };
    this.m.up.set(1);
  }

  /** False from a failure until reading has completed a pass again. */
  get healthy(): boolean {
    return this.failures === 0;
  }

  start(): void {
    this.running = true;
    this.loop = this.supervise();
  }

  /** Starts reading the files of one more input (again, if it was being removed). */
  addInput(input: I): void {
    this.inputs.set(input, 'active');
    this.requestScan();
  }

  /**
   * Stops finding files by the input's patterns. Its files are read to their end, as files rotated
   * away are, and released; then `onInputReleased` is called.
   */
  removeInput(input: I): void {
    if (this.inputs.get(input) !== 'active') return;
    this.inputs.set(input, 'leaving');
    this.requestScan();
  }

  private requestScan(): void {
    this.scanRequested = true;
    this.wake?.();
  }

  /** Stops reading, lands what was read, writes checkpoints and closes the files. */
  async stop(deadline?: AbortSignal): Promise<void> {
    this.running = false;
    this.wake?.();
    deadline?.addEventListener('abort', () => this.abort.abort(deadline.reason), { once: true });
    await this.loop;
    this.watch.close();
    await this.opts.checkpoints.flush();
    for (const file of this.files.values()) await file.fd.close().catch(() => {});
    this.files.clear();
  }

  /**
   * Nothing stops reading for good: after any failure the files are opened
   * again from their checkpoints (what was in flight is read again, with the
   * same event ids) after a backoff, and reading counts as down meanwhile.
   */
  private async supervise(): Promise<void> {
    while (this.running) {
      try {
        await this.run();
        return;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        if (!this.running) {
          this.opts.log.error(
            { err },
            'tailer failed while stopping; what was in flight is read again at the next start',
          );
          return;
        }
        const delayMs = backoffDelay(this.failures++, this.opts.restartBackoff);
        this.m.up.set(0);
        this.m.restarts.inc();
        this.opts.log.error(
          { err, restartInMs: delayMs },
          'tailer stopped unexpectedly; restarting from the checkpoints',
        );
        await this.reset();
        await this.idle(delayMs);
      }
    }
  }

  private async run(): Promise<void> {
    await this.recoverRotated();
    while (this.running) {
      const now = this.clock.now();
      if (this.scanRequested || now - this.lastScan >= this.opts.scanIntervalMs) await this.scan(now);
      const read = await this.pass();
      if (this.failures > 0) {
        this.failures = 0;
        this.m.up.set(1);
        this.opts.log.info('tailer reading again');
      }
      if (!read && this.running) await this.idle(Math.min(IDLE_WAIT_MS, this.opts.scanIntervalMs));
    }
    // Land whatever the last pass read so its checkpoints can move.
    await this.pass(false);
  }

  /** Forgets every open file after a failure; the checkpoints say where to resume. */
  private async reset(): Promise<void> {
    // Appends that became durable still move their checkpoints, in order, up to the first that failed.
    for (const { durable, checkpoint } of this.landing.splice(0)) {
      try {
        await durable;
      } catch {
        break;
      }
      if (checkpoint) this.commit(checkpoint);
    }
    await this.opts.checkpoints.flush().catch(() => {});
    for (const file of this.files.values()) await file.fd.close().catch(() => {});
    this.files.clear();
    this.scanRequested = true;
  }

  private async idle(ms: number): Promise<void> {
    const woken = new AbortController();
    this.wake = () => {
      this.wake = undefined;
      woken.abort();
    };
    await this.clock.sleep(ms, woken.signal);
  }

  private async scan(now: number): Promise<void> {
    this.scanRequested = false;
    this.lastScan = now;
    const seen = new Set<string>();
    const active = [...this.inputs].filter(([, state]) => state === 'active');
    this.watch.update(active.flatMap(([input]) => input.paths));
    for (const [input, state] of [...this.inputs]) {
      if (state === 'draining') continue;
      let paths: string[];
      try {
        paths = await findFiles(input);
      } catch (err) {
        this.reportError('(glob)', err);
        continue;
      }
      for (const path of paths) {
        const key = await this.follow(path, input, now);
        if (key && state === 'active') seen.add(key);
      }
      if (this.inputs.get(input) === 'leaving') this.inputs.set(input, 'draining');
    }
    for (const file of this.files.values()) {
      if (!seen.has(file.key) && !file.detached) this.detach(file, now);
      await this.checkTruncation(file);
    }
    this.dropDrained();
    if (this.firstScan) {
      // Checkpoints of files that are gone and were not found renamed only take space.
      for (const key of [...this.opts.checkpoints.keys()])
        if (!this.files.has(key)) this.opts.checkpoints.delete(key);
    }
    this.firstScan = false;
    this.m.files.set(this.files.size);
  }

  /** The path no longer leads to the file, or its input was removed: it is read to its end, then released. */
  private detach(file: Tracked<I>, now: number): void {
    file.detached = true;
    file.lastData = now;
    const fields = { path: file.path, file: file.key, position: file.reader.position };
    if (this.inputs.get(file.input) !== 'active') {
      this.opts.log.debug(fields, 'input removed; reading the file to its end');
      return;
    }
    const replaced = [...this.files.values()].some((f) => f !== file && f.path === file.path);
    this.m.rotations.inc({ kind: replaced ? 'rename' : 'delete' });
    this.opts.log.debug(fields, 'file rotated away');
  }

  /** Removed inputs whose files have all been released are forgotten. */
  private dropDrained(): void {
    for (const [input, state] of this.inputs) {
      if (state !== 'draining') continue;
      if ([...this.files.values()].some((f) => f.input === input)) continue;
      this.inputs.delete(input);
      this.opts.onInputReleased?.(input);
    }
  }

  /**
   * Starts following a path, or updates the path of a file already followed. Returns its key. A
   * removed input only finds files no other input follows.
   */
  private async follow(path: string, input: I, now: number): Promise<string | undefined> {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (err) {
      this.reportError(path, err);
      return undefined;
    }
    if (!info.isFile()) return undefined;
    const key = `${info.dev}:${info.ino}`;
    const known = this.files.get(key);
    if (known) {
      if (this.inputs.get(input) !== 'active') return key;
      known.path = path;
      known.detached = false;
      if (this.inputs.get(known.input) !== 'active') known.input = input;
      return key;
    }
    let fd: FileHandle;
    let target: string;
    try {
      fd = await open(path, 'r');
    } catch (err) {
      this.reportError(path, err);
      return undefined;
    }
    try {
      target = await this.confined(fd, path, input);
    } catch (err) {
      await fd.close().catch(() => {});
      this.reportError(path, err);
      return undefined;
    }
    this.failing.delete(path);
    const file: Tracked<I> = {
      key,
      path,
      target,
      input,
      fd,
      dev: info.dev,
      ino: info.ino,
      generation: 0,
      reader: new LineReader(0, this.readerOptions()),
      origin: 0,
      readTimes: new ReadTimes(),
      detached: false,
      lastData: now,
      atEnd: false,
      batch: undefined,
      lastBatchBytes: 0,
    };
    const saved = this.opts.checkpoints.get(key);
    const savedPrint = saved && { hash: saved.fingerprint, length: saved.fingerprintLength };
    if (savedPrint && (await matchesFingerprint(fd, savedPrint))) {
      file.fingerprint = savedPrint;
      file.generation = saved.generation;
      file.reader.reset(saved.offset);
      file.readTimes = new ReadTimes(saved, info.size);
    } else if (this.firstScan && input.readFrom === 'end') {
      file.reader.reset(info.size);
    }
    file.origin = file.reader.position;
    this.files.set(key, file);
    this.opts.log.debug(
      { path, file: key, offset: file.reader.position, resumed: Boolean(file.fingerprint) },
      'following file',
    );
    return key;
  }

  /**
   * Where the path really leads. With `within`, the file opened must be the one found there,
   * inside that directory: checked on the open file, so a symlink swapped meanwhile cannot slip by.
   */
  private async confined(fd: FileHandle, path: string, input: I): Promise<string> {
    if (!input.within) return realpath(path).catch(() => path);
    const [target, base] = await Promise.all([realpath(path), realpath(input.within)]);
    const [opened, there] = await Promise.all([fd.stat(), stat(target)]);
    if (target.startsWith(base + sep) && opened.dev === there.dev && opened.ino === there.ino) return target;
    throw Object.assign(new Error(`the file is not inside ${input.within}`), { code: 'EOUTSIDE' });
  }

  /**
   * copytruncate: the file shrank under the read position, or (when it was
   * rewritten past that position between two scans) no longer starts with the
   * first line it had. Either way it is new content in the same inode.
   */
  private async checkTruncation(file: Tracked<I>): Promise<void> {
    let size: number;
    let rewritten = false;
    try {
      size = (await file.fd.stat()).size;
      if (size >= file.reader.position && file.fingerprint) {
        rewritten = !(await matchesFingerprint(file.fd, file.fingerprint));
      }
    } catch {
      return;
    }
    if (size >= file.reader.position && !rewritten) return;
    this.m.rotations.inc({ kind: 'truncate' });
    this.opts.log.info(
      { path: file.path, size, position: file.reader.position },
      'file truncated; reading from 0',
    );
    this.landHeld(file);
    file.generation++;
    file.fingerprint = undefined;
    file.pipeline = undefined;
    file.reader.reset(0);
    file.origin = 0;
    file.readTimes = new ReadTimes();
    this.opts.checkpoints.delete(file.key);
  }

  /** One read pass over every file. Returns whether anything was read. */
  private async pass(read = true): Promise<boolean> {
    const now = this.clock.now();
    const lines: RawLine[] = [];
    const payloads: Buffer[] = [];
    const landed: Tracked<I>[] = [];
    let readAny = false;
    if (read && this.running) await this.startReadTimes(now);
    for (const file of this.files.values()) {
      if (read && this.running) readAny = (await this.readFile(file, now, lines, payloads)) || readAny;
      if (file.pipeline) this.collect(file, file.pipeline.flush(now, false));
      const payload = this.take(file);
      if (payload) payloads.push(payload);
      landed.push(file);
    }
    if (payloads.length > 0) this.land(payloads);
    const checkpoints = landed.map((file) => this.checkpointOf(file));
    await this.settle();
    for (const file of landed) file.readTimes.close(file.reader.consumed, now, !read);
    for (const checkpoint of checkpoints) if (checkpoint) this.commit(checkpoint);
    await this.opts.checkpoints.flush();
    await this.releaseFinished(now);
    return readAny;
  }

  /**
   * Gives files about to be read past their current read time a new one, and
   * saves it before any line carries it (one checkpoint write for all files).
   */
  private async startReadTimes(now: number): Promise<void> {
    let started = false;
    for (const file of this.files.values()) {
      if (!file.readTimes.wantsNew(now)) continue;
      if (!file.pipeline && !(await this.identify(file, now))) continue;
      if (!(await this.hasUnread(file))) continue;
      file.readTimes.start(file.reader.consumed, now);
      this.opts.checkpoints.set(file.key, this.checkpointValue(file, this.savedOffset(file)));
      started = true;
    }
    if (started) await this.opts.checkpoints.flush();
  }

  /** Where the saved checkpoint of this very file resumes; where reading started when there is none yet. */
  private savedOffset(file: Tracked<I>): number {
    const saved = this.opts.checkpoints.get(file.key);
    const same = saved?.fingerprint === file.fingerprint?.hash && saved?.generation === file.generation;
    return saved && same ? saved.offset : file.origin;
  }

  private async hasUnread(file: Tracked<I>): Promise<boolean> {
    if (file.reader.hasPartial) return true;
    try {
      return (await file.fd.stat()).size > file.reader.position;
    } catch {
      return false;
    }
  }

  private async readFile(
    file: Tracked<I>,
    now: number,
    lines: RawLine[],
    payloads: Buffer[],
  ): Promise<boolean> {
    if (!file.pipeline && !(await this.identify(file, now))) return false;
    if (!file.readTimes.open) return false;
    const pipeline = file.pipeline!;
    let readAny = false;
    for (;;) {
      lines.length = 0;
      let bytes: number;
      try {
        bytes = await file.reader.read(file.fd, now, lines);
      } catch (err) {
        this.reportError(file.path, err);
        return readAny;
      }
      file.atEnd = bytes === 0;
      if (bytes === 0) break;
      readAny = true;
      file.lastData = now;
      this.count(file, lines, bytes);
      for (const line of lines) {
        line.readAt = file.readTimes.at(line.offset);
        this.collect(file, pipeline.push(line));
        if (file.batch && file.batch.bytes >= this.opts.batchBytes) {
          payloads.push(this.take(file)!);
          // Land a full batch now: the queue is the commit point, and batches (and memory) stay bounded.
          // Lines after this one in the chunk are not in the queue yet: the checkpoint stops here.
          this.land(payloads.splice(0), this.checkpointOf(file, line.end));
          if (this.landing.length > MAX_LANDING) await this.settleOldest();
        }
      }
    }
    const idle = now - file.reader.heldSince >= this.opts.partialLineTimeoutMs;
    if (
      file.reader.hasPartial &&
      (idle || (file.detached && now - file.lastData >= this.opts.releaseAfterMs))
    ) {
      const partial = file.reader.takePartial(now)!;
      partial.readAt = file.readTimes.at(partial.offset);
      this.count(file, [partial], 0);
      this.collect(file, pipeline.push(partial));
    }
    return readAny;
  }

  private collect(file: Tracked<I>, entries: PayloadEntry[]): void {
    for (const entry of entries) {
      // A busy file's batches start at their full size, in a reused buffer; a quiet file's start small.
      const full = this.batchBuffers.size;
      file.batch ??= file.pipeline!.payload(
        file.lastBatchBytes >= full
          ? this.batchBuffers.take()
          : Math.max(BATCH_START_BYTES, file.lastBatchBytes),
        full,
      );
      file.batch.add(entry);
    }
  }

  private take(file: Tracked<I>): Buffer | undefined {
    const batch = file.batch;
    if (!batch) return undefined;
    file.batch = undefined;
    file.lastBatchBytes = batch.bytes + BATCH_SLACK_BYTES;
    return batch.finish();
  }

  private count(file: Tracked<I>, lines: RawLine[], bytes: number): void {
    this.m.lines.inc({ path: file.path }, lines.length);
    if (bytes > 0) this.m.bytes.inc({ path: file.path }, bytes);
    for (const line of lines) if (line.truncated) this.m.truncated.inc();
  }

  /** Takes the fingerprint, unless a checkpoint gave it, once the first line is complete (or idled out), and builds the pipeline. */
  private async identify(file: Tracked<I>, now: number): Promise<boolean> {
    const idle = now - file.lastData >= this.opts.partialLineTimeoutMs;
    try {
      file.fingerprint ??= await readFingerprint(file.fd, idle);
    } catch (err) {
      this.reportError(file.path, err);
      return false;
    }
    if (!file.fingerprint) return false;
    file.pipeline = this.opts.pipelineFor({
      path: file.path,
      identity: this.identity(file),
      input: file.input,
    });
    return true;
  }

  private identity(file: Tracked<I>): FileIdentity {
    return {
      dev: file.dev,
      ino: file.ino,
      fingerprint: file.fingerprint!.hash,
      fingerprintLength: file.fingerprint!.length,
      generation: file.generation,
    };
  }

  /**
   * Hands payloads to the queue without waiting for them to be durable, so the
   * next batch is parsed while this one is written and fsynced. The queue keeps
   * appends in call order, so they become durable in that order too; the
   * checkpoint moves only then.
   */
  private land(payloads: Buffer[], checkpoint?: PendingCheckpoint<I>): void {
    const durable = this.opts.append(payloads, this.abort.signal);
    // Awaited in order by settleOldest; this only keeps a failure from being reported as unhandled meanwhile.
    durable.catch(() => {});
    this.landing.push({ durable, payloads, checkpoint });
  }

  private async settleOldest(): Promise<void> {
    const { durable, payloads, checkpoint } = this.landing.shift()!;
    await durable;
    // The queue keeps no payload once its append is durable.
    for (const payload of payloads) this.batchBuffers.give(payload);
    if (checkpoint) this.commit(checkpoint);
  }

  private async settle(): Promise<void> {
    while (this.landing.length > 0) await this.settleOldest();
  }

  /** Everything before `landed` (by default, all that was read) is in the queue or held by the pipeline. */
  private checkpointOf(file: Tracked<I>, landed = file.reader.consumed): PendingCheckpoint<I> | undefined {
    if (!file.fingerprint || !file.pipeline) return undefined;
    const pending = file.pipeline.pendingOffset();
    const offset = Math.min(pending ?? Number.POSITIVE_INFINITY, landed);
    return { file, generation: file.generation, offset };
  }

  /** Saves a checkpoint, with the read times as they are now, unless its file has moved on since. */
  private commit({ file, generation, offset }: PendingCheckpoint<I>): void {
    if (this.files.get(file.key) !== file || file.generation !== generation) return;
    this.opts.checkpoints.set(file.key, this.checkpointValue(file, offset));
  }

  private checkpointValue(file: Tracked<I>, offset: number): FileCheckpoint {
    return {
      path: file.path,
      target: file.target,
      ...this.identity(file),
      offset,
      ...file.readTimes.saved(offset),
    };
  }

  /** Lets everything held for a file out (it is going away or being reset). */
  private landHeld(file: Tracked<I>): void {
    const partial = file.reader.takePartial(this.clock.now());
    if (!file.pipeline) return;
    if (partial) partial.readAt = file.readTimes.at(partial.offset);
    if (partial) this.collect(file, file.pipeline.push(partial));
    this.collect(file, file.pipeline.flush(this.clock.now(), true));
  }

  private async releaseFinished(now: number): Promise<void> {
    for (const file of [...this.files.values()]) {
      const finished = file.atEnd || !file.fingerprint;
      if (!file.detached || !finished || now - file.lastData < this.opts.releaseAfterMs) continue;
      this.landHeld(file);
      const payload = this.take(file);
      if (payload) await this.opts.append([payload], this.abort.signal);
      await file.fd.close().catch(() => {});
      this.files.delete(file.key);
      this.opts.checkpoints.delete(file.key);
      this.m.lines.remove({ path: file.path });
      this.m.bytes.remove({ path: file.path });
      this.opts.log.debug(
        { path: file.path },
        'released a rotated or deleted file after reading it to the end',
      );
    }
    this.m.files.set(this.files.size);
    this.dropDrained();
  }

  /**
   * A file renamed away while the sidecar was down is no longer matched by the
   * patterns; find it by inode next to its old path (or next to the symlink
   * target it was read through) and read what is left.
   */
  private async recoverRotated(): Promise<void> {
    const now = this.clock.now();
    for (const key of [...this.opts.checkpoints.keys()]) {
      const saved = this.opts.checkpoints.get(key)!;
      const input = [...this.inputs.keys()].find((i) => i.paths.some((p) => matchesGlob(saved.path, p)));
      if (!input) continue;
      const dirs = new Set([dirname(saved.path), dirname(saved.target ?? saved.path)]);
      const found = await this.findByInode(dirs, saved.dev, saved.ino);
      if (!found) continue;
      const followed = await this.follow(found, input, now);
      const file = followed ? this.files.get(followed) : undefined;
      if (file) file.detached = true;
    }
  }

  private async findByInode(dirs: Iterable<string>, dev: number, ino: number): Promise<string | undefined> {
    for (const dir of dirs) {
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        const info = await stat(join(dir, name)).catch(() => undefined);
        if (info?.dev === dev && info.ino === ino) return join(dir, name);
      }
    }
    return undefined;
  }

  private reportError(path: string, err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    if (code === 'ENOENT') return;
    // Once per file and kind of error, so a permission problem does not flood the log every scan.
    if (this.failing.get(path) === code) return;
    this.failing.set(path, code);
    this.m.fileErrors.inc({ code });
    this.opts.log.warn({ path, code, err: (err as Error).message }, 'cannot read file; will retry');
  }

  private readerOptions() {
    return { maxLineBytes: this.opts.maxLineBytes, chunkBytes: this.opts.chunkBytes ?? 64 * 1024 };
  }
}
