/**
 * An alert group as Alertmanager's notification templates see it
 * (template.Data): `.Receiver .Status .Alerts .GroupLabels .CommonLabels
 * .CommonAnnotations .ExternalURL`, with Alertmanager's methods
 * (`.Alerts.Firing`, `.Labels.SortedPairs`) and times as time.Time.
 */
import type { TemplateFunction } from '../../rules/template/functions.ts';
import { parseRfc3339 } from '../../rules/template/go-time.ts';
import { GoMap, GoSlice, type GoValue, goStruct } from '../../rules/template/go-values.ts';
import type { Labels } from '../../types.ts';
import type { AlertData, AlertGroupData } from './group-data.ts';

const method = (
  call: (args: GoValue[]) => GoValue,
  params: TemplateFunction['params'] = [],
): TemplateFunction => ({
  params,
  call,
});

const strings = (items: string[]) => new GoSlice(items, '[]string');

/** Alertmanager's order: alertname first, the other names sorted. */
function sortedNames(kv: Labels): string[] {
  const names = Object.keys(kv)
    .filter((n) => n !== 'alertname')
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return 'alertname' in kv ? ['alertname', ...names] : names;
}

/** Names and Values, which template.KV and template.Pairs both have. */
function listMethods(kv: Labels): [string, TemplateFunction][] {
  const names = sortedNames(kv);
  return [
    ['Names', method(() => strings(names))],
    ['Values', method(() => strings(names.map((n) => kv[n] as string)))],
  ];
}

function pairs(kv: Labels): GoSlice {
  const items = sortedNames(kv).map((name) => goStruct('template.Pair', { Name: name, Value: kv[name] }));
  return new GoSlice(items, 'template.Pairs', new Map(listMethods(kv)));
}

/** template.KV: a map of strings with SortedPairs, Names, Values and Remove. */
function keyValues(kv: Labels): GoMap {
  const methods = new Map([
    ...listMethods(kv),
    ['SortedPairs', method(() => pairs(kv))],
    [
      'Remove',
      method(
        ([names]) => {
          const removed = new Set((names as GoSlice).items);
          return keyValues(Object.fromEntries(Object.entries(kv).filter(([n]) => !removed.has(n))));
        },
        ['strings'],
      ),
    ],
  ]);
  return new GoMap(new Map(Object.entries(kv)), 'template.KV', '', methods);
}

function time(text: string, what: string) {
  const parsed = parseRfc3339(text);
  if (!parsed) throw new Error(`${what} ${JSON.stringify(text)} is not an RFC 3339 time`);
  return parsed;
}

function alert(a: AlertData, index: number): GoValue {
  return goStruct('template.Alert', {
    Status: a.status,
    Labels: keyValues(a.labels),
    Annotations: keyValues(a.annotations),
    StartsAt: time(a.startsAt, `alert ${index + 1}: startsAt`),
    EndsAt: time(a.endsAt, `alert ${index + 1}: endsAt`),
    GeneratorURL: a.generatorURL,
    Fingerprint: a.fingerprint,
  });
}

const ALERT_LIST = '[]template.Alert';

/** template.Data; throws when an alert's time is not RFC 3339 (only a webhook payload can have that). */
export function templateData(data: AlertGroupData): GoValue {
  const alerts = data.alerts.map(alert);
  const having = (status: string) =>
    method(
      () =>
        new GoSlice(
          alerts.filter((_, i) => data.alerts[i]?.status === status),
          ALERT_LIST,
        ),
    );
  return goStruct('template.Data', {
    Receiver: data.receiver,
    Status: data.status,
    Alerts: new GoSlice(
      alerts,
      'template.Alerts',
      new Map([
        ['Firing', having('firing')],
        ['Resolved', having('resolved')],
      ]),
    ),
    GroupLabels: keyValues(data.groupLabels),
    CommonLabels: keyValues(data.commonLabels),
    CommonAnnotations: keyValues(data.commonAnnotations),
    ExternalURL: data.externalURL,
  });
}
