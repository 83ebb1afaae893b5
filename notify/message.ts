export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** How a robot writes its messages: DingTalk markdown, WeCom markdown, or plain text (either robot). */
export type TemplateKind = 'text' | 'markdown' | 'wecom-markdown';

/** A message already written for one format. */
export interface FormattedText {
  title: string;
  text: string;
}

export interface Mentions {
  /** Phone numbers of group members. */
  mobiles?: readonly string[];
  /** DingTalk user ids or WeCom user ids. */
  userIds?: readonly string[];
  all?: boolean;
}

/**
 * What the event router and the alert rules hand to `ChatRobots.send`. The
 * robot's templates turn it into the text fields of a payload.
 */
export interface Notification {
  title: string;
  text?: string;
  severity?: Severity;
  status?: 'firing' | 'resolved';
  /** Shown as a list under the text, and available to templates by name. */
  fields?: Readonly<Record<string, string | number | boolean>>;
  /** A link to details: the console, a Grafana panel, a runbook. */
  url?: string;
  /** When it happened; defaults to when it was sent. */
  time?: Date | number;
  mentions?: Mentions;
  /** Stable identity (alert fingerprint, event uid), written to the log if the message is ever dropped. */
  key?: string;
  /**
   * The message already written for some formats (alerts with their own
   * layout): a robot writing one of them sends it instead of applying its
   * templates; mentions, byte limits and digests apply as to any message.
   */
  formatted?: Partial<Record<TemplateKind, FormattedText>>;
}

export interface ResolvedMentions {
  mobiles: string[];
  userIds: string[];
  all: boolean;
}

export const NO_MENTIONS: ResolvedMentions = { mobiles: [], userIds: [], all: false };

/** One message as a robot posts it: rendered, and fitted into the robot's byte limit. */
export interface Outgoing {
  title: string;
  text: string;
  mentions: ResolvedMentions;
  url?: string;
}

export function mergeMentions(...all: (Mentions | undefined)[]): ResolvedMentions {
  const mobiles = new Set<string>();
  const userIds = new Set<string>();
  let everyone = false;
  for (const m of all) {
    for (const mobile of m?.mobiles ?? []) mobiles.add(mobile);
    for (const id of m?.userIds ?? []) userIds.add(id);
    everyone ||= m?.all ?? false;
  }
  return { mobiles: [...mobiles], userIds: [...userIds], all: everyone };
}
