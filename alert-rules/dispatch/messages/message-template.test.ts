import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TEMPLATE_SETTINGS } from '../../rules/template/expand.ts';
import { DING_CONTENT, DING_TITLE, TEMPLATE_FIXTURES as FIXTURES, GROUP } from './fixtures/templates.ts';
import { quoteMeta } from './group-data.ts';
import {
  compileMessageTemplates,
  loadTemplateFiles,
  type MessageTemplateConfig,
  messageTemplateSchema,
} from './message-template.ts';

/** [case, template, what amtool rendered (or its error, after "amtool: error: ")]. */
const AMTOOL_OBSERVED: [string, string, string][] = [
  [
    'fields',
    '{{ .Receiver }} {{ .Status }} {{ .ExternalURL }}',
    'team\\.sre firing http://alertmanager.example:9093',
  ],
  [
    'kv',
    '{{ .CommonLabels }} {{ .CommonAnnotations.summary }} [{{ .CommonLabels.missing }}]',
    'map[alertname:HighErrorRate namespace:shop] Error rate above 5% []',
  ],
  [
    'pairs',
    '{{ .CommonLabels.SortedPairs }} {{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Value }};{{ end }}',
    '[{alertname HighErrorRate} {namespace shop}] alertname=HighErrorRate;namespace=shop;',
  ],
  [
    'names',
    '{{ .GroupLabels.Names }} {{ .CommonLabels.Values }} {{ .CommonLabels.SortedPairs.Names }} {{ .CommonLabels.SortedPairs.Values }}',
    '[alertname] [HighErrorRate shop] [alertname namespace] [HighErrorRate shop]',
  ],
  [
    'remove',
    '{{ (.CommonLabels.Remove .GroupLabels.Names).Names }} {{ .CommonLabels.Remove (stringSlice "namespace" "nope") }}',
    '[namespace] map[alertname:HighErrorRate]',
  ],
  [
    'order',
    '{{ (index .Alerts 0).Labels.Names }} {{ (index .Alerts 0).Labels.SortedPairs.Values | join "," }}',
    '[alertname namespace pod severity] HighErrorRate,shop,order-1,critical',
  ],
  [
    'split',
    '{{ len .Alerts }} {{ len .Alerts.Firing }} {{ len .Alerts.Resolved }} {{ range .Alerts.Resolved }}{{ .Labels.pod }}{{ end }}',
    '2 1 1 order-2',
  ],
  [
    'times',
    '{{ range .Alerts }}{{ .StartsAt }} | {{ .EndsAt }} | {{ .StartsAt.Format "2006-01-02 15:04:05 MST -07:00 Z07:00" }} | {{ .EndsAt.IsZero }}; {{ end }}',
    '2026-03-01 08:00:00 +0000 UTC | 0001-01-01 00:00:00 +0000 UTC | 2026-03-01 08:00:00 UTC +00:00 Z | true; 2026-03-01 15:30:00.123456789 +0800 +0800 | 2026-03-01 08:30:00 +0000 UTC | 2026-03-01 15:30:00 +0800 +08:00 +08:00 | false; ',
  ],
  [
    'add',
    '{{ with index .Alerts 0 }}{{ (.StartsAt.Add 28800e9).Format "2006-01-02 15:04:05" }} {{ .StartsAt.Add -90e9 }}{{ end }}',
    '2026-03-01 16:00:00 2026-03-01 07:58:30 +0000 UTC',
  ],
  [
    'unix',
    '{{ with index .Alerts 1 }}{{ .StartsAt.Unix }} {{ .StartsAt.UTC }} {{ .StartsAt.Nanosecond }} {{ .EndsAt.Sub .StartsAt }}{{ end }}',
    '1772350200 2026-03-01 07:30:00.123456789 +0000 UTC 123456789 59m59.876543211s',
  ],
  [
    'whole',
    '{{ . }}',
    '{team\\.sre firing [{firing map[alertname:HighErrorRate namespace:shop pod:order-1 severity:critical] map[description:order-1 answers 500 to 9% of requests summary:Error rate above 5%] 2026-03-01 08:00:00 +0000 UTC 0001-01-01 00:00:00 +0000 UTC http://prometheus:9090/graph?g0.expr=rate%28errors%5B5m%5D%29 3b1d7e9c2f4a5b60} {resolved map[alertname:HighErrorRate namespace:shop pod:order-2 severity:warning] map[description:order-2 answers 500 to 6% of requests summary:Error rate above 5%] 2026-03-01 15:30:00.123456789 +0800 +0800 2026-03-01 08:30:00 +0000 UTC  7a0c19e4d2b35f81}] map[alertname:HighErrorRate] map[alertname:HighErrorRate namespace:shop] map[summary:Error rate above 5%] http://alertmanager.example:9093}',
  ],
  [
    'gosyntax',
    '{{ printf "%#v" (index .Alerts 0) }}',
    'template.Alert{Status:"firing", Labels:template.KV{"alertname":"HighErrorRate", "namespace":"shop", "pod":"order-1", "severity":"critical"}, Annotations:template.KV{"description":"order-1 answers 500 to 9% of requests", "summary":"Error rate above 5%"}, StartsAt:time.Date(2026, time.March, 1, 8, 0, 0, 0, time.UTC), EndsAt:time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC), GeneratorURL:"http://prometheus:9090/graph?g0.expr=rate%28errors%5B5m%5D%29", Fingerprint:"3b1d7e9c2f4a5b60"}',
  ],
  [
    'types',
    '{{ printf "%T %T %T %T %T %T %T" . .Alerts .Alerts.Firing .CommonLabels .CommonLabels.SortedPairs (index .CommonLabels.SortedPairs 0) (index .Alerts 0).StartsAt }}',
    'template.Data template.Alerts []template.Alert template.KV template.Pairs template.Pair time.Time',
  ],
  [
    'quoted',
    '{{ printf "%q %v %s" .GroupLabels.SortedPairs .GroupLabels (index .Alerts 0).StartsAt }}',
    '[{"alertname" "HighErrorRate"}] map[alertname:HighErrorRate] 2026-03-01 08:00:00 +0000 UTC',
  ],
  [
    'title',
    '{{ title "hELLO wORLD it\'s foo-bar x_y 123abc a.b o\'neil a..b a:b a,b 服务down ßa ǆx" }}',
    "Hello World It's Foo-Bar X_y 123Abc A.b O'neil A..B A:b A,B 服务Down Ssa ǅx",
  ],
  [
    'case',
    '{{ toUpper "ßa high" }} {{ toLower "CRITICAL" }} {{ .Status | toUpper }}',
    'ßA HIGH critical FIRING',
  ],
  [
    'join',
    '{{ join ", " (stringSlice "a" "b" "c") }}|{{ stringSlice }}|{{ join "-" .CommonLabels.Names }}',
    'a, b, c|[]|alertname-namespace',
  ],
  [
    'regexp',
    '{{ match "^order-" (index .Alerts 0).Labels.pod }} {{ reReplaceAll "order-(\\\\d+)" "o$1" "order-12 order-3" }}',
    'true o12 o3',
  ],
  ['html', '{{ safeHtml "<b>" }} {{ html "<b>" }} {{ urlquery "a b&c" }}', '<b> &lt;b&gt; a+b%26c'],
  [
    'truth',
    '{{ if eq .Status "firing" }}yes{{ end }} {{ if gt (len .Alerts.Firing) 0 }}some{{ end }} {{ range .Alerts }}{{ if .EndsAt }}?{{ end }}{{ end }}',
    'yes some ??',
  ],
  [
    'define',
    '{{ define "x" }}X{{ .Status }}{{ end }}{{ template "x" . }} {{ block "y" .Receiver }}[{{ . }}]{{ end }}',
    'Xfiring [team\\.sre]',
  ],
  [
    'join-type',
    '{{ join "," .Alerts }}',
    'template: :1:12: executing "" at <.Alerts>: wrong type for value; expected []string; got template.Alerts',
  ],
  [
    'no-field',
    '{{ .Alerts.Firing.Foo }}',
    'template: :1:10: executing "" at <.Alerts.Firing.Foo>: can\'t evaluate field Foo in type []template.Alert',
  ],
  [
    'remove-type',
    '{{ .CommonLabels.Remove "a" }}',
    'template: :1:24: executing "" at <"a">: can\'t handle "a" for arg of type []string',
  ],
  [
    'remove-count',
    '{{ .CommonLabels.Remove }}',
    'template: :1:16: executing "" at <.CommonLabels.Remove>: wrong number of args for Remove: want 1 got 0',
  ],
  [
    'file-error',
    '{{ template "ding.link.title" }}',
    'template: dingtalk.tmpl:1:44: executing "ding.link.title" at <toUpper>: invalid value; expected string',
  ],
];

const NOW = Date.parse('2026-03-01T09:02:03.5Z');

async function compile(message: MessageTemplateConfig, files: string[] = ['dingtalk.tmpl']) {
  const set = await loadTemplateFiles(files, { baseDir: FIXTURES });
  const templates = compileMessageTemplates(set, { team: { message } }, 'alertRules.routing.receivers', {
    settings: DEFAULT_TEMPLATE_SETTINGS,
    now: () => NOW,
  });
  return templates.get('team')!;
}

async function render(text: string): Promise<string> {
  const template = await compile({ text });
  try {
    return (await template(GROUP)).text;
  } catch (err) {
    return (err as Error).message;
  }
}

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("receivers' message templates", () => {
  it.each(AMTOOL_OBSERVED)(
    "%s: renders Alertmanager's data as Alertmanager 0.25 does",
    async (_, text, expected) => {
      expect(await render(text)).toBe(expected);
    },
  );

  it("gets the receiver's name as Alertmanager writes it in its data, regexp-quoted", () => {
    expect(quoteMeta('team.sre (a|b) [x]{1}^$*+?\\')).toBe(
      'team\\.sre \\(a\\|b\\) \\[x\\]\\{1\\}\\^\\$\\*\\+\\?\\\\',
    );
  });

  it('writes a prometheus-webhook-dingtalk style message, its title the first line unless set', async () => {
    const own = await compile({ text: '{{ template "ding.link.content" . }}' });
    expect(await own(GROUP)).toEqual({
      title: `[FIRING:1] [HighErrorRate](http://alertmanager.example:9093/#/alerts?receiver=team\\.sre)`,
      text: DING_CONTENT,
    });
    const titled = await compile({
      title: '{{ template "ding.link.title" . }}',
      text: '{{ template "ding.link.content" . }}',
    });
    expect(await titled(GROUP)).toEqual({ title: DING_TITLE, text: DING_CONTENT });
  });

  it("has Alertmanager's newer functions and prometheus-webhook-dingtalk's markdown", async () => {
    // Alertmanager 0.25 has none of these yet; the expectations follow Go's time and strings packages.
    expect(
      await render(
        '{{ with index .Alerts 0 }}{{ .StartsAt | tz "Asia/Shanghai" | date "2006-01-02 15:04:05 MST -0700" }}|{{ date "Jan 2 3:04PM" .StartsAt }}{{ end }}',
      ),
    ).toBe('2026-03-01 16:00:00 CST +0800|Mar 1 8:00AM');
    expect(await render('{{ (index .Alerts 0).StartsAt | tz "Europe/Berlin" }}')).toBe(
      '2026-03-01 09:00:00 +0100 CET',
    );
    expect(
      await render(
        '{{ since (index .Alerts 0).StartsAt }}|{{ since (index .Alerts 0).StartsAt | humanizeDuration }}',
      ),
    ).toBe('1h2m3.5s|1h 2m 3s');
    expect(await render('{{ humanizeDuration 90 }}|{{ humanizeDuration "0.25" }}')).toBe('1m 30s|250ms');
    expect(
      await render('[{{ trimSpace "\\t a b \\n" }}]|{{ urlUnescape "a%20b+c" }}|{{ markdown "a_b*c`" }}'),
    ).toBe('[a b]|a b c|a\\_b\\*c\\`');
    expect(await render('{{ tz "Mars/Base" (index .Alerts 0).StartsAt }}')).toBe(
      'template: :1:3: executing "" at <tz "Mars/Base" (index .Alerts 0).StartsAt>: error calling tz: unknown time zone Mars/Base',
    );
  });

  it('refuses at load a template that does not parse, with the receiver and the reason', () => {
    const parsed = messageTemplateSchema.safeParse({ text: '{{ .Alerts | upper }}' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({
      path: ['text'],
      message: 'template: :1: function "upper" not defined',
    });
  });

  it('refuses at load a message calling a template no file defines', async () => {
    await expect(compile({ title: '{{ template "ding.link.titel" . }}', text: 'x' })).rejects.toThrow(
      'alertRules.routing.receivers.team.message.title: calls template "ding.link.titel", which no template file defines',
    );
  });

  it('refuses a broken template file with the file and the reason', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-message-templates-'));
    dirs.push(dir);
    await writeFile(join(dir, 'broken.tmpl'), '{{ define "a" }}\n{{ if }}{{ end }}{{ end }}');
    await expect(loadTemplateFiles(['*.tmpl', 'missing.tmpl'], { baseDir: dir })).rejects.toThrow(
      'missing.tmpl: no such file\nbroken.tmpl: template: broken.tmpl:2: missing value for if',
    );
    // A glob matching nothing is no error, as in Alertmanager.
    expect((await loadTemplateFiles(['none/*.tmpl'], { baseDir: dir })).trees.size).toBe(0);
  });

  it('fails when the text comes out empty, so the default message is sent', async () => {
    const template = await compile({ text: '{{ if eq .Status "resolved" }}all clear{{ end }}' });
    await expect(template(GROUP)).rejects.toThrow('the text template wrote nothing');
  });

  it('fails after templates.messageTimeoutMs', async () => {
    // Ten thousand calls of a pattern that risks backtracking, each run in a worker thread.
    const ten = `(stringSlice${' "a"'.repeat(10)})`;
    const text = `{{ range ${ten} }}{{ range ${ten} }}{{ range ${ten} }}{{ range ${ten} }}{{ match "(a+)+b" "aaaa" }}{{ end }}{{ end }}{{ end }}{{ end }}`;
    const [template] = compileMessageTemplates(
      await loadTemplateFiles([], { baseDir: FIXTURES }),
      { team: { message: { text } } },
      'r',
      {
        settings: { ...DEFAULT_TEMPLATE_SETTINGS, messageTimeoutMs: 100 },
      },
    ).values();
    await expect(template!(GROUP)).rejects.toThrow(
      'template: : execution aborted: The operation was aborted due to timeout',
    );
  });

  it('fails within the output limit', async () => {
    const set = await loadTemplateFiles([], { baseDir: FIXTURES });
    const [template] = compileMessageTemplates(
      set,
      { team: { message: { text: '{{ range .Alerts }}{{ printf "%2000s" "x" }}{{ end }}' } } },
      'r',
      {
        settings: { ...DEFAULT_TEMPLATE_SETTINGS, maxOutputBytes: 3000 },
      },
    ).values();
    await expect(template!(GROUP)).rejects.toThrow('template: : output exceeds 3000 bytes');
  });
});
