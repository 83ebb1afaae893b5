import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { BackoffOptions } from '../core/backoff.ts';
import type { ComponentContext } from '../core/component.ts';
import type { Service } from '../core/lifecycle.ts';
import { CheckpointStore } from './checkpoints.ts';
import type { SidecarConfig } from './config.ts';
import { nodeSourceFields, sidecarSourceFields, withFileService } from './enrich.ts';
import type { FileLogs } from './file-logs/file-logs.ts';
import { LogMetrics } from './log-metrics/counters.ts';
import { LogMetricsExport } from './log-metrics/export.ts';
import { SIDECAR_METRICS } from './metrics.ts';
import { compilePipeline, FilePipeline } from './parse/pipeline.ts';
import { openDiskQueue } from './queue/disk-queue.ts';
import { MemoryQueue } from './queue/memory-queue.ts';
import type { Queue } from './queue/queue.ts';
import { decodePayload } from './record.ts';
import { DeadLetterFile } from './sinks/dead-letter.ts';
import { ItemDelivery } from './sinks/item-retry.ts';
import { SinkRunner } from './sinks/runner.ts';
import type { Sink } from './sinks/sink.ts';
import { type FileCheckpoint, Tailer } from './tail/tailer.ts';
import type { SourceFields } from './types.ts';

interface Running {
  queue: Queue;
  checkpoints: CheckpointStore<FileCheckpoint>;
  runners: SinkRunner[];
  tailer: Tailer;
  fileLogs: FileLogs | undefined;
}

/**
 * The sidecar: tail → pipeline → disk queue → sinks. Reading stops first on
 * shutdown, so what was read lands in the queue and the checkpoints follow it.
 */
export class Sidecar implements Service<SidecarConfig> {
  readonly name = 'sidecar';
  private config: SidecarConfig;
  private readonly ctx: ComponentContext;
  private readonly logMetricsExport: LogMetricsExport;
  private running: Running | undefined;

  constructor(config: SidecarConfig, ctx: ComponentContext) {
    this.config = config;
    this.ctx = ctx;
    this.logMetricsExport = new LogMetricsExport(ctx.metrics);
    this.registerQueueMetrics();
    ctx.http.readiness.add('sinks', () => this.running?.runners.some((r) => r.healthy) ?? false);
    ctx.http.readiness.add('tailer', () => this.running?.tailer.healthy ?? false);
  }

  async start(): Promise<void> {
    this.running = await this.open(this.config);
    const { log } = this.ctx;
    log.info(
      {
        mode: this.config.mode,
        sinks: this.running.runners.map((r) => r.name),
        queue: this.config.queue.type,
      },
      'sidecar started',
    );
  }

  async stop(deadline: AbortSignal): Promise<void> {
    const running = this.running;
    this.running = undefined;
    if (!running) return;
    await running.tailer.stop(deadline);
    await running.fileLogs?.stop(deadline);
    await Promise.all(running.runners.map((r) => r.stop(deadline)));
    await running.queue.close();
  }

  /** Any change restarts the pipeline: nothing is lost, as the queue and checkpoints are on disk. */
  async reload(next: SidecarConfig, deadline: AbortSignal): Promise<void> {
    if (JSON.stringify(next) === JSON.stringify(this.config)) return;
    await this.stop(deadline);
    this.config = next;
    await this.start();
  }

  private async open(config: SidecarConfig): Promise<Running> {
    const { log, metrics } = this.ctx;
    const logMetrics = new LogMetrics(config.metrics);
    this.logMetricsExport.use(logMetrics);
    const dir = join(this.ctx.dataDir, 'sidecar');
    const backoff: BackoffOptions = { initialMs: config.retry.initial, maxMs: config.retry.max };
    const sinks = await this.buildSinks(config, dir, backoff);
    const names = sinks.map((s) => s.name);
    const queue: Queue =
      config.queue.type === 'disk'
        ? await openDiskQueue({
            dir: join(dir, 'queue'),
            sinks: names,
            maxBytes: config.queue.maxBytes,
            segmentBytes: config.queue.segmentBytes,
            fsync: config.queue.fsync === 'always' ? 'always' : { intervalMs: config.queue.fsync },
            log,
          })
        : new MemoryQueue({ sinks: names, maxBytes: config.queue.maxBytes });
    const checkpoints = await CheckpointStore.open<FileCheckpoint>(join(dir, 'checkpoints.json'), { log });
    const runners = sinks.map(
      (sink) =>
        new SinkRunner({
          sink,
          reader: queue.reader(sink.name),
          decode: decodePayload,
          batchBytes: config.batchBytes,
          backoff,
          log,
          metrics,
        }),
    );
    const compiled = new Map(
      config.inputs.map((input) => [input, compilePipeline(input, metrics, logMetrics)]),
    );
    const podFields = config.mode === 'sidecar' ? await sidecarSourceFields(config.kubernetes) : undefined;
    const tailer = new Tailer({
      inputs: config.inputs,
      append: (payloads, signal) => queue.append(payloads, signal),
      checkpoints,
      pipelineFor: ({ path, identity, input }) =>
        new FilePipeline(compiled.get(input)!, {
          source: podFields ? withFileService(podFields, path) : this.nodeFields(config, path),
          identity,
          path,
        }),
      log,
      metrics,
      maxLineBytes: config.maxLineBytes,
      batchBytes: config.batchBytes,
      scanIntervalMs: config.scanInterval,
      partialLineTimeoutMs: config.partialLineTimeout,
      releaseAfterMs: config.releaseAfter,
      restartBackoff: backoff,
    });
    // Loaded only when used: the Kubernetes client costs memory and start-up time.
    const fileLogs =
      config.mode === 'node' && config.fileLogs.enabled
        ? await (await import('./file-logs/file-logs.ts')).startFileLogs(config, {
            dir: join(dir, 'file-logs'),
            append: (payloads, signal) => queue.append(payloads, signal),
            backoff,
            log,
            metrics,
            logMetrics,
          })
        : undefined;
    for (const runner of runners) runner.start();
    tailer.start();
    return { queue, checkpoints, runners, tailer, fileLogs };
  }

  /** Node mode: the /var/log/containers link names pod and container, its /var/log/pods target the pod uid. */
  private nodeFields(config: SidecarConfig, path: string): SourceFields {
    let target = path;
    try {
      target = realpathSync(path);
    } catch {
      // Gone already: the link's name alone still tells most of it.
    }
    return nodeSourceFields(config.kubernetes, target === path ? [path] : [path, target]);
  }

  /** Sink modules load only when configured: each client library costs tens of MiB of memory. */
  private async buildSinks(config: SidecarConfig, dir: string, backoff: BackoffOptions): Promise<Sink[]> {
    const { log, metrics } = this.ctx;
    const deadLettered = metrics.counter(SIDECAR_METRICS.deadLettered);
    const retried = metrics.counter(SIDECAR_METRICS.sinkRetries);
    const deadLetter = (sink: string) =>
      new DeadLetterFile({
        dir: join(dir, 'dead-letter'),
        sink,
        maxBytes: config.deadLetter.maxBytes,
        counter: deadLettered,
        log,
      });
    const items = (sink: string) =>
      new ItemDelivery(deadLetter(sink), backoff, (count) => retried.inc({ sink }, count));
    const sinks: Sink[] = [];
    const { kafka, elasticsearch, http } = config.sinks;
    if (kafka) {
      const { KafkaSink } = await import('./sinks/kafka.ts');
      sinks.push(new KafkaSink('kafka', kafka, deadLetter('kafka')));
    }
    if (elasticsearch) {
      const { ElasticsearchSink } = await import('./sinks/elasticsearch.ts');
      sinks.push(new ElasticsearchSink('elasticsearch', elasticsearch, items('elasticsearch'), log));
    }
    if (http) {
      const { HttpSink } = await import('./sinks/http.ts');
      sinks.push(new HttpSink('http', http, items('http')));
    }
    return sinks;
  }

  private registerQueueMetrics(): void {
    const { metrics } = this.ctx;
    const stats = () => this.running?.queue.stats();
    metrics.gauge(SIDECAR_METRICS.queueBytes, function () {
      this.set(stats()?.bytes ?? 0);
    });
    metrics.gauge(SIDECAR_METRICS.queueOldestUnackedAge, function () {
      const oldest = stats()?.oldestUnackedAt;
      this.set(oldest === undefined ? 0 : (Date.now() - oldest) / 1000);
    });
    metrics.gauge(SIDECAR_METRICS.backpressure, function () {
      this.set(stats()?.backpressureSeconds ?? 0);
    });
    metrics.gauge(SIDECAR_METRICS.queueTornRecords, function () {
      this.set(stats()?.tornRecords ?? 0);
    });
  }
}
