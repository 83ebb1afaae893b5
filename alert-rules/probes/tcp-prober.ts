/**
 * blackbox_exporter's tcp prober: connect (with TLS when `tls` is set),
 * then the module's query_response dialogue: wait for a line matching
 * `expect`, `send` a line (with the match's groups expanded), `starttls`.
 */
import type { Socket } from 'node:net';
import type { Clock } from '../../core/clock.ts';
import { RegexpTimeoutError, runGoRegexp } from '../go-regexp/isolation.ts';
import { compileGoRegexp, expand } from '../go-regexp/regexp.ts';
import { closeAll, connectTcp, startTls } from './connect.ts';
import { LineReader } from './line-reader.ts';
import { probeSection } from './module-config.ts';
import { type ProbeOutcome, type ProbeSteps, runProbe } from './probe-run.ts';
import { resolveTarget, splitHostPort } from './resolve-target.ts';
import { sample } from './samples.ts';
import { type QueryResponse, type TcpProbeConfig, tcpProbeSchema } from './tcp-config.ts';
import { nodeTlsOptions } from './tls-config.ts';
import { type TlsFacts, tlsFacts } from './tls-facts.ts';
import type { AddressGuard, ProbeRequest, Prober } from './types.ts';

export interface TcpProberOptions {
  guard: AddressGuard;
  /** A longer line from the target fails the probe (Go's bufio.Scanner stops at 64 KiB). */
  maxLineBytes?: number;
  /** How long one `expect` pattern may run on a line. */
  regexpTimeoutMs?: number;
  clock?: Clock;
}

export const TCP_PROBER_DEFAULTS = { maxLineBytes: 64 * 1024, regexpTimeoutMs: 1_000 };

type Settings = Required<Omit<TcpProberOptions, 'clock'>>;

/** The line to send, with `${1}`-style references to the groups of the line `expect` matched. */
function expandSend(send: string, pattern: string | undefined, line: string | undefined): string {
  if (pattern === undefined || line === undefined || !send.includes('$')) return send;
  const { regexp, captureNames } = compileGoRegexp(pattern);
  regexp.lastIndex = 0;
  const match = regexp.exec(line);
  return match ? expand(send, match, captureNames) : send;
}

interface Dialogue {
  socket: Socket;
  host: string;
  config: TcpProbeConfig;
  settings: Settings;
  signal: AbortSignal;
  steps: ProbeSteps;
  /** Set when `starttls` upgraded the connection. */
  tls?: TlsFacts;
  failedDueToRegex: number;
}

/** Reads lines until one matches; the line, or undefined when the connection closed first. */
async function awaitLine(
  reader: LineReader,
  pattern: string,
  dialogue: Dialogue,
): Promise<string | undefined> {
  for (;;) {
    const line = await reader.next(dialogue.signal);
    if (line === undefined) return undefined;
    if (await runGoRegexp({ op: 'match', pattern, text: line }, dialogue.settings.regexpTimeoutMs))
      return line;
  }
}

/** Runs the query_response steps; a failure in words, or undefined when every step passed. */
async function converse(steps: readonly QueryResponse[], dialogue: Dialogue): Promise<string | undefined> {
  let reader = new LineReader(dialogue.socket, dialogue.settings.maxLineBytes);
  for (const [i, step] of steps.entries()) {
    let line: string | undefined;
    if (step.expect !== undefined) {
      dialogue.steps.current = `query_response ${i + 1}: waiting for /${step.expect}/`;
      line = await awaitLine(reader, step.expect, dialogue);
      if (line === undefined) {
        dialogue.failedDueToRegex = 1;
        return `query_response ${i + 1}: /${step.expect}/ not found before the connection closed`;
      }
      dialogue.failedDueToRegex = 0;
    }
    if (step.send !== undefined && step.send !== '') {
      dialogue.steps.current = `query_response ${i + 1}: sending`;
      dialogue.socket.write(`${expandSend(step.send, step.expect, line)}\n`);
    }
    if (step.starttls) {
      dialogue.steps.current = `query_response ${i + 1}: starttls`;
      reader.detach();
      const options = await nodeTlsOptions(dialogue.config.tls_config, dialogue.host);
      const secure = await startTls(dialogue.socket, options, dialogue.signal);
      dialogue.socket = secure;
      dialogue.tls = tlsFacts(secure);
      reader = new LineReader(dialogue.socket, dialogue.settings.maxLineBytes);
    }
  }
  reader.detach();
  return undefined;
}

async function probeTcp(request: ProbeRequest, settings: Settings, steps: ProbeSteps): Promise<ProbeOutcome> {
  const config = probeSection(request.module.tcp, tcpProbeSchema);
  const target = splitHostPort(request.target);
  if (!target)
    return { failure: `target must be host:port, got ${JSON.stringify(request.target)}`, samples: [] };
  const { signal } = request;
  steps.current = 'resolve';
  const resolution = await resolveTarget(settings.guard, target.host, config, signal);
  const regexSample = (dialogue?: Dialogue) =>
    sample('probe_failed_due_to_regex', dialogue?.failedDueToRegex ?? 0);
  if (!resolution.address) {
    return { failure: steps.failure(resolution.error), samples: [...resolution.samples, regexSample()] };
  }
  let dialogue: Dialogue | undefined;
  let connected: TlsFacts | undefined;
  let failure: string | undefined;
  const sockets: Socket[] = [];
  try {
    steps.current = 'connect';
    let socket = await connectTcp(resolution.address, target.port, signal, config.source_ip_address);
    sockets.push(socket);
    if (config.tls) {
      steps.current = 'tls handshake';
      const secure = await startTls(socket, await nodeTlsOptions(config.tls_config, target.host), signal);
      sockets.push(secure);
      connected = tlsFacts(secure);
      socket = secure;
    }
    dialogue = { socket, host: target.host, config, settings, signal, steps, failedDueToRegex: 0 };
    failure = await converse(config.query_response, dialogue);
  } catch (err) {
    failure = err instanceof RegexpTimeoutError ? err.message : steps.failure(err);
  } finally {
    closeAll([...sockets, ...(dialogue ? [dialogue.socket] : [])]);
  }
  const tls = dialogue?.tls ?? connected;
  return {
    ...(failure !== undefined && { failure }),
    samples: [...resolution.samples, regexSample(dialogue), ...(tls?.samples ?? [])],
    ...(tls?.earliestExpiryMs !== undefined && { certificateExpiresAtMs: tls.earliestExpiryMs }),
  };
}

export function createTcpProber(options: TcpProberOptions): Prober {
  const { clock, ...rest } = options;
  const settings: Settings = { ...TCP_PROBER_DEFAULTS, ...rest };
  return (request) => runProbe(request, clock, (steps) => probeTcp(request, settings, steps));
}
