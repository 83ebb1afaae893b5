import { describe, expect, it } from 'vitest';
import { createElasticsearchClient, DailyIndex, logIndexTemplate } from './elasticsearch.ts';

describe('DailyIndex', () => {
  const index = new DailyIndex('lookout-logs-{yyyy.MM.dd}');
  const day = Date.UTC(2026, 10, 23) / 86_400_000;

  it('names the UTC day of a time, and reads the day back from the name', () => {
    expect(index.forTime(Date.UTC(2026, 10, 23, 23, 59))).toBe('lookout-logs-2026.11.23');
    expect(index.dayOf('lookout-logs-2026.11.23')).toBe(day);
    expect(index.wildcard).toBe('lookout-logs-*');
  });

  it('refuses names of other patterns under the same wildcard, and impossible dates', () => {
    expect(index.dayOf('lookout-logs-audit-2026.11.23')).toBeUndefined();
    expect(index.dayOf('lookout-logs-2026.13.01')).toBeUndefined();
    expect(index.dayOf('lookout-logs-2026.11.23-restored')).toBeUndefined();
    expect(new DailyIndex('a.b-{dd.MM.yyyy}-x').dayOf('a.b-23.11.2026-x')).toBe(day);
  });

  it('gives more specific patterns a higher template priority, so nested patterns can coexist', () => {
    const outer = logIndexTemplate(new DailyIndex('lookout-logs-{yyyy.MM.dd}'));
    const inner = logIndexTemplate(new DailyIndex('lookout-logs-audit-{yyyy.MM.dd}'));
    expect(inner.priority).toBeGreaterThan(outer.priority);
  });
});

describe('client responses', () => {
  const { serializer } = createElasticsearchClient({
    nodes: ['http://127.0.0.1:9200'],
    requestTimeout: 1_000,
  });

  it('reads no further than errors=false in a bulk answer, and everything else in full', () => {
    const created = JSON.stringify({ errors: false, items: [{ create: { status: 201 } }] });
    expect(serializer.deserialize(created)).toEqual({ errors: false });
    for (const answer of [
      { errors: true, items: [{ create: { status: 400, error: { type: 'mapper_parsing_exception' } } }] },
      { took: 3, errors: false, items: [{ create: { status: 201 } }] },
      { hits: { hits: [{ _source: { message: '{"errors":false,"items":[' } }] } },
    ])
      expect(serializer.deserialize(JSON.stringify(answer))).toEqual(answer);
    expect(() => serializer.deserialize('{"errors":tru')).toThrow();
  });
});
