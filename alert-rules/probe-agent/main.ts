import { join } from 'node:path';
import { systemClock } from '../../core/clock.ts';
import type { ComponentContext } from '../../core/component.ts';
import { describeError } from '../../core/errors.ts';
import type { Service } from '../../core/lifecycle.ts';
import type { GaugeDefinition } from '../../core/metrics.ts';
import { createAddressGuard } from '../probes/address-guard.ts';
import { type Assignment, reportedResult } from '../probes/agent-protocol.ts';
import { PROBE_AGENT_METRICS as M } from '../probes/metrics.ts';
import { type Probed, ProbeRunner } from '../probes/probe-runner.ts';
import { createProber } from '../probes/probers.ts';
import type { ProbeResult } from '../probes/types.ts';
import { AssignmentFile, assignedTargets } from './assignment.ts';
import { CentreClient } from './centre-client.ts';
import type { ProbeAgentConfig } from './config.ts';
import { Reporter } from './reporter.ts';
import { ResultsBuffer } from './results-buffer.ts';

/** What stops with the configuration it was built from. */
interface Running {
  buffer: ResultsBuffer;
  runner: ProbeRunner<Probed>;
  client: CentreClient;
  reporter: Reporter;
  assignmentFile: AssignmentFile;
  stopping: AbortController;
  loops: Promise<void>[];
  etag: string | undefined;
}

/**
 * `lookout probe-agent`: probes, from where it runs, the targets the centre
 * (alert-rules) assigns to its location, with the same probers, address
 * guard (its own settings) and scheduling as the centre's own probes, and
 * reports every result there. Results wait in a bounded buffer on disk while
 * the centre cannot be reached; the last assignment is kept on disk too, so
 * an agent restarted while the centre is away probes on.
 */
export class ProbeAgent implements Service<ProbeAgentConfig> {
  readonly name = 'probe-agent';
  private config: ProbeAgentConfig;
  private readonly ctx: ComponentContext;
  private running: Running | undefined;
  private readonly metrics;

  constructor(config: ProbeAgentConfig, ctx: ComponentContext) {
    this.config = config;
    this.ctx = ctx;
    const { metrics } = ctx;
    this.metrics = {
      dropped: metrics.counter(M.dropped),
      assignment: metrics.counter(M.assignment),
    };
    const gauge = (definition: GaugeDefinition, value: (running: Running) => number) =>
      metrics.seriesGauge(definition, () => [{ labels: {}, value: this.running ? value(this.running) : 0 }]);
    gauge(M.buffered, ({ buffer }) => buffer.pending);
    gauge(M.bufferBytes, ({ buffer }) => buffer.bytes);
    gauge(M.targets, ({ runner }) => runner.size);
    ctx.http.readiness.add('probe-agent', () => this.running !== undefined);
  }

  async start(): Promise<void> {
    const { config, ctx } = this;
    // One directory per location: results taken at one are never reported as another's.
    const dir = join(ctx.dataDir, 'probe-agent', config.location);
    const buffer = await ResultsBuffer.open({
      dir,
      maxBytes: config.maxBufferBytes,
      fsyncIntervalMs: config.fsyncInterval,
      log: ctx.log,
      now: systemClock.now,
    });
    const client = new CentreClient(config);
    const reporter = new Reporter({
      config,
      buffer,
      client,
      clock: systemClock,
      log: ctx.log,
      metrics: ctx.metrics,
    });
    const guard = createAddressGuard(config);
    const runner = new ProbeRunner<Probed>({
      prober: createProber({ guard }),
      clock: systemClock,
      settings: config,
      metrics: ctx.metrics,
      log: ctx.log,
      onResult: (target, result) => this.keep(target, result),
    });
    const assignmentFile = new AssignmentFile(dir, ctx.log);
    const saved = await assignmentFile.load();
    const stopping = new AbortController();
    const running: Running = {
      buffer,
      runner,
      client,
      reporter,
      assignmentFile,
      stopping,
      loops: [],
      etag: saved?.etag,
    };
    this.running = running;
    if (saved) this.apply(running, saved.assignment);
    runner.start();
    running.loops = [this.fetchAssignments(running), reporter.run(stopping.signal)];
    ctx.log.info(
      { location: config.location, agent: buffer.agent, targets: runner.size, pending: buffer.pending },
      'probe agent started',
    );
  }

  async stop(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    if (!running) return;
    running.stopping.abort();
    await running.runner.stop();
    await Promise.all(running.loops);
    running.buffer.close();
    await running.client.close();
  }

  /** Any change restarts the agent: its results and assignment are on disk. */
  async reload(next: ProbeAgentConfig): Promise<void> {
    await this.stop();
    this.config = next;
    await this.start();
  }

  /** A result into the buffer, for the reporter to send. */
  private keep(target: Probed, result: ProbeResult): void {
    const running = this.running;
    if (!running) return;
    const { buffer } = running;
    const dropped = buffer.dropped;
    try {
      buffer.append((seq) => reportedResult(seq, target, result));
    } catch (err) {
      // A full or failing disk: the result cannot be kept, and the centre will see the gap.
      this.metrics.dropped.inc();
      this.ctx.log.error({ err: describeError(err) }, 'A probe result could not be buffered; dropped');
      return;
    }
    if (buffer.dropped > dropped) this.metrics.dropped.inc(buffer.dropped - dropped);
    running.reporter.notify();
  }

  /** Asks the centre for the assignment now and every `assignmentInterval`; a failure keeps the last one. */
  private async fetchAssignments(running: Running): Promise<void> {
    const { config, ctx } = this;
    let failingSinceMs: number | undefined;
    const { signal } = running.stopping;
    while (!signal.aborted) {
      try {
        const fetched = await running.client.assignment(running.etag);
        this.metrics.assignment.inc({ outcome: fetched.changed ? 'changed' : 'unchanged' });
        if (fetched.changed && !signal.aborted) {
          running.etag = fetched.etag;
          this.apply(running, fetched.assignment);
          await running.assignmentFile.save({ etag: fetched.etag, assignment: fetched.assignment });
        }
        if (failingSinceMs !== undefined)
          ctx.log.info({ failedForMs: Date.now() - failingSinceMs }, 'The assignment is fetched again');
        failingSinceMs = undefined;
      } catch (err) {
        this.metrics.assignment.inc({ outcome: 'failed' });
        if (failingSinceMs === undefined)
          ctx.log.warn(
            { err: describeError(err), targets: running.runner.size },
            'The assignment cannot be fetched; probing on with the last one',
          );
        failingSinceMs ??= Date.now();
      }
      await systemClock.sleep(config.assignmentInterval, signal);
    }
  }

  /** Probes what the assignment says: new targets added, changed ones changed, the others removed. */
  private apply(running: Running, assignment: Assignment): void {
    if (assignment.location !== this.config.location) return;
    const targets = assignedTargets(assignment, this.config.maxTargets, this.ctx.log);
    const wanted = new Set(targets.map((target) => target.id));
    for (const id of running.runner.ids()) if (!wanted.has(id)) running.runner.remove(id);
    for (const target of targets) running.runner.upsert(target);
    this.ctx.log.info({ targets: targets.length }, 'Probe assignment applied');
  }
}
