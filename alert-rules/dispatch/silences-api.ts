import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { HttpError } from '../../core/auth.ts';
import { formatConfigErrors, validate } from '../../core/config.ts';
import type { HttpApp } from '../../core/http.ts';
import type { GettableSilence } from '../api-types.ts';
import type { Labels } from '../types.ts';
import { MatcherError, matchesValue, parseMatchers } from './matchers.ts';
import { SilenceError, type SilenceInput, type Silences, type SilenceView } from './silences.ts';

/**
 * Silences over HTTP in the shapes of Alertmanager's API v2, so that amtool
 * and other Alertmanager clients work against Lookout unchanged.
 */

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

const dateTime = z.string().refine((text) => RFC3339.test(text) && !Number.isNaN(Date.parse(text)), {
  error: (issue) => `expected an RFC 3339 time, got ${JSON.stringify(issue.input)}`,
});

const postableSilenceSchema = z.object({
  id: z.string().optional(),
  matchers: z
    .array(
      z.object({
        name: z.string(),
        value: z.string(),
        isRegex: z.boolean(),
        isEqual: z.boolean().default(true),
      }),
    )
    .min(1),
  startsAt: dateTime,
  endsAt: dateTime,
  createdBy: z.string(),
  comment: z.string(),
});

/** Reads a `POST /api/v2/silences` body; refuses what Alertmanager's API refuses with a 400. */
export function postableSilence(body: unknown, now: number): SilenceInput {
  const result = validate(postableSilenceSchema, body ?? {});
  if (!result.ok) throw new HttpError(400, formatConfigErrors(result.errors));
  const { id, matchers, createdBy, comment } = result.value;
  const startsAt = Date.parse(result.value.startsAt);
  const endsAt = Date.parse(result.value.endsAt);
  if (startsAt >= endsAt)
    throw new HttpError(400, 'Failed to create silence: start time must be before end time');
  if (endsAt < now) throw new HttpError(400, "Failed to create silence: end time can't be in the past");
  return { id: id || undefined, matchers, startsAt, endsAt, createdBy, comment };
}

export function gettableSilence(silence: SilenceView): GettableSilence {
  return {
    id: silence.id,
    status: { state: silence.state },
    updatedAt: new Date(silence.updatedAt).toISOString(),
    matchers: silence.matchers,
    startsAt: new Date(silence.startsAt).toISOString(),
    endsAt: new Date(silence.endsAt).toISOString(),
    createdBy: silence.createdBy,
    comment: silence.comment,
  };
}

const STATE_ORDER = { active: 0, pending: 1, expired: 2 } as const;

/** Alertmanager's order: active ending soonest, then pending starting soonest, then expired most recent first. */
function compareSilences(a: SilenceView, b: SilenceView): number {
  if (a.state !== b.state) return STATE_ORDER[a.state] - STATE_ORDER[b.state];
  if (a.state === 'active') return a.endsAt - b.endsAt;
  if (a.state === 'pending') return a.startsAt - b.startsAt;
  return b.endsAt - a.endsAt;
}

/** Turns the library's errors into HTTP answers. */
function answering<T>(action: () => T): T {
  try {
    return action();
  } catch (err) {
    throw httpErrorOf(err);
  }
}

function httpErrorOf(err: unknown): unknown {
  if (err instanceof SilenceError) return new HttpError(err.kind === 'not-found' ? 404 : 400, err.message);
  if (err instanceof MatcherError) return new HttpError(400, err.message);
  return err;
}

/** `filter` as amtool sends it: matchers that the silence's own matchers (read as labels) must satisfy. */
function filterOf(filter: string | string[] | undefined) {
  const texts = filter === undefined ? [] : Array.isArray(filter) ? filter : [filter];
  const matchers = answering(() => texts.flatMap((text) => parseMatchers(text)));
  return (silence: SilenceView) => {
    const labels: Labels = {};
    for (const m of silence.matchers) labels[m.name] = m.value;
    return matchers.every((m) => m.name in labels && matchesValue(m, labels[m.name]!));
  };
}

/** `GET /api/v2/silences`: every silence kept, in Alertmanager's order, narrowed by `filter` matchers. */
export function listSilences(silences: Silences, filter?: string | string[]): GettableSilence[] {
  return silences.list().filter(filterOf(filter)).sort(compareSilences).map(gettableSilence);
}

/** `POST /api/v2/silences`: creates or changes a silence; answers the id of the silence now in force. */
export async function postSilence(
  silences: Silences,
  body: unknown,
  now: number,
): Promise<{ silenceID: string }> {
  const input = postableSilence(body, now);
  try {
    return { silenceID: await silences.set(input) };
  } catch (err) {
    throw httpErrorOf(err);
  }
}

export function getSilence(silences: Silences, id: string): GettableSilence {
  const silence = silences.get(id);
  if (!silence) throw new HttpError(404, `silence ${id} not found`);
  return gettableSilence(silence);
}

export async function deleteSilence(silences: Silences, id: string): Promise<void> {
  try {
    await silences.expire(id);
  } catch (err) {
    throw httpErrorOf(err);
  }
}

/**
 * Registers the silence routes: Lookout's (`/api/silences`, `/api/silences/:id`)
 * and Alertmanager's API v2 paths (`/api/v2/silences`, `/api/v2/silence/:id`)
 * for amtool. Reading needs a viewer token, changing an editor's.
 */
export function registerSilenceApi(
  http: HttpApp,
  silences: () => Silences,
  now: () => number = Date.now,
): void {
  const { app } = http;
  const list = async (request: { query: unknown }) =>
    listSilences(silences(), (request.query as { filter?: string | string[] }).filter);
  const post = async (request: { body: unknown }) => postSilence(silences(), request.body, now());
  const get = async (request: { params: unknown }) =>
    getSilence(silences(), (request.params as { id: string }).id);
  const remove = async (request: { params: unknown }) => {
    await deleteSilence(silences(), (request.params as { id: string }).id);
    return {};
  };
  for (const [many, one, errorHandler] of [
    ['/api/silences', '/api/silences/:id', undefined],
    ['/api/v2/silences', '/api/v2/silence/:id', alertmanagerErrors],
  ] as const) {
    const options = (role: 'viewer' | 'editor', summary: string) => ({
      config: { role, summary },
      errorHandler,
    });
    app.get(many, options('viewer', 'silences (?filter=matchers), Alertmanager API v2 shape'), list);
    app.post(many, options('editor', 'create or change a silence; answers its id'), post);
    app.get(one, options('viewer', 'one silence'), get);
    app.delete(one, options('editor', 'expire a silence'), remove);
  }
}

/** Alertmanager's API answers an error with a JSON string, which is what its clients read. */
function alertmanagerErrors(
  error: Error & { statusCode?: number },
  _request: unknown,
  reply: FastifyReply,
): void {
  const status = error instanceof HttpError ? error.statusCode : (error.statusCode ?? 500);
  if (status >= 500) reply.log.error({ err: error }, 'request failed');
  reply
    .code(status)
    .type('application/json')
    .send(JSON.stringify(status >= 500 ? 'internal error' : error.message));
}
