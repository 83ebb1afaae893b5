import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { HttpError } from '../core/auth.ts';
import { systemClock } from '../core/clock.ts';
import type { ComponentContext } from '../core/component.ts';
import { ConfigInvalidError } from '../core/config.ts';
import { describeError } from '../core/errors.ts';
import type { HttpApp } from '../core/http.ts';
import { createKubeClient, type KubeClient } from '../core/kube/client.ts';
import type { Service } from '../core/lifecycle.ts';
import type { ChatRobots } from '../notify/chat-robots.ts';
import { Leadership, ownNamespace } from '../notify/leadership.ts';
import { CapacityRecommender } from './capacity/capacity.ts';
import type { AlertRulesConfig } from './config.ts';
import { AlertmanagerForwarder } from './dispatch/alertmanager-forwarder.ts';
import { ConfigMapSilenceStore } from './dispatch/config-map-silence-store.ts';
import { AlertDispatcher } from './dispatch/dispatcher.ts';
import { DEFAULT_ALERT_MESSAGES } from './dispatch/messages/config.ts';
import {
  compileMessageTemplates,
  loadTemplateFiles,
  type MessageTemplateConfig,
} from './dispatch/messages/message-template.ts';
import type { AlertTemplate } from './dispatch/messages/notification.ts';
import { NotificationLog } from './dispatch/notification-log.ts';
import { loadRouting, type Routing } from './dispatch/routing-setup.ts';
import { FileSilenceStore, type SilenceStore } from './dispatch/silence-store.ts';
import { Silences } from './dispatch/silences.ts';
import { registerSilenceApi } from './dispatch/silences-api.ts';
import { registerWebhookBridge } from './dispatch/webhook-bridge.ts';
import { registerProbeAgentApi } from './http/probe-agent-api.ts';
import { registerProbesApi } from './http/probes-api.ts';
import { registerRulesApi } from './http/rules-api.ts';
import { LeadingNotifier } from './leading-notifier.ts';
import { ALERT_RULES_METRICS } from './metrics.ts';
import { createAddressGuard } from './probes/address-guard.ts';
import { loadProbeModules } from './probes/probe-modules.ts';
import { createProber } from './probes/probers.ts';
import { Probes } from './probes/probes.ts';
import type { ProbeModule } from './probes/types.ts';
import { loadRuleFiles } from './rules/load.ts';
import type { LogRuleServices } from './rules/log-rule.ts';
import { LogSearchClient, type LogSearchConfig } from './rules/log-search-client.ts';
import { PrometheusQueryClient } from './rules/prometheus-client.ts';
import { RemoteWriteClient } from './rules/remote-write.ts';
import { RuleManager, type RuleManagerSettings } from './rules/rule-manager.ts';
import { checkTemplate, configureTemplates, expandTemplate } from './rules/template/expand.ts';
import { reportingErrors } from './rules/template-renderer.ts';
import type { AlertNotifier, RemoteWriter, RuleGroupSpec } from './types.ts';

/** What stops with the configuration it was built from. */
interface Running {
  query: PrometheusQueryClient;
  remoteWriter: RemoteWriteClient | undefined;
  logSearch: LogSearchClient | undefined;
  rules: RuleManager;
  capacity: CapacityRecommender;
  silences: Silences;
  silenceTimer: NodeJS.Timeout;
  routing: Routing | undefined;
  robotTemplates: ReadonlyMap<string, AlertTemplate>;
  probes: Probes;
}

/** The rule files, the routing and the message templates, read and checked. */
interface LoadedFiles {
  groups: RuleGroupSpec[];
  routing: Routing | undefined;
  /** The webhook bridge's messages, by robot. */
  robotTemplates: ReadonlyMap<string, AlertTemplate>;
  probeModules: Map<string, ProbeModule>;
}

/** What sends while this replica leads. */
interface Sending {
  dispatcher: AlertDispatcher | undefined;
  forwarder: AlertmanagerForwarder | undefined;
}

/** Without a remote-write target nothing is written: recording rules are refused when the files load. */
const NO_REMOTE_WRITE: RemoteWriter = { write: async () => {} };
/** A last chance for forwarders to post what waits when leadership ends. */
const FORWARD_DRAIN_MS = 5_000;

/**
 * Prometheus rules evaluated as Prometheus evaluates them, capacity
 * recommendations, and the alerts they raise sent on: to Alertmanagers, and
 * through Alertmanager-style routing to chat robots. Every replica evaluates
 * (so a new leader knows the state); only the leader sends.
 */
export class AlertRules implements Service<AlertRulesConfig> {
  readonly name = 'alert-rules';
  private config: AlertRulesConfig;
  private readonly ctx: ComponentContext<HttpApp>;
  private readonly chatRobots: ChatRobots;
  private readonly leadership: Leadership;
  private readonly notifier: LeadingNotifier;
  private running: Running | undefined;
  private sending: Sending | undefined;
  private kube: KubeClient | undefined;

  constructor(config: AlertRulesConfig, ctx: ComponentContext<HttpApp>, chatRobots: ChatRobots) {
    this.config = config;
    this.ctx = ctx;
    this.chatRobots = chatRobots;
    this.notifier = new LeadingNotifier({ retentionMs: config.resolvedRetention });
    this.leadership = new Leadership({
      enabled: config.leaderElection.enabled,
      chatRobots,
      log: ctx.log,
      metrics: ctx.metrics,
      noun: 'alert-rules',
      lead: async () => this.lead(),
      unlead: () => this.unlead(),
    });
    registerRulesApi(ctx.http.app, {
      alerts: () => this.alerts(),
      rules: () => this.running?.rules.rules(),
      recommendations: () => this.running?.capacity.list() ?? [],
      mutedBy: (labels) => this.mutedBy(labels),
      tree: () => this.running?.routing?.tree,
      sentLabels: (labels) => ({ ...this.config.externalLabels, ...labels }),
    });
    registerSilenceApi(ctx.http, () => {
      if (!this.running) throw new HttpError(503, 'silences are not loaded yet; try again');
      return this.running.silences;
    });
    const probes = () => {
      if (!this.running) throw new HttpError(503, 'probes are not loaded yet; try again');
      return this.running.probes;
    };
    registerProbesApi(ctx.http.app, probes, config.probes.maxTargetBytes);
    registerProbeAgentApi(ctx.http.app, probes, config.probes.agents.maxBatchBytes);
    registerWebhookBridge(ctx.http.app, {
      chat: chatRobots,
      messages: () =>
        this.config.webhookBridge.messages ?? this.config.routing?.messages ?? DEFAULT_ALERT_MESSAGES,
      template: (robot) => this.running?.robotTemplates.get(robot),
      maxBodyBytes: config.webhookBridge.maxBodyBytes,
      log: ctx.log,
      metrics: ctx.metrics,
    });
  }

  async start(): Promise<void> {
    await this.startWith(await this.loadFiles(this.config));
  }

  private async startWith({ groups, routing, robotTemplates, probeModules }: LoadedFiles): Promise<void> {
    const { config, ctx } = this;
    configureTemplates(config.templates);
    if (config.leaderElection.enabled || config.silences.configMap) {
      this.kube ??= createKubeClient(config.kubernetes);
    }
    const silences = await Silences.open({
      store: this.silenceStore(config),
      settings: config.silences,
      log: ctx.log,
      metrics: ctx.metrics,
    });
    const silenceTimer = setInterval(
      () => void this.maintainSilences(silences),
      config.silences.syncInterval,
    );
    const query = new PrometheusQueryClient(config.prometheus);
    const templateErrors = ctx.metrics.counter(ALERT_RULES_METRICS.templateErrors);
    const droppedSamples = ctx.metrics.counter(ALERT_RULES_METRICS.remoteWriteDropped);
    const remoteWriter = config.remoteWrite
      ? new RemoteWriteClient(config.remoteWrite, {
          onDropped: (samples, reason) => {
            droppedSamples.inc(samples);
            ctx.log.warn({ samples, reason }, 'remote write dropped samples');
          },
        })
      : undefined;
    const capacity = new CapacityRecommender({
      config: config.capacity,
      query,
      metrics: ctx.metrics,
      log: ctx.log,
    });
    const logs = logRuleServices(config.logs);
    const rules = new RuleManager({
      queryApi: capacity.queryApi(query),
      logs,
      remoteWriter: remoteWriter ?? NO_REMOTE_WRITE,
      notifier: this.notifier,
      render: reportingErrors(expandTemplate, (template, error) => {
        templateErrors.inc();
        ctx.log.warn({ template, err: error }, 'Expanding alert template failed');
      }),
      clock: systemClock,
      log: ctx.log,
      metrics: ctx.metrics,
      dataDir: ctx.dataDir,
      settings: this.ruleSettings(config, remoteWriter !== undefined),
    });
    const probes = this.newProbes(config, probeModules);
    this.running = {
      query,
      remoteWriter,
      logSearch: logs?.search,
      rules,
      capacity,
      silences,
      silenceTimer,
      routing,
      robotTemplates,
      probes,
    };
    capacity.start();
    await Promise.all([rules.start([...groups, ...capacity.ruleGroups()]), probes.start()]);
    this.leadership.start(config.leaderElection, this.kube);
    ctx.log.info(
      {
        groups: groups.length,
        rules: groups.reduce((n, g) => n + g.rules.length, 0),
        recommendations: config.capacity.length,
        probes: probes.list().length,
        prometheus: new URL(config.prometheus.url).origin,
        routing: config.routing?.alertmanagerConfigFile ?? null,
        alertmanagers: config.forward?.alertmanagers.length ?? 0,
        leaderElection: config.leaderElection.enabled,
      },
      'alert rules started',
    );
  }

  async stop(): Promise<void> {
    await this.leadership.stop();
    const running = this.running;
    this.running = undefined;
    if (!running) return;
    clearInterval(running.silenceTimer);
    await Promise.all([
      running.rules.stop(),
      running.capacity.stop(),
      running.probes.stop(),
      running.silences.flush(),
    ]);
    await Promise.all([running.query.close(), running.remoteWriter?.close(), running.logSearch?.close()]);
  }

  /**
   * SIGHUP reads the rule files and the Alertmanager file again: a broken
   * file is reported with every problem and what is in force keeps running.
   * Other changes restart the component; its state is on disk.
   */
  async reload(next: AlertRulesConfig): Promise<void> {
    const inPlace = (c: AlertRulesConfig) => JSON.stringify({ ...c, ruleFiles: undefined });
    const running = this.running;
    let files: LoadedFiles;
    try {
      // Read before anything stops: a broken file leaves what is in force running.
      files = await this.loadFiles(next);
    } catch (err) {
      this.ctx.metrics.counter(ALERT_RULES_METRICS.reloadFailures).inc();
      this.ctx.log.error(
        { err: describeError(err) },
        'rule files or routing not reloaded; the ones in force keep running',
      );
      if (!running) throw err;
      return;
    }
    if (inPlace(next) !== inPlace(this.config) || !running) {
      await this.stop();
      this.config = next;
      await this.startWith(files);
      return;
    }
    this.config = next;
    await running.rules.update([...files.groups, ...running.capacity.ruleGroups()]);
    running.routing = files.routing;
    running.robotTemplates = files.robotTemplates;
    // Modules changed in their file: the probes start again with them, from their saved state.
    await running.probes.stop();
    running.probes = this.newProbes(next, files.probeModules);
    await running.probes.start();
    if (files.routing) this.sending?.dispatcher?.reload(files.routing.tree);
    this.ctx.log.info({ groups: files.groups.length }, 'rule files and routing reloaded');
  }

  private async loadFiles(config: AlertRulesConfig): Promise<LoadedFiles> {
    const [groups, routing, robotTemplates, probeModules] = await Promise.all([
      this.loadRules(config),
      this.loadRouting(config),
      this.loadRobotTemplates(config),
      loadProbeModules(config.probes),
    ]);
    return { groups, routing, robotTemplates, probeModules };
  }

  private newProbes(config: AlertRulesConfig, modules: Map<string, ProbeModule>): Probes {
    const { ctx } = this;
    const guard = createAddressGuard(config.probes);
    return new Probes({
      config: config.probes,
      modules,
      guard,
      prober: createProber({ guard }),
      clock: systemClock,
      notifier: this.notifier,
      dataDir: ctx.dataDir,
      alerts: {
        resendDelay: config.resendDelay,
        resolvedRetention: config.resolvedRetention,
        externalLabels: config.externalLabels,
        externalURL: config.externalURL ?? '',
      },
      metrics: ctx.metrics,
      log: ctx.log,
    });
  }

  private async loadRules(config: AlertRulesConfig): Promise<RuleGroupSpec[]> {
    return loadRuleFiles(config.ruleFiles, {
      baseDir: config.ruleFilesDir ?? process.cwd(),
      maxFileBytes: config.maxRuleFileBytes,
      remoteWrite: config.remoteWrite !== undefined,
      checkTemplate,
      logs: config.logs && { namespaces: await this.logNamespaces(config.logs) },
    });
  }

  /**
   * The namespaces the log search's token may read, so that a log rule over another is refused at
   * load; when the collector cannot tell now, such a rule fails at evaluation instead.
   */
  private async logNamespaces(config: LogSearchConfig): Promise<readonly string[] | undefined> {
    const client = new LogSearchClient(config);
    try {
      return await client.namespaces();
    } catch (err) {
      this.ctx.log.warn(
        { err: describeError(err) },
        'cannot ask the log search which namespaces its token may read; log rules are checked against them at evaluation',
      );
      return undefined;
    } finally {
      await client.close();
    }
  }

  private async loadRouting(config: AlertRulesConfig): Promise<Routing | undefined> {
    if (!config.routing) return undefined;
    const { receivers } = config.routing;
    const templates = await this.loadMessageTemplates(
      config,
      config.routing.templateFiles,
      receivers,
      'alertRules.routing.receivers',
    );
    const targets = Object.fromEntries(
      Object.entries(receivers).map(([name, r]) => [name, { ...r, template: templates.get(name) }]),
    );
    const routing = await loadRouting(
      config.routing.alertmanagerConfigFile,
      targets,
      this.chatRobots.names(),
    );
    for (const warning of routing.warnings) {
      this.ctx.log.warn({ file: config.routing.alertmanagerConfigFile }, warning);
    }
    return routing;
  }

  /** The webhook bridge's messages: template files of its own, else those of the routing. */
  private async loadRobotTemplates(config: AlertRulesConfig): Promise<ReadonlyMap<string, AlertTemplate>> {
    const { robots, templateFiles } = config.webhookBridge;
    const known = new Set(this.chatRobots.names());
    const unknown = Object.keys(robots).filter((robot) => !known.has(robot));
    if (unknown.length > 0) {
      throw new ConfigInvalidError(
        'webhook bridge',
        unknown.map((robot) => ({
          path: `alertRules.webhookBridge.robots.${robot}`,
          message: 'no robot has this name',
        })),
      );
    }
    if (Object.keys(robots).length === 0) return new Map();
    return this.loadMessageTemplates(
      config,
      templateFiles ?? config.routing?.templateFiles ?? [],
      robots,
      'alertRules.webhookBridge.robots',
    );
  }

  private async loadMessageTemplates(
    config: AlertRulesConfig,
    templateFiles: readonly string[],
    owners: Record<string, { message?: MessageTemplateConfig }>,
    where: string,
  ): Promise<Map<string, AlertTemplate>> {
    const files = await loadTemplateFiles(templateFiles, {
      baseDir: config.ruleFilesDir ?? process.cwd(),
      maxFileBytes: config.maxRuleFileBytes,
    });
    return compileMessageTemplates(files, owners, where, { settings: config.templates });
  }

  private silenceStore(config: AlertRulesConfig): SilenceStore {
    const { configMap } = config.silences;
    if (configMap) {
      return new ConfigMapSilenceStore({
        kube: this.kube!,
        namespace: configMap.namespace ?? ownNamespace(),
        name: configMap.name,
        retentionMs: config.silences.retention,
        maxBytes: configMap.maxBytes,
      });
    }
    const dir = join(this.ctx.dataDir, 'alert-rules');
    mkdirSync(dir, { recursive: true });
    return new FileSilenceStore(dir);
  }

  /** Expired silences go; with a shared ConfigMap, what other replicas changed comes in. */
  private async maintainSilences(silences: Silences): Promise<void> {
    try {
      await silences.gc();
      if (this.config.silences.configMap) await silences.sync();
    } catch (err) {
      this.ctx.log.warn({ err: describeError(err) }, 'cannot maintain silences; will try again');
    }
  }

  /** The rules' and the probes' alerts, for the API. */
  private alerts(): ReturnType<RuleManager['alerts']> | undefined {
    const running = this.running;
    if (!running) return undefined;
    return { alerts: [...running.rules.alerts().alerts, ...running.probes.alerts()] };
  }

  /** The silences and inhibiting alerts that keep an alert from chat, for the API. */
  private mutedBy(labels: Record<string, string>): { silencedBy: string[]; inhibitedBy: string[] } {
    const running = this.running;
    if (!running) return { silencedBy: [], inhibitedBy: [] };
    return {
      silencedBy: running.silences.mutedBy(labels),
      inhibitedBy: running.routing?.inhibitor.inhibitedBy(labels) ?? [],
    };
  }

  private ruleSettings(config: AlertRulesConfig, remoteWrite: boolean): Partial<RuleManagerSettings> {
    return {
      evaluationIntervalMs: config.evaluationInterval,
      resendDelayMs: config.resendDelay,
      resolvedRetentionMs: config.resolvedRetention,
      queryOffsetMs: config.queryOffset,
      queryTimeoutMs: config.prometheus.queryTimeout,
      externalLabels: config.externalLabels,
      externalURL: config.externalURL ?? '',
      generatorURLBase: config.generatorURL ?? config.prometheus.url,
      writeAlertSeries: remoteWrite,
      stateMaxBytes: config.maxStateBytes,
    };
  }

  /** Starts sending: the dispatcher with the notification log the leader keeps, and the forwarders. */
  private lead(): void {
    const { config, ctx } = this;
    const routing = this.running?.routing;
    const routingConfig = config.routing;
    let dispatcher: AlertDispatcher | undefined;
    if (routing && routingConfig) {
      const notificationLog = new NotificationLog({
        document: this.chatRobots.document('alert-notifications', 'alert notification log'),
        retentionMs: routingConfig.notificationLog.retention,
        maxEntries: routingConfig.notificationLog.maxEntries,
        log: ctx.log,
      });
      dispatcher = new AlertDispatcher({
        routing: routing.tree,
        receiver: (name) => this.running?.routing?.receiver(name),
        chat: this.chatRobots,
        notificationLog,
        messages: routingConfig.messages,
        externalURL: config.externalURL ?? '',
        mutes: {
          silences: { mutedBy: (labels, now) => this.running?.silences.mutedBy(labels, now) ?? [] },
          inhibitor: {
            setAlerts: (alerts) => this.running?.routing?.inhibitor.setAlerts(alerts),
            inhibitedBy: (labels) => this.running?.routing?.inhibitor.inhibitedBy(labels) ?? [],
          },
          timeIntervals: () => this.running?.routing?.timeIntervals ?? new Map(),
        },
        settings: { maxAlerts: routingConfig.maxAlerts, resolveTimeoutMs: routingConfig.resolveTimeout },
        log: ctx.log,
        metrics: ctx.metrics,
      });
    }
    const forwarder = config.forward
      ? new AlertmanagerForwarder({
          config: { ...config.forward, externalLabels: config.externalLabels },
          log: ctx.log,
          metrics: ctx.metrics,
        })
      : undefined;
    this.sending = { dispatcher, forwarder };
    const targets = [dispatcher, forwarder].filter((t): t is NonNullable<typeof t> => t !== undefined);
    this.notifier.lead(fanOut(targets));
    // The restored alert state says what the last process or leader sent, and the rules resend only every
    // resendDelay: a new dispatcher gets every alert held at the next evaluation.
    this.running?.rules.sendAllAgain();
    this.running?.probes.sendAllAgain();
  }

  private async unlead(): Promise<void> {
    this.notifier.unlead();
    const sending = this.sending;
    this.sending = undefined;
    await Promise.all([
      sending?.dispatcher?.stop(),
      sending?.forwarder?.stop(AbortSignal.timeout(FORWARD_DRAIN_MS)),
    ]);
  }
}

/** What log rules search with, when a log search is configured. */
function logRuleServices(
  config: LogSearchConfig | undefined,
): (LogRuleServices & { search: LogSearchClient }) | undefined {
  if (!config) return undefined;
  return {
    search: new LogSearchClient(config),
    consoleUrl: config.consoleUrl ?? config.url,
    sampleLines: config.sampleLines,
    sampleLineBytes: config.sampleLineBytes,
    alertsWithLines: config.alertsWithLines,
  };
}

function fanOut(targets: readonly AlertNotifier[]): AlertNotifier {
  return {
    send(alerts) {
      for (const target of targets) target.send(alerts);
    },
  };
}
