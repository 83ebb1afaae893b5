import type { KubeConfig } from '@kubernetes/client-node';
import { systemClock } from '../core/clock.ts';
import type { ComponentContext } from '../core/component.ts';
import { describeError } from '../core/errors.ts';
import { loadKubeConfig } from '../core/kube/client.ts';
import type { Service } from '../core/lifecycle.ts';
import type { ChatRobots } from '../notify/chat-robots.ts';
import { Leadership } from '../notify/leadership.ts';
import { CapacityRecommender } from './capacity/capacity.ts';
import type { AlertRulesConfig } from './config.ts';
import { registerRulesApi } from './http/rules-api.ts';
import { LeadingNotifier } from './leading-notifier.ts';
import { loadRuleFiles } from './rules/load.ts';
import { PrometheusQueryClient } from './rules/prometheus-client.ts';
import { RemoteWriteClient } from './rules/remote-write.ts';
import { RuleManager, type RuleManagerSettings } from './rules/rule-manager.ts';
import { checkTemplate, configureTemplates, expandTemplate } from './rules/template/expand.ts';
import type { RemoteWriter, RuleGroupSpec } from './types.ts';

/** What stops with the configuration it was built from. */
interface Running {
  query: PrometheusQueryClient;
  remoteWriter: RemoteWriteClient | undefined;
  rules: RuleManager;
  capacity: CapacityRecommender;
}

/** Without a remote-write target nothing is written: recording rules are refused when the files load. */
const NO_REMOTE_WRITE: RemoteWriter = { write: async () => {} };

/**
 * Prometheus rules evaluated as Prometheus evaluates them, capacity
 * recommendations, and the alerts they raise sent on. Every replica
 * evaluates (so a new leader knows the state); only the leader sends.
 */
export class AlertRules implements Service<AlertRulesConfig> {
  readonly name = 'alert-rules';
  private config: AlertRulesConfig;
  private readonly ctx: ComponentContext;
  private readonly leadership: Leadership;
  private readonly notifier = new LeadingNotifier();
  private running: Running | undefined;
  private kubeConfig: KubeConfig | undefined;

  constructor(config: AlertRulesConfig, ctx: ComponentContext, chatRobots: ChatRobots) {
    this.config = config;
    this.ctx = ctx;
    this.leadership = new Leadership({
      enabled: config.leaderElection.enabled,
      chatRobots,
      log: ctx.log,
      metrics: ctx.metrics,
      noun: 'alert-rules',
      lead: async () => this.lead(),
      unlead: async () => this.unlead(),
    });
    registerRulesApi(ctx.http.app, {
      alerts: () => this.running?.rules.alerts(),
      rules: () => this.running?.rules.rules(),
      recommendations: () => this.running?.capacity.list() ?? [],
    });
  }

  async start(): Promise<void> {
    const { config, ctx } = this;
    configureTemplates(config.templates);
    const groups = await this.loadRules(config);
    const query = new PrometheusQueryClient(config.prometheus);
    const remoteWriter = config.remoteWrite
      ? new RemoteWriteClient(config.remoteWrite, {
          onDropped: (samples, reason) => ctx.log.warn({ samples, reason }, 'remote write dropped samples'),
        })
      : undefined;
    const rules = new RuleManager({
      queryApi: query,
      remoteWriter: remoteWriter ?? NO_REMOTE_WRITE,
      notifier: this.notifier,
      render: expandTemplate,
      clock: systemClock,
      log: ctx.log,
      metrics: ctx.metrics,
      dataDir: ctx.dataDir,
      settings: this.ruleSettings(config, remoteWriter !== undefined),
    });
    await rules.start(groups);
    const capacity = new CapacityRecommender({
      config: config.capacity,
      query,
      notifier: this.notifier,
      metrics: ctx.metrics,
      log: ctx.log,
      externalUrl: config.externalURL,
    });
    capacity.start();
    this.running = { query, remoteWriter, rules, capacity };
    if (config.leaderElection.enabled) this.kubeConfig ??= loadKubeConfig(config.kubernetes);
    this.leadership.start(config.leaderElection, this.kubeConfig);
    ctx.log.info(
      {
        groups: groups.length,
        rules: groups.reduce((n, g) => n + g.rules.length, 0),
        recommendations: config.capacity.length,
        prometheus: new URL(config.prometheus.url).origin,
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
    await Promise.all([running.rules.stop(), running.capacity.stop()]);
    await Promise.all([running.query.close(), running.remoteWriter?.close()]);
  }

  /**
   * Rule files are read again on every reload (SIGHUP): a broken file is
   * reported with every problem and the rules in force keep running. Other
   * changes restart the component; its alert state is on disk.
   */
  async reload(next: AlertRulesConfig, deadline: AbortSignal): Promise<void> {
    const rulesOnly = (c: AlertRulesConfig) => JSON.stringify({ ...c, ruleFiles: undefined });
    if (rulesOnly(next) !== rulesOnly(this.config) || !this.running) {
      await this.stop();
      this.config = next;
      await this.start();
      return;
    }
    void deadline;
    let groups: RuleGroupSpec[];
    try {
      groups = await this.loadRules(next);
    } catch (err) {
      this.ctx.log.error(
        { err: describeError(err) },
        'rule files not reloaded; the rules in force keep running',
      );
      return;
    }
    this.config = next;
    await this.running.rules.update(groups);
    this.ctx.log.info({ groups: groups.length }, 'rule files reloaded');
  }

  private loadRules(config: AlertRulesConfig): Promise<RuleGroupSpec[]> {
    return loadRuleFiles(config.ruleFiles, {
      baseDir: config.ruleFilesDir ?? process.cwd(),
      maxFileBytes: config.maxRuleFileBytes,
      remoteWrite: config.remoteWrite !== undefined,
      checkTemplate,
    });
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

  private lead(): void {
    // Filled in with the dispatcher and the Alertmanager forwarders.
  }

  private unlead(): void {
    this.notifier.target = undefined;
  }
}
