import type { FastifyInstance } from 'fastify';
import { HttpError, type Principal } from '../core/auth.ts';
import type { EventGroupStatus } from './aggregate/aggregator.ts';
import type { ApiEventGroup, ApiSentMessage, EventGroupsAnswer } from './api-types.ts';
import type { SentMessage } from './sent-log.ts';

/** What the event router holds now; undefined groups while this replica does not lead. */
export interface GroupsSource {
  groups(): EventGroupStatus[] | undefined;
  sent(): SentMessage[];
}

const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 500;
/** An event's message is shown up to this many characters: enough to read, and the answer stays small. */
const MAX_MESSAGE_CHARS = 1_000;

function limitOf(params: Record<string, unknown>): number {
  const raw = params.limit;
  const text = Array.isArray(raw) ? raw.at(-1) : raw;
  const limit = Number(text ?? DEFAULT_LIMIT);
  if (text === '' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new HttpError(400, `limit must be a whole number from 1 to ${MAX_LIMIT}`);
  }
  return limit;
}

function clip(text: string): string {
  return text.length <= MAX_MESSAGE_CHARS ? text : `${text.slice(0, MAX_MESSAGE_CHARS)}…`;
}

function groupView(group: EventGroupStatus): ApiEventGroup {
  const { route, event } = group;
  return {
    route: route.id,
    robots: route.robots,
    namespace: event.namespace,
    kind: event.kind,
    name: event.name,
    reason: event.reason,
    type: event.type,
    message: clip(event.message),
    total: group.total,
    pending: group.pending,
    firstTime: group.firstTime,
    lastTime: group.lastTime,
    sentAt: group.sentAt ?? null,
    dueAt: group.dueAt ?? null,
  };
}

/** Robot names and outcomes only: a robot's address and token are in its configuration, never here. */
function sentView(message: SentMessage): ApiSentMessage {
  return {
    id: message.id,
    time: message.time,
    route: message.route,
    kind: message.kind,
    title: message.title,
    robots: [...message.deliveries].map(([robot, delivery]) => ({
      robot,
      outcome: delivery.outcome,
      ...(delivery.detail && { detail: delivery.detail }),
      at: delivery.at,
    })),
  };
}

/**
 * The aggregation's groups and the latest messages, the newest first, `limit` of each at most. A token
 * limited to namespaces sees the groups of its namespaces and the messages that tell only of them (a
 * storm summary naming other namespaces is left out).
 */
export function groupsAnswer(
  source: GroupsSource,
  principal: Principal,
  params: Record<string, unknown>,
): EventGroupsAnswer {
  const limit = limitOf(params);
  const allowed = principal.namespaces;
  const visible = (namespace: string) => !allowed || allowed.includes(namespace);
  const held = source.groups();
  const groups = (held ?? []).filter((g) => visible(g.event.namespace));
  const sent = source.sent().filter((m) => m.namespaces.every(visible));
  return {
    leading: held !== undefined,
    groups: groups.slice(0, limit).map(groupView),
    groupCount: groups.length,
    sent: sent.slice(0, limit).map(sentView),
    sentCount: sent.length,
  };
}

/** `GET /api/events/groups`, where the event router runs in the process that serves the API. */
export function registerGroupsApi(app: FastifyInstance, source: GroupsSource): void {
  const summary = "the event router's aggregation groups and the messages it sent to each robot (?limit=100)";
  app.get('/api/events/groups', { config: { role: 'viewer', summary } }, async (request) =>
    groupsAnswer(source, request.principal, request.query as Record<string, unknown>),
  );
}
