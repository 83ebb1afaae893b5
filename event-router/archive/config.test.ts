import { describe, expect, it } from 'vitest';
import { formatConfigErrors, parseConfig } from '../../core/config.ts';
import { archiveSchema, defaultMaxBuffered } from './config.ts';

describe('archiveSchema', () => {
  it('fills in the defaults for a collector', () => {
    const parsed = parseConfig(archiveSchema, 'collector: { url: "http://collector:8080", token: t0123 }');
    if (!parsed.ok) throw new Error(formatConfigErrors(parsed.errors));
    expect(parsed.value).toEqual({
      collector: { url: 'http://collector:8080', token: 't0123', timeout: 30_000 },
      batchSize: 500,
      batchAge: 1_000,
      retry: { initial: 500, max: 30_000 },
    });
  });

  it("defaults the Elasticsearch index to the collector's daily lookout-logs indices", () => {
    const parsed = parseConfig(archiveSchema, 'elasticsearch: { nodes: ["http://es:9200"] }\nbatchAge: 2s');
    if (!parsed.ok) throw new Error(formatConfigErrors(parsed.errors));
    expect(parsed.value.elasticsearch?.index).toBe('lookout-logs-{yyyy.MM.dd}');
    expect(parsed.value.batchAge).toBe(2_000);
  });

  it('wants exactly one store, and an index pattern with a date', () => {
    for (const yaml of [
      'batchSize: 10',
      'elasticsearch: { nodes: ["http://es:9200"] }\ncollector: { url: "http://c" }',
    ]) {
      const parsed = parseConfig(archiveSchema, yaml);
      expect(parsed.ok ? '' : formatConfigErrors(parsed.errors)).toMatch(/exactly one of "elasticsearch"/);
    }
    const parsed = parseConfig(archiveSchema, 'elasticsearch: { nodes: ["http://es:9200"], index: events }');
    expect(parsed.ok ? '' : formatConfigErrors(parsed.errors)).toMatch(/elasticsearch.index: .*date part/);
  });

  it('buffers 50,000 events by default, fewer under a container memory limit that would not hold them', () => {
    expect(defaultMaxBuffered(undefined)).toBe(50_000);
    expect(defaultMaxBuffered(4 * 1024 ** 3)).toBe(50_000);
    // An eighth of 256 MiB, at 2 KiB an event.
    expect(defaultMaxBuffered(256 * 1024 ** 2)).toBe(16_384);
    expect(defaultMaxBuffered(8 * 1024 ** 2)).toBe(1_000);
  });
});
