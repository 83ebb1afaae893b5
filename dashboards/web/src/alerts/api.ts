import type { SilenceMatcher } from '../../../../alert-rules/api-types.ts';
import type { Labels } from '../../../../alert-rules/types.ts';
import { ApiError } from '../api.ts';
import type { Whoami } from '../whoami.ts';

export type {
  AlertGroup,
  AlertGroupsAnswer,
  GettableSilence as Silence,
  GroupedAlert,
  SilenceMatcher,
} from '../../../../alert-rules/api-types.ts';
export type { Labels } from '../../../../alert-rules/types.ts';
export { canEdit, type Whoami } from '../whoami.ts';

/** Why a silence button is disabled for this token, shown beside it. */
export function editNeeded(whoami: Whoami): string {
  return `Silences are created and expired with an editor token; token "${whoami.name}" is a ${whoami.role}.`;
}

/** `name="value"`, `name=~"regex"`, as amtool and the filters write matchers. */
export function matcherText(m: SilenceMatcher): string {
  const op = m.isRegex ? (m.isEqual ? '=~' : '!~') : m.isEqual ? '=' : '!=';
  return `${m.name}${op}${JSON.stringify(m.value)}`;
}

/** Label pairs in name order, as Prometheus prints them. */
export function sortedPairs(labels: Labels): [string, string][] {
  return Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * A process without alert-rules has no such routes: the API answers 404 for
 * them (anything of alert-rules' own would say what is missing).
 */
export function notRunning(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404;
}
