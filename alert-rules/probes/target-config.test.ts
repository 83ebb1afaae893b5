import { describe, expect, it } from 'vitest';
import { MODULES, testTarget } from './fixtures/fakes.ts';
import { probeSchedulerSchema, probeTargetSchema, resolveProbeTarget } from './target-config.ts';

describe('probe targets', () => {
  it('fills in the defaults, the timeout from the module', () => {
    expect(testTarget('shop')).toEqual({
      id: 'shop',
      target: 'https://shop.example/',
      moduleName: 'http_2xx',
      module: MODULES.get('http_2xx'),
      intervalMs: 60_000,
      timeoutMs: 5_000,
      labels: {},
      failuresBeforeDown: 2,
      successesBeforeUp: 1,
      flapping: { stateChanges: 4, probes: 20 },
      certificateExpiryDays: [21, 14, 7],
      receivers: [],
      locations: [],
      locationsDown: 1,
    });
  });

  it('makes a target of several locations down at a majority of them unless it says how many', () => {
    const three = ['hangzhou-outside', 'beijing-outside', 'shanghai-outside'];
    expect(testTarget('shop', { locations: three }).locationsDown).toBe(2);
    expect(testTarget('shop', { locations: three.slice(0, 2) }).locationsDown).toBe(2);
    expect(testTarget('shop', { locations: three, locationsDown: 3 }).locationsDown).toBe(3);
  });

  it('never lets the timeout exceed the interval', () => {
    expect(testTarget('shop', { interval: '2s' }).timeoutMs).toBe(2_000);
    expect(testTarget('shop', { interval: '30s', timeout: '1m' }).timeoutMs).toBe(30_000);
    expect(testTarget('shop', { timeout: '500ms' }).timeoutMs).toBe(500);
  });

  it('generates an id for a target without a name', () => {
    const spec = probeTargetSchema().parse({ target: 'db:5432', module: 'tcp_connect' });
    expect(resolveProbeTarget(spec, MODULES).id).toMatch(/^probe-[0-9a-f]{16}$/);
  });

  it('refuses an unknown module, naming the known ones', () => {
    const spec = probeTargetSchema().parse({ target: 'db:5432', module: 'icmp' });
    expect(() => resolveProbeTarget(spec, MODULES)).toThrow(
      'unknown probe module "icmp" (known: http_2xx, tcp_connect)',
    );
  });

  it.each([
    [{ name: '../etc' }, 'expected letters'],
    [{ interval: '500ms' }, 'expected between 1s and 1d'],
    [
      { labels: { probe: 'x' } },
      'the probe alerts set alertname, instance, probe, receiver, days themselves',
    ],
    [{ labels: { 'bad-name': 'x' } }, 'expected a label name'],
    [{ failuresBeforeDown: 0 }, '>=1'],
    [{ certificateExpiryDays: [0] }, '>=1'],
    [{ target: 'https://admin:s3cret@shop.example/' }, 'credentials in the target are not accepted'],
    [{ locations: ['a', 'a'] }, 'a location is listed twice'],
    [{ locations: ['a b'] }, 'expected letters'],
    [{ locations: ['a', 'b'], locationsDown: 3 }, 'expected at most as many as the locations listed'],
    [{ locationsDown: 1 }, 'expected at most as many as the locations listed'],
  ])('refuses %j', (input, message) => {
    const parsed = probeTargetSchema().safeParse({ target: 'db:5432', module: 'tcp_connect', ...input });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.message).toContain(message);
    expect(parsed.error?.message).not.toContain('s3cret');
  });

  it('bounds labels and receivers by the limits', () => {
    const limits = probeSchedulerSchema.parse({
      targetLimits: { maxLabels: 1, maxReceivers: 1 },
    }).targetLimits;
    const schema = probeTargetSchema(limits);
    const base = { target: 'db:5432', module: 'tcp_connect' };
    expect(schema.safeParse({ ...base, labels: { a: '1', b: '2' } }).error?.message).toContain(
      'at most 1 labels',
    );
    expect(schema.safeParse({ ...base, receivers: ['a', 'b'] }).success).toBe(false);
    expect(schema.safeParse({ ...base, labels: { a: '1' }, receivers: ['a'] }).success).toBe(true);
  });
});
