import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/fixtures/manual-clock.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import { alertsData, rulesData } from './api-shapes.ts';
import { fakeRender, MemoryRemoteWriter, RecordingNotifier, ScriptedQueryApi } from './fixtures/fakes.ts';
import { createGroupMetrics } from './group-metrics.ts';
import { RuleGroup } from './group-runner.ts';
import { DEFAULT_RULE_MANAGER_SETTINGS } from './rule-manager.ts';

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const SLOT = Date.parse('2026-12-02T23:58:25.24Z');

/** The groups of a rule file also given to a Prometheus 2.42, whose answers these shapes follow. */
async function evaluatedGroup(): Promise<RuleGroup> {
  const clock = new ManualClock(SLOT);
  const api = new ScriptedQueryApi();
  api.answer('vector(1)', [{ labels: {}, value: 1 }]);
  api.answer('vector(2) > 1', [{ labels: {}, value: 2 }]);
  api.answer('vector(3)', [{ labels: {}, value: 3 }]);
  api.answer('broken(', new Error('bad_data: 1:8: parse error: unclosed left parenthesis'));
  const group = new RuleGroup(
    {
      file: '/srv/lookout-check/rules.yml',
      name: 'fast',
      intervalMs: 10_000,
      limit: 5,
      queryOffsetMs: undefined,
      labels: {},
      rules: [
        { kind: 'recording', record: 'job:one', expr: 'vector(1)', labels: { source: 'check' } },
        {
          kind: 'alerting',
          alert: 'Firing',
          expr: 'vector(2) > 1',
          forMs: 0,
          keepFiringForMs: 60_000,
          labels: { severity: 'page' },
          annotations: { summary: 'value {{ $value }}' },
        },
        {
          kind: 'alerting',
          alert: 'Waiting',
          expr: 'vector(3)',
          forMs: 3_600_000,
          keepFiringForMs: 0,
          labels: {},
          annotations: {},
        },
        { kind: 'recording', record: 'bad', expr: 'broken(', labels: {} },
      ],
    },
    {
      queryApi: api,
      remoteWriter: new MemoryRemoteWriter(),
      notifier: new RecordingNotifier(),
      render: fakeRender,
      clock,
      log: silent,
      metrics: createGroupMetrics(new Metrics({ defaults: false })),
      settings: DEFAULT_RULE_MANAGER_SETTINGS,
      onEvaluated: () => undefined,
    },
  );
  await group.evaluate(SLOT);
  return group;
}

describe('API shapes', () => {
  it("writes /api/v1/rules data as Prometheus's", async () => {
    const evaluation = { evaluationTime: 0, lastEvaluation: '2026-12-02T23:58:25.24Z' };
    expect(rulesData([await evaluatedGroup()])).toEqual({
      groups: [
        {
          name: 'fast',
          file: '/srv/lookout-check/rules.yml',
          rules: [
            {
              name: 'job:one',
              query: 'vector(1)',
              labels: { source: 'check' },
              health: 'ok',
              ...evaluation,
              type: 'recording',
            },
            {
              state: 'firing',
              name: 'Firing',
              query: 'vector(2) > 1',
              duration: 0,
              keepFiringFor: 60,
              labels: { severity: 'page' },
              annotations: { summary: 'value {{ $value }}' },
              alerts: [
                {
                  labels: { alertname: 'Firing', severity: 'page' },
                  annotations: { summary: 'value 2' },
                  state: 'firing',
                  activeAt: '2026-12-02T23:58:25.24Z',
                  value: '2e+00',
                },
              ],
              health: 'ok',
              ...evaluation,
              type: 'alerting',
            },
            {
              state: 'pending',
              name: 'Waiting',
              query: 'vector(3)',
              duration: 3600,
              keepFiringFor: 0,
              labels: {},
              annotations: {},
              alerts: [
                {
                  labels: { alertname: 'Waiting' },
                  annotations: {},
                  state: 'pending',
                  activeAt: '2026-12-02T23:58:25.24Z',
                  value: '3e+00',
                },
              ],
              health: 'ok',
              ...evaluation,
              type: 'alerting',
            },
            {
              name: 'bad',
              query: 'broken(',
              health: 'err',
              lastError: 'bad_data: 1:8: parse error: unclosed left parenthesis',
              ...evaluation,
              type: 'recording',
            },
          ],
          interval: 10,
          limit: 5,
          ...evaluation,
        },
      ],
    });
  });

  it("writes /api/v1/alerts data as Prometheus's", async () => {
    expect(
      alertsData([await evaluatedGroup()]).alerts.map((a) => [a.labels.alertname, a.state, a.value]),
    ).toEqual([
      ['Firing', 'firing', '2e+00'],
      ['Waiting', 'pending', '3e+00'],
    ]);
  });
});
