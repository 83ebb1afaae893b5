import { describe, expect, it } from 'vitest';
import { type GaugeSeries, Metrics } from './metrics.ts';

const definition = { type: 'gauge', name: 'test_series', help: 'Series of a test' } as const;

describe('series gauges', () => {
  it('export what their source returns at each scrape, with label names of their own', async () => {
    const metrics = new Metrics({ defaults: false });
    let series: GaugeSeries[] = [{ labels: { job: 'a', instance: 'x' }, value: 1 }];
    metrics.seriesGauge(definition, () => series);
    expect(await metrics.text()).toContain('lookout_test_series{job="a",instance="x"} 1');
    series = [{ labels: { namespace: 'shop', value: 'with "quotes"' }, value: 2 }];
    const text = await metrics.text();
    expect(text).toContain('lookout_test_series{namespace="shop",value="with \\"quotes\\""} 2');
    expect(text).not.toContain('job="a"');
  });

  it('take the source of the latest asker, as after a reload', async () => {
    const metrics = new Metrics({ defaults: false });
    metrics.seriesGauge(definition, () => [{ labels: { run: 'old' }, value: 1 }]);
    metrics.seriesGauge(definition, () => [{ labels: { run: 'new' }, value: 2 }]);
    const text = await metrics.text();
    expect(text).toContain('lookout_test_series{run="new"} 2');
    expect(text).not.toContain('old');
  });

  it('refuse a name that a plain gauge has', () => {
    const metrics = new Metrics({ defaults: false });
    metrics.gauge(definition);
    expect(() => metrics.seriesGauge(definition, () => [])).toThrow(/not a series gauge/);
  });
});
