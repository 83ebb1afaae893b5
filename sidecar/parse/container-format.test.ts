import { describe, expect, it } from 'vitest';
import type { LogEvent, RawLine } from '../types.ts';
import { type ContainerFormat, ContainerJoiner, containerFormatSchema } from './container-format.ts';

const READ_AT = 1_700_000_000_000;

/** Lines as a reader would hand them over: consecutive offsets, as in the file. */
function lines(texts: string[], start = 0): RawLine[] {
  let offset = start;
  return texts.map((text) => {
    const end = offset + Buffer.byteLength(text) + 1;
    const raw = { text, offset, end, truncated: false, readAt: READ_AT, receivedAt: READ_AT };
    offset = end;
    return raw;
  });
}

function joiner(format: ContainerFormat = 'auto', extra: Record<string, unknown> = {}) {
  return new ContainerJoiner(containerFormatSchema.parse({ format, ...extra }));
}

function pushAll(j: ContainerJoiner, raws: RawLine[]): LogEvent[] {
  return raws.flatMap((raw) => j.push(raw));
}

const T = '2024-01-02T03:04:05.123456789Z';
const T_MS = Date.parse('2024-01-02T03:04:05.123Z');

describe('CRI', () => {
  it('decodes full lines with time, stream and message', () => {
    const raws = lines([`${T} stdout F hello world`, `${T} stderr F  two  spaces `, `${T} stdout F`]);
    const events = pushAll(joiner('cri'), raws);
    expect(events).toMatchObject([
      { message: 'hello world', stream: 'stdout', time: T_MS, offset: 0, end: raws[0]!.end },
      { message: ' two  spaces ', stream: 'stderr', offset: raws[1]!.offset },
      { message: '', stream: 'stdout' },
    ]);
    expect(events.every((e) => e.parseError === undefined)).toBe(true);
  });

  it('joins P parts into one event with the offset and time of the first part', () => {
    const raws = lines([
      `${T} stdout P first `,
      '2024-01-02T03:04:06Z stdout P second ',
      '2024-01-02T03:04:07Z stdout F third',
      '2024-01-02T03:04:08Z stdout F next',
    ]);
    const j = joiner('cri');
    expect(j.push(raws[0]!)).toEqual([]);
    expect(j.pendingOffset()).toBe(0);
    expect(j.push(raws[1]!)).toEqual([]);
    expect(j.pendingOffset()).toBe(0);
    const [joined] = j.push(raws[2]!);
    expect(joined).toMatchObject({
      message: 'first second third',
      offset: 0,
      end: raws[2]!.end,
      time: T_MS,
      stream: 'stdout',
      truncated: false,
    });
    expect(j.pendingOffset()).toBeUndefined();
    expect(j.push(raws[3]!)).toMatchObject([{ message: 'next', offset: raws[3]!.offset }]);
  });

  it('joins each stream on its own when stdout and stderr interleave', () => {
    const raws = lines([
      `${T} stdout P out-1 `,
      `${T} stderr P err-1 `,
      `${T} stderr F err-2`,
      `${T} stdout F out-2`,
    ]);
    const j = joiner('cri');
    expect(j.push(raws[0]!)).toEqual([]);
    expect(j.push(raws[1]!)).toEqual([]);
    expect(j.pendingOffset()).toBe(0);
    expect(j.push(raws[2]!)).toMatchObject([
      { message: 'err-1 err-2', offset: raws[1]!.offset, stream: 'stderr' },
    ]);
    expect(j.pendingOffset()).toBe(0);
    expect(j.push(raws[3]!)).toMatchObject([{ message: 'out-1 out-2', offset: 0, end: raws[3]!.end }]);
    expect(j.pendingOffset()).toBeUndefined();
  });

  it('cuts joined parts at maxBytes and flags the event truncated', () => {
    const j = joiner('cri', { maxBytes: 10 });
    const raws = lines([`${T} stdout P 中文中文`, `${T} stdout P abcdef`, `${T} stdout F end`]);
    const [event] = pushAll(j, raws);
    expect(event).toMatchObject({ message: '中文中', truncated: true, offset: 0, end: raws[2]!.end });
  });

  it('sends a part whose rest never comes after the timeout, or on force', () => {
    const j = joiner('cri', { timeout: '1s' });
    j.push(lines([`${T} stdout P alone`])[0]!);
    expect(j.flush(READ_AT + 999)).toEqual([]);
    expect(j.flush(READ_AT + 1000)).toMatchObject([{ message: 'alone', offset: 0 }]);
    expect(j.pendingOffset()).toBeUndefined();
    j.push(lines([`${T} stdout P again`], 100)[0]!);
    expect(j.flush(READ_AT, true)).toMatchObject([{ message: 'again', offset: 100 }]);
  });

  it('keeps lines that are not CRI as raw messages with parseError', () => {
    const bad = [
      'garbage',
      `${T} stdout X tag`,
      `${T} stdlog F message`,
      '2024-13-02T03:04:05Z stdout F bad month',
      `${T}stdout F no space`,
    ];
    const raws = lines(bad);
    const events = pushAll(joiner('cri'), raws);
    expect(events.map((e) => e.message)).toEqual(bad);
    expect(events.map((e) => e.offset)).toEqual(raws.map((r) => r.offset));
    expect(events.every((e) => e.parseError === 'cri: malformed line')).toBe(true);
  });

  it('carries the reader’s truncation flag', () => {
    const [raw] = lines([`${T} stdout F cut here`]);
    expect(joiner('cri').push({ ...raw!, truncated: true })).toMatchObject([{ truncated: true }]);
  });
});

describe('Docker json-file', () => {
  const docker = (log: string, stream = 'stdout', time = '2024-01-02T03:04:05.123456789Z') =>
    JSON.stringify({ log, stream, time });

  it('decodes lines, strips the newline and keeps inner JSON as text', () => {
    const events = pushAll(
      joiner('docker'),
      lines([docker('hello\n'), docker('{"level":"info","msg":"x"}\n', 'stderr'), docker('tab\there\n')]),
    );
    expect(events).toMatchObject([
      { message: 'hello', stream: 'stdout', time: T_MS },
      { message: '{"level":"info","msg":"x"}', stream: 'stderr' },
      { message: 'tab\there' },
    ]);
  });

  it('joins lines without a trailing newline (split at 16 KiB) into one event', () => {
    const raws = lines([docker('part one, '), docker('part two, '), docker('end\n')]);
    const j = joiner('docker');
    expect(j.push(raws[0]!)).toEqual([]);
    expect(j.push(raws[1]!)).toEqual([]);
    expect(j.pendingOffset()).toBe(0);
    expect(j.push(raws[2]!)).toMatchObject([
      { message: 'part one, part two, end', offset: 0, end: raws[2]!.end },
    ]);
  });

  it('keeps lines that are not Docker JSON as raw messages with parseError', () => {
    const events = pushAll(joiner('docker'), lines(['{"log":', 'plain', '{"msg":"no log key"}']));
    expect(events.map((e) => [e.message, e.parseError])).toEqual([
      ['{"log":', 'docker: malformed line'],
      ['plain', 'docker: malformed line'],
      ['{"msg":"no log key"}', 'docker: malformed line'],
    ]);
  });
});

describe('auto detection', () => {
  it('detects CRI, Docker and plain files from the first line', () => {
    const cri = joiner();
    cri.push(lines([`${T} stdout F x`])[0]!);
    expect(cri.detected).toBe('cri');

    const docker = joiner();
    docker.push(lines(['{"log":"x\\n","stream":"stdout","time":"2024-01-02T03:04:05Z"}'])[0]!);
    expect(docker.detected).toBe('docker');

    const plain = joiner();
    const [event] = plain.push(lines(['{"level":"info","msg":"app JSON"}'])[0]!);
    expect(plain.detected).toBe('none');
    expect(event).toMatchObject({ message: '{"level":"info","msg":"app JSON"}', stream: undefined });
    expect(event!.parseError).toBeUndefined();
  });

  it('keeps the first decision for the rest of the file', () => {
    const j = joiner();
    const events = pushAll(j, lines([`${T} stdout F first`, 'not cri at all']));
    expect(events.map((e) => e.parseError)).toEqual([undefined, 'cri: malformed line']);
  });
});
