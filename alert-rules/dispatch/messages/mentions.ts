import { type Mentions, mergeMentions, type ResolvedMentions } from '../../../notify/message.ts';
import type { AlertGroupData } from './group-data.ts';

const MOBILE = /^\+?\d{6,15}$/;

/** "13800000000, zhangsan @lisi": mobiles are digits, anything else is a user id; a leading "@" is dropped. */
export function parseMentions(value: string): Mentions {
  const mobiles: string[] = [];
  const userIds: string[] = [];
  for (const word of value.split(/[\s,;]+/)) {
    const handle = word.replace(/^@/, '');
    if (!handle) continue;
    (MOBILE.test(handle) ? mobiles : userIds).push(handle);
  }
  return { mobiles, userIds };
}

/**
 * The people a group's message mentions: those its firing alerts name in the
 * `from` label or annotation, and the receiver's own. A resolved group mentions
 * nobody: the news that can wait should not wake anyone.
 */
export function groupMentions(data: AlertGroupData, from: string, receiver?: Mentions): ResolvedMentions {
  const firing = data.alerts.filter((a) => a.status === 'firing');
  if (firing.length === 0) return mergeMentions();
  const named = firing.flatMap((a) =>
    [a.labels[from], a.annotations[from]].filter((v): v is string => !!v).map(parseMentions),
  );
  return mergeMentions(receiver, ...named);
}
