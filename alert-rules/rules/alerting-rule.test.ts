import { describe, expect, it } from 'vitest';
import type { AlertingRuleSpec, Sample } from '../types.ts';
import { AlertingRule } from './alerting-rule.ts';
import { fakeRender, ScriptedQueryApi } from './fixtures/fakes.ts';
import { highLoadRule, LOAD_EXPR, loadOf, MIN } from './fixtures/specs.ts';
import type { TemplateRenderer } from './template-renderer.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const EXPR = LOAD_EXPR;

function makeRule(spec: Partial<AlertingRuleSpec> = {}, render: TemplateRenderer = fakeRender) {
  const api = new ScriptedQueryApi();
  const rule = new AlertingRule(
    highLoadRule({ forMs: 5 * MIN, ...spec }),
    { team: 'infra' },
    { render, externalLabels: {}, externalURL: '', resolvedRetentionMs: 15 * MIN, queryApi: api },
  );
  const evaluate = async (atMs: number, answer: Sample[] | Error, limit = 0) => {
    api.answer(EXPR, answer);
    const series = await rule.evaluate({
      timeMs: atMs,
      queryOffsetMs: 0,
      limit,
      query: (expr, t, signal) => api.query(expr, t, signal),
      signal: new AbortController().signal,
    });
    rule.lastEvaluationMs = atMs;
    return series;
  };
  return { rule, api, evaluate };
}

describe('AlertingRule state machine', () => {
  it('goes pending, fires after `for`, resolves, is kept 15 minutes, and a return is a new alert', async () => {
    const { rule, evaluate } = makeRule();
    await evaluate(T0, [loadOf('a')]);
    expect(rule.activeAlerts()).toMatchObject([
      {
        state: 'pending',
        activeAtMs: T0,
        firedAtMs: 0,
        labels: { instance: 'a', alertname: 'HighLoad', severity: 'page', team: 'infra' },
        annotations: { summary: 'load of a is 2' },
      },
    ]);
    expect(rule.activeAlerts()[0]?.labels).not.toHaveProperty('__name__');
    for (let m = 1; m < 5; m++) await evaluate(T0 + m * MIN, [loadOf('a', 3)]);
    expect(rule.state()).toBe('pending');
    await evaluate(T0 + 5 * MIN, [loadOf('a', 4)]);
    expect(rule.activeAlerts()).toMatchObject([
      { state: 'firing', activeAtMs: T0, firedAtMs: T0 + 5 * MIN, value: 4 },
    ]);

    await evaluate(T0 + 6 * MIN, []);
    expect(rule.activeAlerts()).toEqual([]);
    expect(rule.currentAlerts()).toMatchObject([{ state: 'inactive', resolvedAtMs: T0 + 6 * MIN }]);
    expect(rule.state()).toBe('inactive');
    await evaluate(T0 + 21 * MIN, []);
    expect(rule.currentAlerts()).toHaveLength(1);
    await evaluate(T0 + 22 * MIN, []);
    expect(rule.currentAlerts()).toEqual([]);

    await evaluate(T0 + 23 * MIN, [loadOf('a')]);
    await evaluate(T0 + 24 * MIN, []);
    await evaluate(T0 + 25 * MIN, [loadOf('a')]);
    expect(rule.currentAlerts()).toMatchObject([{ state: 'pending', activeAtMs: T0 + 25 * MIN }]);
  });

  it('makes a return during the retention of a resolved alert a new pending alert', async () => {
    const { rule, evaluate } = makeRule();
    for (let m = 0; m <= 5; m++) await evaluate(T0 + m * MIN, [loadOf('a')]);
    await evaluate(T0 + 6 * MIN, []);
    await evaluate(T0 + 7 * MIN, [loadOf('a')]);
    expect(rule.currentAlerts()).toMatchObject([
      { state: 'pending', activeAtMs: T0 + 7 * MIN, firedAtMs: 0, resolvedAtMs: 0 },
    ]);
  });

  it('is in state unknown until its first evaluation', () => {
    expect(makeRule().rule.state()).toBe('unknown');
  });

  it('fires at the first evaluation with `for: 0`', async () => {
    const { rule, evaluate } = makeRule({ forMs: 0 });
    await evaluate(T0, [loadOf('a')]);
    expect(rule.activeAlerts()).toMatchObject([{ state: 'firing', activeAtMs: T0, firedAtMs: T0 }]);
  });

  it('keeps firing for `keep_firing_for` after the condition went, then resolves', async () => {
    const { rule, evaluate } = makeRule({ forMs: 0, keepFiringForMs: 3 * MIN });
    await evaluate(T0, [loadOf('a')]);
    await evaluate(T0 + MIN, []);
    expect(rule.activeAlerts()).toMatchObject([{ state: 'firing', keepFiringSinceMs: T0 + MIN }]);
    await evaluate(T0 + 2 * MIN, [loadOf('a')]);
    expect(rule.activeAlerts()).toMatchObject([{ state: 'firing', keepFiringSinceMs: 0 }]);
    await evaluate(T0 + 3 * MIN, []);
    await evaluate(T0 + 5 * MIN, []);
    expect(rule.activeAlerts()).toMatchObject([{ state: 'firing', keepFiringSinceMs: T0 + 3 * MIN }]);
    await evaluate(T0 + 6 * MIN, []);
    expect(rule.currentAlerts()).toMatchObject([
      { state: 'inactive', resolvedAtMs: T0 + 6 * MIN, keepFiringSinceMs: T0 + 3 * MIN },
    ]);
  });

  it('clears every alert of the rule and fails when the group limit is exceeded', async () => {
    const { rule, evaluate } = makeRule({ forMs: 0 });
    await evaluate(T0, [loadOf('a'), loadOf('b')], 2);
    expect(rule.activeAlerts()).toHaveLength(2);
    await expect(evaluate(T0 + MIN, [loadOf('a'), loadOf('b'), loadOf('c')], 2)).rejects.toThrow(
      'exceeded limit of 2 with 3 alerts',
    );
    expect(rule.currentAlerts()).toEqual([]);
  });

  it('leaves its state exactly as it was when the query fails', async () => {
    const { rule, evaluate } = makeRule({ forMs: 2 * MIN });
    await evaluate(T0, [loadOf('a')]);
    await evaluate(T0 + 2 * MIN, [loadOf('a')]);
    const before = rule.currentAlerts();
    await expect(evaluate(T0 + 3 * MIN, new Error('bad_data: parse error'))).rejects.toThrow('parse error');
    expect(rule.currentAlerts()).toEqual(before);
  });

  it('fails on label sets made equal by the alert labels, without touching its state', async () => {
    const { rule, evaluate } = makeRule({ labels: { instance: 'all' } });
    await evaluate(T0, [loadOf('a')]);
    const before = rule.currentAlerts();
    await expect(evaluate(T0 + MIN, [loadOf('a'), loadOf('b')])).rejects.toThrow(
      'vector contains metrics with the same labelset after applying alert labels',
    );
    expect(rule.currentAlerts()).toEqual(before);
  });

  it('keeps evaluating when a template fails, with the error text in its place', async () => {
    const failing: TemplateRenderer = async (name, text, context) => {
      if (text.startsWith('boom')) throw new Error('renderer crashed');
      return fakeRender(name, text, context);
    };
    const { rule, evaluate } = makeRule(
      { annotations: { summary: '{{ broken }}', description: 'boom', runbook: 'r/{{ $labels.instance }}' } },
      failing,
    );
    await evaluate(T0, [loadOf('a')]);
    expect(rule.activeAlerts()[0]?.annotations).toEqual({
      summary: '<error expanding template: function "broken" not defined>',
      description: '<error expanding template: renderer crashed>',
      runbook: 'r/a',
    });
  });

  it('drops a label whose template expands to nothing', async () => {
    const { rule, evaluate } = makeRule({ labels: { severity: '{{ $labels.missing }}' } });
    await evaluate(T0, [loadOf('a')]);
    expect(rule.activeAlerts()[0]?.labels).toEqual({ alertname: 'HighLoad', instance: 'a', team: 'infra' });
  });

  it('returns the ALERTS and ALERTS_FOR_STATE samples of its pending and firing alerts', async () => {
    const { evaluate } = makeRule({ forMs: MIN });
    const series = await evaluate(T0 + 500, [loadOf('a')]);
    expect(series).toEqual([
      {
        labels: {
          __name__: 'ALERTS',
          alertname: 'HighLoad',
          alertstate: 'pending',
          instance: 'a',
          severity: 'page',
          team: 'infra',
        },
        value: 1,
        timeMs: T0 + 500,
      },
      {
        labels: {
          __name__: 'ALERTS_FOR_STATE',
          alertname: 'HighLoad',
          instance: 'a',
          severity: 'page',
          team: 'infra',
        },
        value: T0 / 1000,
        timeMs: T0 + 500,
      },
    ]);
  });

  it('sends firing alerts, resends after more than the resend delay, and sends a resolve at once', async () => {
    const { rule, evaluate } = makeRule({ forMs: MIN });
    const send = (at: number) => rule.takeAlertsToSend(at, MIN, MIN);
    await evaluate(T0, [loadOf('a')]);
    expect(send(T0)).toEqual([]);
    await evaluate(T0 + MIN, [loadOf('a')]);
    expect(send(T0 + MIN)).toMatchObject([{ state: 'firing', validUntilMs: T0 + 5 * MIN }]);
    expect(send(T0 + 2 * MIN)).toEqual([]);
    expect(send(T0 + 3 * MIN)).toHaveLength(1);
    await evaluate(T0 + 4 * MIN, []);
    expect(send(T0 + 4 * MIN)).toMatchObject([{ state: 'inactive', resolvedAtMs: T0 + 4 * MIN }]);
    expect(send(T0 + 5 * MIN)).toEqual([]);
    expect(send(T0 + 6 * MIN)).toHaveLength(1);
  });

  it('sends every alert held again, firing and resolved, once told to (a new receiver)', async () => {
    const { rule, evaluate } = makeRule({ forMs: 0 });
    const send = (at: number) => rule.takeAlertsToSend(at, MIN, MIN);
    await evaluate(T0, [loadOf('a'), loadOf('b')]);
    expect(send(T0)).toHaveLength(2);
    await evaluate(T0 + 10_000, [loadOf('a')]);
    expect(send(T0 + 10_000)).toMatchObject([{ labels: { instance: 'b' }, resolvedAtMs: T0 + 10_000 }]);
    expect(send(T0 + 20_000)).toEqual([]);
    rule.sendAllAgain();
    expect(send(T0 + 20_000).map((a) => [a.labels.instance, a.state])).toEqual([
      ['a', 'firing'],
      ['b', 'inactive'],
    ]);
    expect(send(T0 + 30_000)).toEqual([]);
  });
});
