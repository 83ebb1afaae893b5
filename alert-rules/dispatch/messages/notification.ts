import type { FormattedText, Mentions, Notification, TemplateKind } from '../../../notify/message.ts';
import type { AlertMessagesConfig } from './config.ts';
import type { AlertGroupData } from './group-data.ts';
import { groupMentions } from './mentions.ts';
import { groupSeverity, renderAlertGroup } from './render.ts';

const KINDS: readonly TemplateKind[] = ['markdown', 'wecom-markdown', 'text'];

/**
 * A receiver's own message for a group, from Alertmanager's template data:
 * one text for every robot format, as Alertmanager's templates write one.
 * It may reject: the default message is sent instead.
 */
export type AlertTemplate = (data: AlertGroupData) => Promise<FormattedText>;

export interface AlertMessageOptions {
  config: AlertMessagesConfig;
  /** The receiver's own mentions, added on firing messages. */
  mentions?: Mentions;
}

/**
 * What `ChatRobots.send` takes for one group: written for every robot format
 * (the receiver's own message when given), with its mentions.
 */
export function alertNotification(
  data: AlertGroupData,
  options: AlertMessageOptions,
  own?: FormattedText,
): Notification {
  const { config } = options;
  const formatted = Object.fromEntries(
    KINDS.map((kind) => [kind, own ?? renderAlertGroup(data, kind, config)]),
  );
  const plain = formatted.text as FormattedText;
  return {
    title: plain.title,
    text: plain.text,
    // A robot's own mentions may be limited to severities: a resolved group is news that can wait.
    severity:
      data.status === 'firing' ? groupSeverity(data.alerts.filter((a) => a.status === 'firing')) : 'info',
    status: data.status,
    mentions: groupMentions(data, config.mentionsFrom, options.mentions),
    key: data.groupKey,
    formatted,
  };
}

/** The group's message written by `template`, or the default one (after telling `onError`) when it fails. */
export async function templatedNotification(
  data: AlertGroupData,
  options: AlertMessageOptions,
  template: AlertTemplate,
  onError: (error: Error) => void,
): Promise<Notification> {
  let own: FormattedText;
  try {
    own = await template(data);
  } catch (err) {
    onError(err instanceof Error ? err : new Error(String(err)));
    return alertNotification(data, options);
  }
  return alertNotification(data, options, own);
}
