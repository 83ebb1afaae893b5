import { HttpError } from '../../core/auth.ts';
import type { Clock } from '../../core/clock.ts';
import { formatConfigErrors, validate } from '../../core/config.ts';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import { type ApiAlert, apiAlert } from '../rules/api-shapes.ts';
import type { AlertNotifier, Labels } from '../types.ts';
import { type Assignment, type BatchReceipt, resultBatchSchema } from './agent-protocol.ts';
import type { AgentLocationStatus } from './agent-watch.ts';
import { ApiTargets } from './api-targets.ts';
import { latestExposition, probeExposition } from './exposition.ts';
import { checkTargetAtCreation } from './probe-target.ts';
import type { ProbesConfig } from './probes-config.ts';
import { ProbeLimitError, type ProbeResultsJson, ProbeScheduler, type ProbeStatus } from './scheduler.ts';
import {
  newTargetId,
  type ProbeTarget,
  type ProbeTargetInput,
  probeTargetSchema,
  resolveProbeTarget,
} from './target-config.ts';
import type { AddressGuard, ProbeModule, Prober } from './types.ts';

export interface ProbeView extends ProbeStatus {
  /** `config`: from the configuration file, read-only in the API; `api`: created through it. */
  source: 'config' | 'api';
  spec: ProbeTargetInput;
}

export interface ProbesOptions {
  config: ProbesConfig;
  modules: ReadonlyMap<string, ProbeModule>;
  guard: AddressGuard;
  prober: Prober;
  clock: Clock;
  notifier: AlertNotifier;
  dataDir: string;
  /** The rules' resend and retention, so probe alerts are sent as the rules' are. */
  alerts: { resendDelay: number; resolvedRetention: number; externalLabels: Labels; externalURL: string };
  metrics: Metrics;
  log: Logger;
}

/**
 * The probes of alert-rules: the configuration's targets and those created
 * through the API (kept in the data directory), checked against the address
 * guard when they are created, probed by the scheduler, and shown under
 * blackbox_exporter's metric names.
 */
export class Probes {
  private readonly options: ProbesOptions;
  private readonly scheduler: ProbeScheduler;
  private readonly apiTargets: ApiTargets;
  private readonly targetSchema;
  private readonly batchSchema;
  private readonly configSpecs = new Map<string, ProbeTargetInput>();

  constructor(options: ProbesOptions) {
    this.options = options;
    const { config } = options;
    this.targetSchema = probeTargetSchema(config.targetLimits);
    this.batchSchema = resultBatchSchema(config.agents.maxBatchResults);
    this.scheduler = new ProbeScheduler({
      prober: options.prober,
      clock: options.clock,
      notifier: options.notifier,
      dataDir: options.dataDir,
      settings: { ...config, ...options.alerts },
      metrics: options.metrics,
      log: options.log,
    });
    this.apiTargets = new ApiTargets({
      dataDir: options.dataDir,
      maxBytes: config.maxStateBytes,
      log: options.log,
      metrics: options.metrics,
    });
    options.metrics.exposition('probes', () => latestExposition(this.scheduler.latestResults()));
  }

  async start(): Promise<void> {
    const { config, log } = this.options;
    const targets: ProbeTarget[] = [];
    for (const spec of config.targets) {
      const id = spec.name as string;
      this.configSpecs.set(id, spec);
      targets.push(this.resolve(spec, id));
    }
    let overLimit = 0;
    for (const [id, input] of await this.apiTargets.load()) {
      if (this.configSpecs.has(id)) continue;
      // maxTargets lowered since they were created: the process starts with those that fit.
      if (targets.length >= config.maxTargets) {
        overLimit++;
        continue;
      }
      try {
        targets.push(this.resolve(this.validate(input), id));
      } catch (err) {
        // A module removed from the configuration: the target stays listed in the file, not probed.
        log.error(
          { probe: id, err: (err as Error).message },
          'A saved probe target is not valid any more; not probed',
        );
      }
    }
    if (overLimit > 0)
      log.error(
        { targets: overLimit, maxTargets: config.maxTargets },
        'Saved probe targets beyond maxTargets are not probed; raise maxTargets or delete targets',
      );
    await this.scheduler.start(targets);
  }

  stop(): Promise<void> {
    return this.scheduler.stop();
  }

  sendAllAgain(): void {
    this.scheduler.sendAllAgain();
  }

  list(): ProbeView[] {
    return this.scheduler.states().map((status) => this.view(status));
  }

  /** The modules a target may name, for a form to offer. */
  moduleNames(): string[] {
    return [...this.options.modules.keys()].sort();
  }

  get(id: string): ProbeView {
    const status = this.scheduler.stateOf(id);
    if (!status) throw new HttpError(404, `probe ${id} not found`);
    return this.view(status);
  }

  /** The probes' firing alerts in the shape of `/api/alerts`. */
  alerts(): ApiAlert[] {
    return this.scheduler.firingAlerts().map(apiAlert);
  }

  results(id: string): ProbeResultsJson {
    const results = this.scheduler.results(id);
    if (!results) throw new HttpError(404, `probe ${id} not found`);
    return results;
  }

  /** Creates a target; its name, when given, is its id. */
  async create(body: unknown): Promise<ProbeView> {
    const spec = this.validate(body);
    const id = spec.name ?? newTargetId();
    if (this.configSpecs.has(id) || this.apiTargets.has(id))
      throw new HttpError(409, `probe ${id} exists; PUT /api/probes/${id} changes it`);
    return this.save(id, spec, body as ProbeTargetInput);
  }

  /** Replaces a target created through the API. */
  async replace(id: string, body: unknown): Promise<ProbeView> {
    this.writable(id);
    const spec = this.validate(body);
    if (spec.name !== undefined && spec.name !== id)
      throw new HttpError(400, `the name ${spec.name} differs from the probe's id ${id}`);
    return this.save(id, spec, body as ProbeTargetInput);
  }

  async remove(id: string): Promise<void> {
    this.writable(id);
    this.scheduler.remove(id);
    await this.apiTargets.delete(id);
  }

  /** The targets the agents at `location` probe. */
  assignment(location: string): Assignment {
    return this.scheduler.assignment(location);
  }

  /**
   * A batch of an agent's results, validated here: a malformed one is a 400;
   * one of too many results a 413, which the agent answers with smaller batches.
   */
  report(body: unknown): BatchReceipt {
    const { maxBatchResults } = this.options.config.agents;
    const results = (body as { results?: unknown } | null)?.results;
    if (Array.isArray(results) && results.length > maxBatchResults)
      throw new HttpError(
        413,
        `a batch may carry at most ${maxBatchResults} results (agents.maxBatchResults)`,
      );
    const result = validate(this.batchSchema, body);
    if (!result.ok) throw new HttpError(400, formatConfigErrors(result.errors));
    return this.scheduler.report(result.value);
  }

  agentLocations(): AgentLocationStatus[] {
    return this.scheduler.agentLocations();
  }

  /**
   * One probe now, answered as blackbox_exporter's `/probe` answers: the
   * target is checked against the address guard as every probe is.
   */
  async probeOnce(target: string, moduleName: string, signal: AbortSignal): Promise<string> {
    const { maxTargetLength } = this.options.config.targetLimits;
    if (target.length > maxTargetLength)
      throw new HttpError(
        400,
        `the target is longer than ${maxTargetLength} characters (targetLimits.maxTargetLength)`,
      );
    const module = this.options.modules.get(moduleName);
    if (!module) throw new HttpError(400, `Unknown module "${moduleName}"`);
    const timeout = AbortSignal.any([signal, AbortSignal.timeout(module.timeoutMs)]);
    const result = await this.options.prober({ target, module, signal: timeout });
    return probeExposition(result);
  }

  private writable(id: string): void {
    if (this.configSpecs.has(id))
      throw new HttpError(409, `probe ${id} comes from the configuration file; change it there`);
    if (!this.apiTargets.has(id)) throw new HttpError(404, `probe ${id} not found`);
  }

  private validate(body: unknown) {
    const result = validate(this.targetSchema, body);
    if (!result.ok) throw new HttpError(400, formatConfigErrors(result.errors));
    return result.value;
  }

  private resolve(spec: ReturnType<typeof this.validate>, id: string): ProbeTarget {
    try {
      return resolveProbeTarget(spec, this.options.modules, id);
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
  }

  private async save(id: string, spec: ReturnType<typeof this.validate>, input: ProbeTargetInput) {
    const target = this.resolve(spec, id);
    // Agents probe from their own networks, through their own address guards: this one is not theirs.
    const refused =
      target.locations.length === 0 &&
      (await checkTargetAtCreation(this.options.guard, target.target, target.module.prober));
    if (refused) throw new HttpError(400, `target refused: ${refused}`);
    try {
      this.scheduler.upsert(target);
    } catch (err) {
      // Not 409, which this API answers for a target that exists: a client creating targets idempotently must not
      // take "no room" for "already there". Kubernetes answers a full quota with 403 too.
      if (err instanceof ProbeLimitError) throw new HttpError(403, `${err.message}; delete some first`);
      throw err;
    }
    await this.apiTargets.set(id, input);
    return this.get(id);
  }

  private view(status: ProbeStatus): ProbeView {
    const config = this.configSpecs.get(status.id);
    return {
      ...status,
      source: config ? 'config' : 'api',
      spec: config ?? (this.apiTargets.get(status.id) as ProbeTargetInput),
    };
  }
}
