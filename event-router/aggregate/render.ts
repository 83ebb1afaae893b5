import type { Logger } from '../../core/log.ts';
import type { Notification } from '../../notify/message.ts';
import { Templates } from '../../notify/template.ts';
import type { ObservedEvent } from '../event.ts';
import type { RouteTarget } from '../routes/tree.ts';

/** What one message tells of one group: one object and reason on one route. */
export interface GroupReport {
  key: string;
  /** The group's newest event: its message, type, owner and host are shown. */
  event: ObservedEvent;
  /** Occurrences since the group's last message (all of them in a first message). */
  count: number;
  /** Occurrences since the group began. */
  total: number;
  firstTime: number;
  lastTime: number;
  /** The incident was told before: by an earlier message, or by the router before it restarted. */
  update: boolean;
}

/** Many objects with one reason in one route window, told as one message. */
export interface StormReport {
  key: string;
  reason: string;
  groups: readonly GroupReport[];
}

const MAX_NAMESPACES = 10;

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** `Pod shop/order-7f9c`, or `Node n1` for objects outside namespaces. */
function objectLabel(event: ObservedEvent): string {
  return `${event.kind} ${event.namespace ? `${event.namespace}/` : ''}${event.name}`;
}

function severityOf(type: string): 'warning' | 'info' {
  return type === 'Warning' ? 'warning' : 'info';
}

function andMore(shown: string[], all: number, separator: string): string {
  const rest = all - shown.length;
  return rest > 0 ? [...shown, `and ${rest} more`].join(separator) : shown.join(separator);
}

export function renderGroup(report: GroupReport): Notification {
  const { event, count, total, update } = report;
  const label = objectLabel(event);
  const first = iso(report.firstTime);
  const title = update
    ? `${event.reason}: ${label} (×${total}, still happening)`
    : `${event.reason}: ${label}${count > 1 ? ` (×${count})` : ''}`;
  const sinceLast = count < total ? `, ${count} since the last message` : '';
  const text = update
    ? `Still happening: ${total} times since ${first}${sinceLast}.\n${event.message}`
    : event.message;
  const fields: Record<string, string | number> = {
    namespace: event.namespace,
    object: `${event.kind}/${event.name}`,
    reason: event.reason,
    count: total,
    first,
    last: iso(report.lastTime),
  };
  if (event.owner) fields.owner = `${event.owner.kind}/${event.owner.name}`;
  if (event.host) fields.node = event.host;
  return {
    title,
    text,
    severity: severityOf(event.type),
    fields,
    time: report.lastTime,
    key: report.key,
  };
}

/** One message instead of one per object: how many, where, and the objects that happened most. */
export function renderStorm(report: StormReport, topObjects: number): Notification {
  const { groups, reason } = report;
  const occurrences = groups.reduce((sum, g) => sum + g.count, 0);
  const namespaces = [...new Set(groups.map((g) => g.event.namespace).filter(Boolean))].sort();
  const newest = groups.reduce((a, b) => (b.lastTime > a.lastTime ? b : a));
  const top = [...groups]
    .sort((a, b) => b.count - a.count || objectLabel(a.event).localeCompare(objectLabel(b.event)))
    .slice(0, topObjects)
    .map((g) => `- ${objectLabel(g.event)}${g.count > 1 ? ` ×${g.count}` : ''}`);
  const where =
    namespaces.length > 0
      ? ` in ${andMore(namespaces.slice(0, MAX_NAMESPACES), namespaces.length, ', ')}`
      : '';
  const text = [
    `${groups.length} objects had ${reason} ${occurrences} times${where}.`,
    `Latest: ${newest.event.message}`,
    andMore(top, groups.length, '\n'),
  ].join('\n');
  return {
    title: `${reason}: ${groups.length} objects (×${occurrences})`,
    text,
    severity: groups.some((g) => g.event.type === 'Warning') ? 'warning' : 'info',
    fields: {
      reason,
      objects: groups.length,
      count: occurrences,
      namespaces: andMore(namespaces.slice(0, MAX_NAMESPACES), namespaces.length, ', '),
      first: iso(Math.min(...groups.map((g) => g.firstTime))),
      last: iso(newest.lastTime),
    },
    time: newest.lastTime,
    key: report.key,
  };
}

/** Compiled route templates are few (one per distinct template in the routing file); this bounds reloads. */
const MAX_TEMPLATES = 256;

/**
 * A route's `template` replaces a message's text. It is a Handlebars template
 * with the same context as the robots' templates (notify/template.ts): `title`,
 * `text` (the default text), `severity`, `fields.namespace`, `fields.object`,
 * `fields.count`, …, `time`, `key`; the robot's own template then lays the
 * message out. A template that fails keeps the default text, so a mistake in
 * the routing file never costs a message, and is logged once, not per message.
 */
export class RouteTemplates {
  private readonly compiled = new Map<string, Templates>();
  private readonly failed = new Set<string>();
  private readonly log: Logger | undefined;

  constructor(log: Logger | undefined) {
    this.log = log;
  }

  apply(target: RouteTarget, message: Notification, now: number): Notification {
    const source = target.template;
    if (source === undefined) return message;
    const rendered = this.templates(source).render(message, now);
    if (rendered.error === undefined) return { ...message, text: rendered.text };
    if (!this.failed.has(source)) {
      if (this.failed.size >= MAX_TEMPLATES) this.failed.clear();
      this.failed.add(source);
      this.log?.warn(
        { route: target.id, error: rendered.error },
        'route template failed; sending the default text instead',
      );
    }
    return message;
  }

  private templates(source: string): Templates {
    let templates = this.compiled.get(source);
    if (!templates) {
      if (this.compiled.size >= MAX_TEMPLATES) this.compiled.clear();
      templates = new Templates({
        kind: 'text',
        locale: 'en',
        timeZone: 'UTC',
        title: '{{title}}',
        text: source,
      });
      this.compiled.set(source, templates);
    }
    return templates;
  }
}
