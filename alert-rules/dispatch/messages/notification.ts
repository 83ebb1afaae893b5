import type { FormattedText, Mentions, Notification, TemplateKind } from '../../../notify/message.ts';
import type { AlertMessagesConfig } from './config.ts';
import type { AlertGroupData } from './group-data.ts';
import { groupMentions } from './mentions.ts';
import { groupSeverity, renderAlertGroup } from './render.ts';

const KINDS: readonly TemplateKind[] = ['markdown', 'wecom-markdown', 'text'];

/**
 * A receiver's own message for a group in one robot format, from Alertmanager's
 * template data (a Go template of the receiver's, once the template engine
 * exists). It may throw: the default message is sent instead.
 */
export type AlertTemplate = (data: AlertGroupData, kind: TemplateKind) => FormattedText;

export interface AlertMessageOptions {
  config: AlertMessagesConfig;
  /** The receiver's own mentions, added on firing messages. */
  mentions?: Mentions;
  template?: AlertTemplate;
  /** Told when the receiver's template failed and the default was used. */
  onTemplateError?: (error: Error) => void;
}

/** What `ChatRobots.send` takes for one group: written for every robot format, with its mentions. */
export function alertNotification(data: AlertGroupData, options: AlertMessageOptions): Notification {
  const { config, template } = options;
  const write = (kind: TemplateKind): FormattedText => {
    if (template) {
      try {
        return template(data, kind);
      } catch (err) {
        options.onTemplateError?.(err as Error);
      }
    }
    return renderAlertGroup(data, kind, config);
  };
  const formatted = Object.fromEntries(KINDS.map((kind) => [kind, write(kind)]));
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
