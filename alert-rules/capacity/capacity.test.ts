import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/fixtures/manual-clock.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import { evalTimestamp } from '../rules/eval-timestamp.ts';
import { MemoryRemoteWriter, RecordingNotifier } from '../rules/fixtures/fakes.ts';
import { RuleManager } from '../rules/rule-manager.ts';
import { expandTemplate } from '../rules/template/expand.ts';
import type { Labels, QueryApi, Sample } from '../types.ts';
import { CapacityRecommender } from './capacity.ts';
import { capacitySchema } from './config.ts';
import { CAPACITY_RULE_FILE, DEFAULT_ANNOTATIONS } from './off-recommendation-rule.ts';

const START = Date.parse('2026-03-01T10:00:00Z');
const MINUTE = 60_000;
const DEMAND = 'sum by (namespace, deployment) (rate(http_requests_total[5m]))';
const REPLICAS = 'kube_deployment_spec_replicas';
const CHECKOUT = { namespace: 'shop', deployment: 'checkout' };
const CART = { namespace: 'shop', deployment: 'cart' };

/** Answers each expression with what the test last set for it. */
class ScriptedQueries implements QueryApi {
  readonly answers = new Map<string, Sample[] | Error>();
  readonly times: number[] = [];

  async query(expr: string, timeMs: number): Promise<Sample[]> {
    this.times.push(timeMs);
    const answer = this.answers.get(expr) ?? [];
    if (answer instanceof Error) throw answer;
    return answer;
  }

  set(expr: string, ...samples: [Labels, number][]): void {
    this.answers.set(
      expr,
      samples.map(([labels, value]) => ({ labels, value })),
    );
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const silent = createLogger({ level: 'silent' });

let running: CapacityRecommender | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function start(recommendation: Record<string, unknown> = {}, query?: QueryApi) {
  const config = capacitySchema.parse([
    {
      name: 'checkout-rps',
      expr: DEMAND,
      perReplica: 50,
      min: 2,
      max: 40,
      interval: '1m',
      ...recommendation,
    },
  ]);
  const queries = new ScriptedQueries();
  const clock = new ManualClock(START);
  const metrics = new Metrics({ defaults: false });
  running = new CapacityRecommender({ config, query: query ?? queries, metrics, log: silent, clock });
  const recommender = running;
  /** The recommendations after an evaluation with these answers, `ms` after the last one. */
  const evaluate = async (ms = MINUTE) => {
    if (queries.times.length === 0) {
      recommender.start();
      await settle();
    } else {
      await clock.advance(ms);
    }
    return recommender.list();
  };
  const metric = async (series: string) => {
    const line = (await metrics.text()).split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  };
  return { queries, clock, metrics, recommender, evaluate, metric };
}

describe('capacity recommendations', () => {
  it('recommends per workload from demand and running replicas, and exports the recommendation', async () => {
    const { queries, evaluate, metrics } = await start();
    queries.set(DEMAND, [CHECKOUT, 520], [CART, 30]);
    queries.set(REPLICAS, [{ ...CHECKOUT, job: 'kube-state-metrics', instance: 'ksm:8080' }, 10]);
    expect(await evaluate()).toEqual([
      {
        name: 'checkout-rps',
        labels: CHECKOUT,
        total: 520,
        perReplica: 50,
        recommended: 10,
        running: 10,
        since: '2026-03-01T10:00:00.000Z',
      },
      {
        name: 'checkout-rps',
        labels: CART,
        total: 30,
        perReplica: 50,
        recommended: 2,
        running: null,
        since: '2026-03-01T10:00:00.000Z',
      },
    ]);
    const text = await metrics.text();
    expect(text).toContain(
      'lookout_recommended_replicas{namespace="shop",deployment="checkout",recommendation="checkout-rps"} 10',
    );
    expect(text).toContain(
      'lookout_recommended_replicas{namespace="shop",deployment="cart",recommendation="checkout-rps"} 2',
    );
  });

  it('evaluates every interval at the scheduled times, and stops', async () => {
    const { queries, evaluate, clock, recommender } = await start({ interval: '30s' });
    await evaluate();
    await clock.advance(95_000);
    expect(queries.times).toEqual([0, 0, 1, 1, 2, 2, 3, 3].map((n) => START + n * 30_000));
    await recommender.stop();
    await clock.advance(5 * MINUTE);
    expect(queries.times).toHaveLength(8);
  });

  it('stops while a query waits, without counting it as failed', async () => {
    const waiting: QueryApi = {
      query: (_expr, _time, signal) =>
        new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason))),
    };
    const { recommender, metric } = await start({}, waiting);
    recommender.start();
    await settle();
    await recommender.stop();
    expect(
      await metric('lookout_capacity_query_failures_total{recommendation="checkout-rps",query="demand"}'),
    ).toBe(undefined);
  });

  it('moves `since` only when the recommendation changes', async () => {
    const { queries, evaluate } = await start();
    queries.set(DEMAND, [CHECKOUT, 500]);
    await evaluate();
    queries.set(DEMAND, [CHECKOUT, 480]);
    expect((await evaluate())[0]).toMatchObject({ recommended: 10, since: '2026-03-01T10:00:00.000Z' });
    queries.set(DEMAND, [CHECKOUT, 600]);
    expect((await evaluate())[0]).toMatchObject({ recommended: 12, since: '2026-03-01T10:02:00.000Z' });
  });

  it('keeps the running count within tolerance and recommends afresh outside it', async () => {
    const { queries, evaluate } = await start({ tolerance: 0.2 });
    queries.set(REPLICAS, [CHECKOUT, 10]);
    queries.set(DEMAND, [CHECKOUT, 590]);
    expect((await evaluate())[0]).toMatchObject({ recommended: 10, running: 10 });
    queries.set(DEMAND, [CHECKOUT, 610]);
    expect((await evaluate())[0]).toMatchObject({ recommended: 13, running: 10 });
  });

  it('keeps the last recommendation while a query fails, and counts the failures', async () => {
    const { queries, evaluate, metric } = await start();
    queries.set(DEMAND, [CHECKOUT, 500]);
    await evaluate();
    queries.answers.set(DEMAND, new Error('bad_data: parse error'));
    expect((await evaluate())[0]).toMatchObject({ total: 500, recommended: 10 });
    queries.set(DEMAND, [CHECKOUT, 100]);
    queries.answers.set(REPLICAS, new Error('timeout'));
    expect((await evaluate())[0]).toMatchObject({ total: 500, recommended: 10 });
    expect(
      await metric('lookout_capacity_query_failures_total{recommendation="checkout-rps",query="demand"}'),
    ).toBe(1);
    expect(
      await metric('lookout_capacity_query_failures_total{recommendation="checkout-rps",query="replicas"}'),
    ).toBe(1);
    queries.set(REPLICAS);
    expect((await evaluate())[0]).toMatchObject({ total: 100, recommended: 2 });
  });

  it('keeps the last recommendation of a workload whose demand is NaN, infinite or negative', async () => {
    const { queries, evaluate, metric } = await start();
    queries.set(DEMAND, [CHECKOUT, 500], [CART, 200]);
    await evaluate();
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -1]) {
      queries.set(DEMAND, [CHECKOUT, bad], [CART, 300]);
      const [checkout, cart] = await evaluate();
      expect(checkout).toMatchObject({ labels: CHECKOUT, total: 500, recommended: 10 });
      expect(cart).toMatchObject({ labels: CART, total: 300, recommended: 6 });
    }
    expect(
      await metric(
        'lookout_capacity_skipped_values_total{recommendation="checkout-rps",reason="demand_invalid"}',
      ),
    ).toBe(3);
  });

  it('takes replicas that are no count, or that disagree, as unknown', async () => {
    const { queries, evaluate, metric } = await start();
    queries.set(DEMAND, [CHECKOUT, 520], [CART, 520]);
    queries.set(
      REPLICAS,
      [CHECKOUT, 10.5],
      [{ ...CART, instance: 'a' }, 10],
      [{ ...CART, instance: 'b' }, 11],
    );
    const [checkout, cart] = await evaluate();
    expect(checkout).toMatchObject({ recommended: 11, running: null });
    expect(cart).toMatchObject({ recommended: 11, running: null });
    const skipped = 'lookout_capacity_skipped_values_total{recommendation="checkout-rps",reason=';
    expect(await metric(`${skipped}"replicas_invalid"}`)).toBe(1);
    expect(await metric(`${skipped}"replicas_ambiguous"}`)).toBe(1);
    // Two exporters that agree are one answer.
    queries.set(REPLICAS, [{ ...CART, instance: 'a' }, 10], [{ ...CART, instance: 'b' }, 10]);
    expect((await evaluate())[1]).toMatchObject({ recommended: 10, running: 10 });
  });

  it('leaves the metric name out of the workload labels', async () => {
    const { queries, evaluate, metrics } = await start();
    queries.set(DEMAND, [{ __name__: 'shop_demand', ...CHECKOUT }, 500]);
    queries.set(REPLICAS, [{ __name__: REPLICAS, ...CHECKOUT }, 10]);
    expect((await evaluate())[0]).toMatchObject({ labels: CHECKOUT, running: 10 });
    expect(await metrics.text()).not.toContain('__name__');
  });

  it('forgets a workload that leaves the demand', async () => {
    const { queries, evaluate, metrics } = await start();
    queries.set(DEMAND, [CHECKOUT, 500], [CART, 200]);
    await evaluate();
    queries.set(DEMAND, [CART, 200]);
    expect((await evaluate()).map((r) => r.labels)).toEqual([CART]);
    expect(await metrics.text()).not.toContain('deployment="checkout"');
  });
});

describe('the off-recommendation alert', () => {
  const alert = {
    for: '5m',
    labels: { severity: 'warning' },
    annotations: { summary: 'checkout runs off its recommended replica count' },
  };
  const OFF = 'lookout_capacity_off_recommendation{recommendation="checkout-rps"}';
  const RUNNING = 'lookout_capacity_running_replicas';

  it('is a rule group of its own per recommendation with an alert', async () => {
    const { recommender } = await start({ alert });
    expect(recommender.ruleGroups()).toEqual([
      {
        file: CAPACITY_RULE_FILE,
        name: 'checkout-rps',
        intervalMs: MINUTE,
        limit: 0,
        queryOffsetMs: 0,
        labels: {},
        rules: [
          {
            kind: 'alerting',
            alert: 'LookoutReplicasOffRecommendation',
            expr: OFF,
            forMs: 5 * MINUTE,
            keepFiringForMs: 0,
            labels: { severity: 'warning' },
            annotations: {
              ...DEFAULT_ANNOTATIONS,
              summary: 'checkout runs off its recommended replica count',
            },
          },
        ],
      },
    ]);
    await running?.stop();
    expect((await start()).recommender.ruleGroups()).toEqual([]);
  });

  it('queries synthetic series of the workloads off the recommendation and of the running replicas', async () => {
    const { queries, evaluate, recommender } = await start({ alert });
    const ORDERS = { namespace: 'shop', deployment: 'orders' };
    queries.set(DEMAND, [CHECKOUT, 1000], [CART, 100], [ORDERS, 100]);
    // checkout runs too few, cart within tolerance, orders unknown.
    queries.set(REPLICAS, [CHECKOUT, 10], [CART, 2]);
    await evaluate();
    const api = recommender.queryApi(queries);
    const of = (labels: Labels, value: number) => ({
      labels: { ...labels, recommendation: 'checkout-rps' },
      value,
    });
    expect(await api.query(OFF, 0)).toEqual([of(CHECKOUT, 20)]);
    expect(await api.query(` ${RUNNING} { recommendation = "checkout-rps" , } `, 0)).toEqual([
      of(CHECKOUT, 10),
      of(CART, 2),
    ]);
    expect(await api.query(`${RUNNING}{deployment="cart",namespace="shop"}`, 0)).toEqual([of(CART, 2)]);
    expect(await api.query(`${RUNNING}{recommendation="other"}`, 0)).toEqual([]);
    expect(await api.query(RUNNING, 0)).toHaveLength(2);
    // Anything but a plain selector of a synthetic series goes on.
    queries.set(`${RUNNING}{deployment=~"c.*"}`, [CART, 7]);
    expect(await api.query(`${RUNNING}{deployment=~"c.*"}`, 0)).toEqual([{ labels: CART, value: 7 }]);
    expect(await api.query(REPLICAS, 0)).toEqual([
      { labels: CHECKOUT, value: 10 },
      { labels: CART, value: 2 },
    ]);
  });

  it('fails its query, so the alert holds its state, before the first answer and while queries fail', async () => {
    const { queries, evaluate, recommender } = await start({ alert });
    const api = recommender.queryApi(queries);
    await expect(api.query(OFF, 0)).rejects.toThrow(
      'the recommendation checkout-rps has no current answer: its queries failed or have not run yet',
    );
    queries.set(DEMAND, [CHECKOUT, 1000]);
    queries.set(REPLICAS, [CHECKOUT, 10]);
    await evaluate();
    expect(await api.query(OFF, 0)).toHaveLength(1);
    queries.answers.set(REPLICAS, new Error('timeout'));
    await evaluate();
    await expect(api.query(OFF, 0)).rejects.toThrow('no current answer');
  });

  it('goes pending, firing and resolved on the rule manager, with the counts in its annotations', async () => {
    const { queries, clock, evaluate, recommender } = await start({ alert: { for: '5m' } });
    const dataDir = await mkdtemp(join(tmpdir(), 'capacity-rules-'));
    const notifier = new RecordingNotifier();
    const rules = new RuleManager({
      queryApi: recommender.queryApi(queries),
      remoteWriter: new MemoryRemoteWriter(),
      notifier,
      render: expandTemplate,
      clock,
      log: silent,
      metrics: new Metrics({ defaults: false }),
      dataDir,
    });
    try {
      queries.set(DEMAND, [CHECKOUT, 1000]);
      queries.set(REPLICAS, [CHECKOUT, 10]);
      await evaluate();
      await rules.start(recommender.ruleGroups());
      const first = evalTimestamp(CAPACITY_RULE_FILE, 'checkout-rps', MINUTE, clock.now()) + MINUTE;
      const at = (minutes: number) => new Date(first + minutes * MINUTE).toISOString();
      const state = () => rules.alerts().alerts.map((a) => a.state);
      await clock.advance(first - clock.now());
      expect(state()).toEqual(['pending']);
      await clock.advance(4 * MINUTE);
      expect(notifier.take()).toEqual([]);

      await clock.advance(MINUTE);
      expect(state()).toEqual(['firing']);
      expect(notifier.take()).toEqual([
        {
          labels: {
            ...CHECKOUT,
            alertname: 'LookoutReplicasOffRecommendation',
            recommendation: 'checkout-rps',
          },
          annotations: {
            summary:
              'Replicas of deployment=checkout namespace=shop: 10 running, 20 recommended (checkout-rps)',
            recommended_replicas: '20',
            running_replicas: '10',
          },
          startsAt: at(5),
          endsAt: at(9),
          generatorURL: expect.any(String),
        },
      ]);

      queries.set(REPLICAS, [CHECKOUT, 20]);
      await clock.advance(MINUTE);
      expect(state()).toEqual([]);
      expect(notifier.take()).toEqual([expect.objectContaining({ startsAt: at(5), endsAt: at(6) })]);
    } finally {
      await rules.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('capacity configuration', () => {
  const valid = { name: 'checkout-rps', expr: DEMAND, perReplica: 50, max: 40 };

  it('fills in the defaults', () => {
    expect(capacitySchema.parse([{ ...valid, alert: {} }])).toEqual([
      {
        ...valid,
        min: 1,
        tolerance: 0.1,
        interval: MINUTE,
        replicasExpr: 'kube_deployment_spec_replicas',
        alert: {
          name: 'LookoutReplicasOffRecommendation',
          for: 30 * MINUTE,
          labels: {},
          annotations: {},
        },
      },
    ]);
    expect(capacitySchema.parse(undefined)).toEqual([]);
  });

  it.each([
    ['perReplica 0', { perReplica: 0 }],
    ['a negative perReplica', { perReplica: -5 }],
    ['an infinite perReplica', { perReplica: Number.POSITIVE_INFINITY }],
    ['min above max', { min: 5, max: 4 }],
    ['a fractional min', { min: 1.5 }],
    ['a tolerance above 1', { tolerance: 2 }],
    ['an interval under a second', { interval: '100ms' }],
    ['an empty expression', { expr: '' }],
    ['a bad alert label name', { alert: { labels: { 'bad-name': 'x' } } }],
    ['a broken annotation template', { alert: { annotations: { summary: '{{ $value' } } }],
    ['an unknown field', { perReplicas: 5 }],
  ])('refuses %s', (_, change) => {
    expect(capacitySchema.safeParse([{ ...valid, ...change }]).success).toBe(false);
  });

  it('refuses a name used twice', () => {
    const result = capacitySchema.safeParse([valid, valid]);
    expect(result.error?.issues[0]?.message).toBe('the name checkout-rps is used twice');
  });
});
