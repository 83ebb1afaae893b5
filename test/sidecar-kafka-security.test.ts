import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KAFKA_SECURITY_ENV, kafkaSecurity } from './infra/control.ts';
import { kafkaMessages } from './support/log-stores.ts';
import { eventually, LookoutProcess, writeConfig } from './support/lookout-process.ts';
import { gapsAndRepeats, NumberedWriter, ranges, sequenceNumbers } from './support/numbered-writer.ts';

const running: LookoutProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.kill();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

// As an operator would give them: the file names variables, the sidecar's environment holds the values.
const username = `\${${KAFKA_SECURITY_ENV.username}}`;
const password = `\${${KAFKA_SECURITY_ENV.password}}`;
const WRONG_PASSWORD = `wrong-${randomBytes(12).toString('hex')}`;

interface Run {
  run: string;
  topic: string;
  writer: NumberedWriter;
  sidecar: LookoutProcess;
  address: string;
}

/** A sidecar shipping <dir>/logs/app.log to a topic of its own through a Kafka sink with these settings. */
async function startRun(name: string, kafka: Record<string, unknown>): Promise<Run> {
  const run = `${name}${Date.now().toString(36)}`;
  const dir = await mkdtemp(join(tmpdir(), `lookout-${name}-`));
  dirs.push(dir);
  await mkdir(join(dir, 'logs'));
  const sink = { topic: 'it-{kubernetes.namespace}', ...kafka };
  const file = await writeConfig(
    dir,
    `
http: { listen: "127.0.0.1:0", auth: { enabled: false } }
dataDir: ${join(dir, 'data')}
shutdown: { timeout: 20s }
sidecar:
  inputs:
    - paths: ["${join(dir, 'logs', 'app.log')}"]
      parser: { type: none }
  scanInterval: 200ms
  batchBytes: 64KiB
  retry: { initial: 100ms, max: 2s }
  sinks:
    kafka: ${JSON.stringify(sink)}
`,
  );
  const sidecar = new LookoutProcess('sidecar', file, { env: { POD_NAMESPACE: run, POD_NAME: 'app-0' } });
  running.push(sidecar);
  const writer = new NumberedWriter(join(dir, 'logs'), run);
  await writer.write(1);
  return { run, topic: `it-${run}`, writer, sidecar, address: await sidecar.start() };
}

/** Reads the topic over the plain listener of the same broker: every number written is there. */
async function expectAllInKafka(r: Run): Promise<void> {
  const total = r.writer.written;
  const enough = (messages: string[]) => new Set(sequenceNumbers(messages, r.run)).size >= total;
  // Until the sidecar's first delivery the topic does not exist, and subscribing to it fails.
  const messages = await eventually(
    () => kafkaMessages(r.topic, enough, 90_000),
    () => true,
    `topic ${r.topic}`,
    30_000,
  );
  const numbers = sequenceNumbers(messages, r.run);
  const { missing } = gapsAndRepeats(numbers, total);
  expect(ranges(missing), `missing of ${total}\n${r.sidecar.tail(20)}`).toBe('');
}

interface LogLine {
  level?: string;
  msg?: string;
  sink?: string;
  err?: string;
}

function logLines(r: Run): LogLine[] {
  return r.sidecar
    .tail(Number.MAX_SAFE_INTEGER)
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });
}

describe('sidecar Kafka sink with SASL and TLS (real broker)', () => {
  const cases: [string, () => Record<string, unknown>][] = [
    [
      'SASL/PLAIN',
      () => ({
        brokers: kafkaSecurity().saslBrokers,
        sasl: { mechanism: 'plain', username, password },
      }),
    ],
    [
      'SASL/SCRAM-SHA-512',
      () => ({
        brokers: kafkaSecurity().saslBrokers,
        sasl: { mechanism: 'scram-sha-512', username, password },
      }),
    ],
    [
      'TLS with SASL/SCRAM-SHA-256',
      () => ({
        brokers: kafkaSecurity().saslSslBrokers,
        tls: { caFile: kafkaSecurity().caFile },
        sasl: { mechanism: 'scram-sha-256', username, password },
      }),
    ],
  ];

  it.each(cases)(
    'ships every line over %s',
    async (_, settings) => {
      const r = await startRun('kafkasec', settings());
      for (let round = 0; round < 3; round++) {
        await r.writer.write(1_000);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      await expectAllInKafka(r);
      expect((await fetch(`${r.address}/readyz`)).status).toBe(200);
      // A first send to a new topic may meet a leader still being elected; a refusal of the login may not.
      expect(logLines(r).filter((l) => /authentic|SASL|certificate|TLS/i.test(l.err ?? ''))).toEqual([]);
      expect(await r.sidecar.stop()).toBe(0);
    },
    180_000,
  );

  const refusals: [string, () => Record<string, unknown>, RegExp][] = [
    [
      'a wrong SCRAM-SHA-512 password',
      () => ({
        brokers: kafkaSecurity().saslBrokers,
        sasl: { mechanism: 'scram-sha-512', username, password: WRONG_PASSWORD },
      }),
      /authentication failed.*invalid credentials with SASL mechanism SCRAM-SHA-512/i,
    ],
    [
      'a wrong PLAIN password',
      () => ({
        brokers: kafkaSecurity().saslBrokers,
        sasl: { mechanism: 'plain', username, password: WRONG_PASSWORD },
      }),
      /authentication failed.*Invalid username or password/i,
    ],
    [
      'a broker certificate it was not told to trust',
      () => ({
        brokers: kafkaSecurity().saslSslBrokers,
        tls: {},
        sasl: { mechanism: 'scram-sha-256', username, password },
      }),
      /self-signed certificate/,
    ],
  ];

  it.each(refusals)(
    'with %s: fails clearly, reports not ready, keeps running',
    async (_, settings, error) => {
      const r = await startRun('kafkadeny', settings());
      await r.writer.write(100);
      const failing = await eventually(
        async () => logLines(r).filter((l) => l.sink === 'kafka' && l.level === 'warn' && l.err),
        (lines) => lines.length > 0,
        'the Kafka sink to report its failure',
        30_000,
      );
      expect(failing[0]!.err).toMatch(error);
      const ready = await fetch(`${r.address}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ ready: false, checks: { sinks: false } });
      // Several retries later (backoff tops out at 2s) it is still up and still refusing to pretend.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      expect((await fetch(`${r.address}/healthz`)).status).toBe(200);
      expect((await fetch(`${r.address}/readyz`)).status).toBe(503);
      // Checked without printing: a failing expectation would show the password it looked for.
      const output = r.sidecar.tail(Number.MAX_SAFE_INTEGER);
      expect(output.includes(WRONG_PASSWORD), 'the wrong password is in the log').toBe(false);
      expect(output.includes(kafkaSecurity().password), 'the password is in the log').toBe(false);
      expect(await r.sidecar.stop()).toBe(0);
    },
    120_000,
  );
});
