import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HttpError } from '../../core/auth.ts';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import type { SendResult } from '../../notify/chat-robots.ts';
import type { Notification } from '../../notify/message.ts';
import type { AlertMessagesConfig } from './messages/config.ts';
import type { AlertGroupData } from './messages/group-data.ts';
import { type AlertTemplate, alertNotification, templatedNotification } from './messages/notification.ts';
import { DISPATCH_METRICS } from './metrics.ts';

const labels = z.record(z.string(), z.string());

/** Alertmanager's webhook payload, version 4; fields it may add later are ignored. */
const webhookSchema = z.object({
  version: z.literal('4', { error: 'expected Alertmanager\'s webhook payload, version "4"' }),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().nonnegative().default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labels,
  commonLabels: labels,
  commonAnnotations: labels,
  externalURL: z.string(),
  alerts: z
    .array(
      z.object({
        status: z.enum(['firing', 'resolved']),
        labels,
        annotations: labels,
        startsAt: z.string(),
        endsAt: z.string(),
        generatorURL: z.string().default(''),
        fingerprint: z.string().default(''),
      }),
    )
    .min(1),
});

export interface WebhookBridgeOptions {
  chat: {
    send(robots: readonly string[], message: Notification): SendResult;
    /** Configured robot names. */
    names(): string[];
  };
  /** The message settings in force; a reload may change them. */
  messages: () => AlertMessagesConfig;
  /** The robot's own message template in force, if it has one. */
  template?: (robot: string) => AlertTemplate | undefined;
  /** Largest payload taken; Alertmanager's `max_alerts` keeps payloads small when set. */
  maxBodyBytes: number;
  log: Logger;
  metrics?: Metrics;
}

export const WEBHOOK_PATH = '/api/alertmanager/webhook/:robot';

/**
 * `POST /api/alertmanager/webhook/<robot>`: an Alertmanager webhook receiver
 * that tells the group to one chat robot, written by the robot's own message
 * template or else as the default alert message of the robot's kind, through
 * the robots' outbox (rate limit, byte limit, digests). It stands in for prometheus-webhook-dingtalk: moving to it is
 * changing the receiver's URL (and giving it a token with
 * `http_config.authorization`).
 */
export function registerWebhookBridge(app: FastifyInstance, options: WebhookBridgeOptions): void {
  const notifications = options.metrics?.counter(DISPATCH_METRICS.webhookNotifications);
  const templateFailures = options.metrics?.counter(DISPATCH_METRICS.messageTemplateFailures);
  const notification = (robot: string, data: AlertGroupData): Promise<Notification> | Notification => {
    const messageOptions = { config: options.messages() };
    const template = options.template?.(robot);
    if (!template) return alertNotification(data, messageOptions);
    return templatedNotification(data, messageOptions, template, (error) => {
      templateFailures?.inc({ source: 'webhook', name: robot });
      options.log.warn(
        { robot, error: error.message },
        "robot's message template failed; sent the default message",
      );
    });
  };
  app.post(
    WEBHOOK_PATH,
    {
      bodyLimit: options.maxBodyBytes,
      config: {
        role: 'editor',
        summary: "Alertmanager's webhook (version 4): tells the group to one chat robot",
      },
    },
    async (request, reply) => {
      const { robot } = request.params as { robot: string };
      if (!options.chat.names().includes(robot)) throw new HttpError(404, `no robot named "${robot}"`);
      const parsed = webhookSchema.safeParse(request.body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new HttpError(400, `${issue.path.join('.') || 'body'}: ${issue.message}`);
      }
      const data: AlertGroupData = parsed.data;
      const result = options.chat.send([robot], await notification(robot, data));
      if (result.queued.length === 0) {
        // Alertmanager sends again after a 5xx: a standby replica or a stopping process loses nothing.
        return reply.code(503).send({ error: `robot "${robot}" is not sending now; send again later` });
      }
      notifications?.inc({ robot });
      options.log.debug(
        { robot, groupKey: data.groupKey, alerts: data.alerts.length },
        'alert group from Alertmanager queued',
      );
      return reply.code(200).send({ status: 'queued' });
    },
  );
}
