import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { ConnectionOptions } from 'node:tls';
import { Client } from '@elastic/elasticsearch';
import { Kafka, logLevel, Partitioners, type SASLOptions } from 'kafkajs';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { infraAddress, kafkaBrokers, kafkaSecurity, killServer, startServer } from './infra/control.ts';
import { startElasticsearch } from './infra/elasticsearch.ts';
import { startKafka } from './infra/kafka.ts';

async function eventually<T>(
  what: string,
  attempt: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await delay(250);
  }
  throw new Error(`${what} did not happen within ${timeoutMs}ms`, { cause: lastError });
}

async function getText(url: string): Promise<{ status: number; body: string }> {
  const response = await request(url);
  return { status: response.statusCode, body: await response.body.text() };
}

describe('test infrastructure', () => {
  it('Kafka takes a message and hands it to a consumer', async () => {
    const kafka = new Kafka({ clientId: 'infra-smoke', brokers: kafkaBrokers(), logLevel: logLevel.WARN });
    const topic = `smoke-${randomUUID()}`;
    const admin = kafka.admin();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const consumer = kafka.consumer({ groupId: `smoke-${randomUUID()}` });
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      await producer.connect();
      await producer.send({ topic, messages: [{ key: 'k', value: 'hello kafka' }] });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = new Promise<string>((resolve) => {
        void consumer.run({ eachMessage: async ({ message }) => resolve(message.value?.toString() ?? '') });
      });
      expect(await received).toBe('hello kafka');
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('Kafka authenticates every SASL mechanism, also over TLS, and refuses a wrong password', async () => {
    const security = kafkaSecurity();
    const ca = readFileSync(security.caFile);
    const connects = async (brokers: string[], sasl: SASLOptions, ssl?: ConnectionOptions) => {
      const kafka = new Kafka({ brokers, sasl, ssl, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
      const admin = kafka.admin();
      try {
        await admin.connect();
        return (await admin.describeCluster()).brokers.length === 1;
      } finally {
        await admin.disconnect();
      }
    };
    const { username, password } = security;
    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
      expect(await connects(security.saslBrokers, { mechanism, username, password })).toBe(true);
      expect(await connects(security.saslSslBrokers, { mechanism, username, password }, { ca })).toBe(true);
      await expect(
        connects(security.saslBrokers, { mechanism, username, password: `${password}x` }),
      ).rejects.toThrow(/authentication failed/i);
    }
  });

  it('Elasticsearch indexes a document and finds it', async () => {
    const client = new Client({ node: infraAddress('elasticsearch') });
    const index = `smoke-${randomUUID()}`;
    try {
      await client.index({ index, document: { message: 'hello elasticsearch', level: 'info' } });
      await client.indices.refresh({ index });
      const result = await client.search<{ message: string }>({
        index,
        query: { match: { message: 'elasticsearch' } },
      });
      expect(result.hits.hits.map((hit) => hit._source?.message)).toEqual(['hello elasticsearch']);
    } finally {
      await client.indices.delete({ index, ignore_unavailable: true });
      await client.close();
    }
  });

  it('Prometheus answers an instant query for up', async () => {
    const url = new URL('/api/v1/query', infraAddress('prometheus'));
    url.searchParams.set('query', 'up{job="prometheus"}');
    const result = await eventually('a first scrape of Prometheus itself', async () => {
      const { body } = await getText(url.href);
      const parsed = JSON.parse(body) as { status: string; data: { result: { value: [number, string] }[] } };
      return parsed.data.result.length > 0 ? parsed : undefined;
    });
    expect(result.status).toBe('success');
    expect(result.data.result[0]?.value[1]).toBe('1');
  });

  it('Alertmanager accepts an alert and lists it', async () => {
    const base = infraAddress('alertmanager');
    const alertname = `Smoke${randomUUID().slice(0, 8)}`;
    const posted = await request(new URL('/api/v2/alerts', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels: { alertname, severity: 'info' }, annotations: { summary: 'smoke' } }]),
    });
    await posted.body.dump();
    expect(posted.statusCode).toBe(200);
    const alerts = await eventually('the alert to be listed', async () => {
      const { body } = await getText(new URL(`/api/v2/alerts?filter=alertname="${alertname}"`, base).href);
      const list = JSON.parse(body) as { labels: Record<string, string> }[];
      return list.length > 0 ? list : undefined;
    });
    expect(alerts[0]?.labels.alertname).toBe(alertname);
  });

  it('the blackbox exporter probes Prometheus successfully', async () => {
    const probe = new URL('/probe', infraAddress('blackbox'));
    probe.searchParams.set('module', 'http_2xx');
    probe.searchParams.set('target', `${infraAddress('prometheus')}/-/ready`);
    const { status, body } = await getText(probe.href);
    expect(status).toBe(200);
    expect(body).toMatch(/^probe_success 1$/m);
  });

  it('a shared server can be killed and started again through the control server', async () => {
    const ready = `${infraAddress('blackbox')}/-/ready`;
    await killServer('blackbox');
    await expect(request(ready)).rejects.toThrow();
    await startServer('blackbox');
    expect((await getText(ready)).status).toBe(200);
  });

  it('Elasticsearch and Kafka test servers write their temporary files inside their run directories', async () => {
    // Other JVMs may start on this machine meanwhile, so the system temporary directory is not compared
    // before and after: each JVM of these servers is asked where it writes instead.
    const jvmsOf = (runDir: string) =>
      readdirSync('/proc')
        .filter((pid) => /^\d+$/.test(pid))
        .flatMap((pid) => {
          try {
            const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
            return args[0]?.endsWith('/java') && args.some((arg) => arg.includes(runDir))
              ? [{ pid, args }]
              : [];
          } catch {
            return []; // gone meanwhile
          }
        });
    const servers = await Promise.all([startElasticsearch(), startKafka()]);
    try {
      for (const server of servers) {
        const jvms = jvmsOf(server.runDir);
        // Elasticsearch: the launcher (which writes the final-flags files) and the server.
        expect(jvms.length, server.name).toBeGreaterThanOrEqual(server.name === 'elasticsearch' ? 2 : 1);
        for (const { pid, args } of jvms) {
          expect(args, `${server.name} JVM ${pid}`).toContain(
            `-Djava.io.tmpdir=${join(server.runDir, 'tmp')}`,
          );
          expect(args, `${server.name} JVM ${pid}`).toContain('-XX:-UsePerfData');
          const perfData = readdirSync(tmpdir()).filter((name) => name.startsWith('hsperfdata_'));
          for (const dir of perfData) expect(readdirSync(join(tmpdir(), dir))).not.toContain(pid);
        }
      }
    } finally {
      for (const server of servers) await server.close();
    }
  }, 300_000);
});
