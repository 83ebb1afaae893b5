import type { FormattedText, Severity, TemplateKind } from '../../../notify/message.ts';
import { formatTime } from '../../../notify/template.ts';
import type { Labels } from '../../types.ts';
import type { AlertMessagesConfig } from './config.ts';
import type { AlertData, AlertGroupData } from './group-data.ts';
import { logSearchLink, markdownSafeUrl } from './links.ts';

const ICONS: Record<Severity | 'resolved', string> = {
  critical: '🔴',
  warning: '🟠',
  info: '🔵',
  resolved: '✅',
};

const SEVERITY_ORDER: readonly string[] = ['critical', 'warning', 'info'];

/** Labels every alert has that say nothing on a phone screen. */
const QUIET_LABELS = new Set(['alertname', 'severity']);

/** How one robot format writes the few things an alert message is made of. */
interface Markup {
  heading(text: string, alarm: boolean): string;
  strong(text: string): string;
  field(name: string, value: string): string;
  links(links: readonly { label: string; url: string }[]): string;
  /** Log lines quoted as they were written, one per line. */
  quote(lines: string): string;
  /** Between the header and each alert. */
  gap: string;
  /** Between an alert's heading, description, fields and links: DingTalk joins lines not a paragraph apart. */
  lineGap: string;
}

const blockquote = (lines: string) =>
  lines
    .split('\n')
    .map((line) => `> ${line}`)
    .join('\n');

const MARKUPS: Record<TemplateKind, Markup> = {
  markdown: {
    heading: (text) => `### ${text}`,
    strong: (text) => `**${text}**`,
    field: (name, value) => `- ${name}: ${value}`,
    links: (links) => links.map((l) => `[${l.label}](${markdownSafeUrl(l.url)})`).join(' · '),
    quote: blockquote,
    gap: '\n\n',
    lineGap: '\n\n',
  },
  'wecom-markdown': {
    heading: (text, alarm) => `**<font color="${alarm ? 'warning' : 'info'}">${text}</font>**`,
    strong: (text) => `**${text}**`,
    field: (name, value) => `> ${name}: <font color="comment">${value}</font>`,
    links: (links) => links.map((l) => `[${l.label}](${markdownSafeUrl(l.url)})`).join('  '),
    quote: blockquote,
    gap: '\n\n',
    lineGap: '\n',
  },
  text: {
    heading: (text) => text,
    strong: (text) => text,
    field: (name, value) => `${name}: ${value}`,
    links: (links) => links.map((l) => `${l.label}: ${l.url}`).join('\n'),
    quote: (lines) => lines,
    gap: '\n\n',
    lineGap: '\n',
  },
};

/** The most severe `severity` label among the alerts; undefined when none has a known one. */
export function groupSeverity(alerts: readonly AlertData[]): Severity | undefined {
  const ranks = alerts.map((a) => SEVERITY_ORDER.indexOf(a.labels.severity ?? '')).filter((r) => r >= 0);
  return ranks.length > 0 ? (SEVERITY_ORDER[Math.min(...ranks)] as Severity) : undefined;
}

const pairs = (labels: Labels) =>
  Object.entries(labels)
    .filter(([name]) => !QUIET_LABELS.has(name))
    .map(([name, value]) => `${name}=${value}`)
    .join(', ');

/** `[FIRING:2] HighErrorRate`, Alertmanager's way of naming a group in a subject line. */
export function groupTitle(data: AlertGroupData): string {
  const firing = data.alerts.filter((a) => a.status === 'firing').length;
  const status = data.status === 'firing' ? `FIRING:${firing}` : 'RESOLVED';
  const name =
    data.groupLabels.alertname ??
    data.commonLabels.alertname ??
    (Object.values(data.groupLabels).join(' ') || 'alerts');
  return `[${status}] ${name}`;
}

function alertLines(
  alert: AlertData,
  index: number,
  data: AlertGroupData,
  markup: Markup,
  config: AlertMessagesConfig,
): string {
  const { summary, description, value, log_lines: quoted, logs_url: logsUrl } = alert.annotations;
  const name = summary ?? alert.labels.alertname ?? 'alert';
  const parts = [markup.strong(`${index}. ${name}`)];
  if (description) parts.push(description);
  if (quoted) parts.push(markup.quote(quoted));
  const lines: string[] = [];
  if (value) lines.push(markup.field('Value', value));
  const own = Object.fromEntries(
    Object.entries(alert.labels).filter(([label]) => data.commonLabels[label] === undefined),
  );
  const labels = pairs(own);
  if (labels) lines.push(markup.field('Labels', labels));
  const started = Date.parse(alert.startsAt);
  if (Number.isFinite(started)) lines.push(markup.field('Started', formatTime(started, config.timeZone)));
  const ended = Date.parse(alert.endsAt);
  if (alert.status === 'resolved' && Number.isFinite(ended)) {
    lines.push(markup.field('Resolved', formatTime(ended, config.timeZone)));
  }
  const links = [];
  // A log rule's alert links to its own search instead: its generator link is a search too.
  if (alert.generatorURL && !logsUrl) links.push({ label: 'Prometheus', url: alert.generatorURL });
  const logs = logsUrl ?? logSearchLink(alert, config);
  if (logs) links.push({ label: 'Logs', url: logs });
  parts.push(lines.join('\n'));
  if (links.length > 0) parts.push(markup.links(links));
  return parts.join(markup.lineGap);
}

/**
 * The default message for an alert group in one robot format, written to be
 * read on a phone: the group's name and status first (what a notification
 * preview shows), then each alert's summary, description, value, the labels
 * that set it apart, when it started, and links to Prometheus and its logs.
 * Firing alerts come before resolved ones, and at most `maxAlerts` are listed.
 */
export function renderAlertGroup(
  data: AlertGroupData,
  kind: TemplateKind,
  config: AlertMessagesConfig,
): FormattedText {
  const markup = MARKUPS[kind];
  const title = groupTitle(data);
  const firing = data.status === 'firing';
  const severity = groupSeverity(data.alerts.filter((a) => a.status === data.status));
  const icon = firing ? ICONS[severity ?? 'warning'] : ICONS.resolved;
  const header = [markup.heading(`${icon} ${title}`, firing)];
  if (firing && severity) header.push(markup.field('Severity', severity));
  const grouped = pairs(data.groupLabels);
  if (grouped) header.push(markup.field('Group', grouped));
  const ordered = [
    ...data.alerts.filter((a) => a.status === 'firing'),
    ...data.alerts.filter((a) => a.status === 'resolved'),
  ];
  const listed = ordered.slice(0, config.maxAlerts);
  const blocks = [header.join('\n')];
  listed.forEach((alert, i) => {
    const resolvedFirst = alert.status === 'resolved' && (i === 0 || listed[i - 1]!.status === 'firing');
    if (resolvedFirst && firing) blocks.push(markup.strong(`${ICONS.resolved} Resolved`));
    blocks.push(alertLines(alert, i + 1, data, markup, config));
  });
  const more = ordered.length - listed.length + data.truncatedAlerts;
  if (more > 0) blocks.push(`… and ${more} more`);
  return { title, text: blocks.join(markup.gap) };
}
