import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { V1ObjectMeta, V1Pod } from '@kubernetes/client-node';
import type { BackoffOptions } from '../../core/backoff.ts';
import { createKubeClient } from '../../core/kube/client.ts';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import { CheckpointStore } from '../checkpoints.ts';
import type { SidecarConfig } from '../config.ts';
import { sourceFields } from '../enrich.ts';
import type { LogMetrics } from '../log-metrics/counters.ts';
import { SIDECAR_METRICS } from '../metrics.ts';
import { type CompiledPipeline, compilePipeline, FilePipeline } from '../parse/pipeline.ts';
import { type FileCheckpoint, Tailer, type TailInput } from '../tail/tailer.ts';
import type { SourceFields } from '../types.ts';
import { parseFileLogsAnnotation } from './annotation.ts';
import { type PodFileLog, placeFileLogs } from './pod-files.ts';
import { PodWatch } from './pod-watch.ts';

export interface FileLogsOptions {
  /** Where the file logs' checkpoints and the pods they belong to are kept. */
  dir: string;
  append(payloads: Buffer[], signal?: AbortSignal): Promise<void>;
  backoff: BackoffOptions;
  log: Logger;
  metrics: Metrics;
  /** Log metrics the files' events are counted in. */
  logMetrics?: LogMetrics;
  env?: NodeJS.ProcessEnv;
}

/** What is kept of a pod with file logs, so that its files can still be finished after a restart. */
interface SavedPod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  files: PodFileLog[];
}

/** One annotation entry of one pod, as the tailer reads it. */
interface FileLogInput extends TailInput {
  podUid: string;
  file: PodFileLog;
  /** The pod's fields; replaced when its labels change, so that files opened later carry the new ones. */
  source: SourceFields;
}

interface PodLogs {
  saved: SavedPod;
  /** The entries the annotation names now, by their pattern on the node. */
  inputs: Map<string, FileLogInput>;
  /** Entries no longer named, or of a deleted pod, whose files are still being read to their end. */
  leaving: Set<FileLogInput>;
  gone: boolean;
}

interface WatchedPod {
  uid: string;
  /** The annotation as last judged. */
  annotation: string | undefined;
}

function podName(meta: V1ObjectMeta | undefined): string {
  return `${meta?.namespace ?? ''}/${meta?.name ?? ''}`;
}

/**
 * The node agent's reader of the files pods name in their annotation: it learns the node's pods from
 * the API server and reads each declared file from the pod's emptyDir volume on the node, with the
 * sidecar's rules for identity, rotation, checkpoints and delivery. A deleted pod's files are read to
 * their end and queued before they are let go.
 */
export class FileLogs {
  private readonly config: SidecarConfig;
  private readonly options: FileLogsOptions;
  private readonly nodeName: string;
  private readonly compiled: CompiledPipeline;
  private readonly pods = new Map<string, PodLogs>();
  private readonly watched = new Map<string, WatchedPod>();
  private readonly m;
  private watch: PodWatch | undefined;
  private tailer: Tailer<FileLogInput> | undefined;
  private checkpoints!: CheckpointStore<FileCheckpoint>;
  private saved!: CheckpointStore<SavedPod>;
  /** The pods saved when the agent last ran, as they were before the first list changed any. */
  private restored = new Map<string, SavedPod>();

  constructor(config: SidecarConfig, nodeName: string, options: FileLogsOptions) {
    this.config = config;
    this.nodeName = nodeName;
    this.options = options;
    this.compiled = compilePipeline(config.fileLogs.input, options.metrics, options.logMetrics);
    const { metrics } = options;
    this.m = {
      pods: metrics.gauge(SIDECAR_METRICS.fileLogPods),
      annotations: metrics.counter(SIDECAR_METRICS.fileLogAnnotations),
      released: metrics.counter(SIDECAR_METRICS.fileLogPodsReleased),
      failures: metrics.counter(SIDECAR_METRICS.fileLogWatchFailures),
      up: metrics.gauge(SIDECAR_METRICS.fileLogReaderUp),
    };
  }

  /** Starts watching the node's pods; reading starts once they are listed. */
  async start(): Promise<void> {
    const { dir, log } = this.options;
    await mkdir(dir, { recursive: true });
    this.checkpoints = await CheckpointStore.open<FileCheckpoint>(join(dir, 'checkpoints.json'), { log });
    this.saved = await CheckpointStore.open<SavedPod>(join(dir, 'pods.json'), { log });
    this.restored = new Map(this.saved.keys().map((uid) => [uid, this.saved.get(uid)!]));
    this.m.up.set(0);
    const { fileLogs } = this.config;
    this.watch = new PodWatch({
      kube: createKubeClient(fileLogs.kubernetes),
      nodeName: this.nodeName,
      requestTimeoutMs: fileLogs.requestTimeout,
      backoff: this.options.backoff,
      log,
      failures: this.m.failures,
      onPod: (pod) => this.onPod(pod),
      onPodGone: (pod) => this.onPodGone(pod),
    });
    this.watch.start();
    const watch = this.watch;
    void watch.synced.then(() => {
      if (this.watch === watch) this.beginReading();
    });
    log.info(
      { node: this.nodeName, annotation: fileLogs.annotation },
      'watching the node’s pods for file logs',
    );
  }

  async stop(deadline: AbortSignal): Promise<void> {
    this.watch?.stop();
    this.watch = undefined;
    await this.tailer?.stop(deadline);
    this.tailer = undefined;
    await this.saved?.flush();
  }

  /**
   * Pods listed: read what they name, and finish the files they named before a restart but no more,
   * and those of pods deleted while no one watched.
   */
  private beginReading(): void {
    const listed = new Set([...this.watched.values()].map((w) => w.uid));
    for (const [uid, saved] of this.restored) {
      const pod = this.pods.get(uid) ?? this.track(uid, saved);
      pod.gone = !listed.has(uid);
      for (const file of saved.files) {
        if (!pod.inputs.has(file.pattern)) pod.leaving.add(this.inputFor(uid, saved, file));
      }
      this.settle(uid, pod);
    }
    this.restored.clear();
    const active = [...this.pods.values()].flatMap((pod) => [...pod.inputs.values()]);
    const leaving = [...this.pods.values()].flatMap((pod) => [...pod.leaving]);
    const { config, options } = this;
    this.tailer = new Tailer<FileLogInput>({
      inputs: [...active, ...leaving],
      append: options.append,
      checkpoints: this.checkpoints,
      pipelineFor: ({ path, identity, input }) =>
        new FilePipeline(this.compiled, { source: input.source, identity, path }),
      onInputReleased: (input) => this.released(input),
      gauges: { filesOpen: SIDECAR_METRICS.fileLogFilesOpen, up: SIDECAR_METRICS.fileLogReaderUp },
      log: options.log,
      metrics: options.metrics,
      maxLineBytes: config.maxLineBytes,
      batchBytes: config.batchBytes,
      scanIntervalMs: config.scanInterval,
      partialLineTimeoutMs: config.partialLineTimeout,
      releaseAfterMs: config.releaseAfter,
      restartBackoff: options.backoff,
    });
    for (const input of leaving) this.tailer.removeInput(input);
    this.tailer.start();
    options.log.info(
      { node: this.nodeName, pods: this.watched.size, reading: active.length, finishing: leaving.length },
      'reading the file logs of the node’s pods',
    );
  }

  private onPod(pod: V1Pod): void {
    const meta = pod.metadata;
    const uid = meta?.uid;
    if (!uid || !pod.spec) return;
    const name = podName(meta);
    const known = this.watched.get(name);
    // Deleted and made again under the same name between two lists.
    if (known && known.uid !== uid) this.gone(known.uid);
    const annotation = meta.annotations?.[this.config.fileLogs.annotation];
    this.watched.set(name, { uid, annotation });
    this.m.pods.set(this.watched.size);
    // Most changes of a pod are of its status: only the annotation and the labels matter here.
    if (known?.uid === uid && known.annotation === annotation) {
      this.relabel(uid, meta.labels ?? {});
      return;
    }
    if (annotation === undefined) {
      this.setFiles(uid, meta, []);
      return;
    }
    const { annotation: key, maxEntries, kubeletRoot } = this.config.fileLogs;
    const entries = parseFileLogsAnnotation(annotation, maxEntries);
    const placed = entries.ok ? placeFileLogs(pod.spec, uid, entries.value, kubeletRoot) : entries;
    if (!placed.ok) {
      this.m.annotations.inc({ outcome: 'refused' });
      // Refused at the first list after a restart: what was accepted before the restart goes on.
      const before = this.restored.get(uid);
      if (before && !this.pods.has(uid)) this.setFiles(uid, meta, before.files);
      this.options.log.warn(
        {
          namespace: meta.namespace,
          pod: meta.name,
          annotation: key,
          reason: placed.reason,
          keeping: this.pods.get(uid)?.inputs.size ?? 0,
        },
        'file-logs annotation refused; files it named before, if any, are still read',
      );
      return;
    }
    this.m.annotations.inc({ outcome: 'accepted' });
    this.options.log.info(
      {
        namespace: meta.namespace,
        pod: meta.name,
        files: placed.value.map((f) => `${f.container}: ${f.pattern}`),
      },
      'reading file logs of a pod',
    );
    this.setFiles(uid, meta, placed.value);
  }

  private onPodGone(pod: V1Pod): void {
    const name = podName(pod.metadata);
    const uid = pod.metadata?.uid;
    if (this.watched.get(name)?.uid !== uid) return;
    this.watched.delete(name);
    this.m.pods.set(this.watched.size);
    if (uid) this.gone(uid);
  }

  /** A pod is gone: its files are read to their end, then let go. */
  private gone(uid: string): void {
    const pod = this.pods.get(uid);
    if (!pod) return;
    pod.gone = true;
    for (const input of pod.inputs.values()) this.leave(pod, input);
    pod.inputs.clear();
    this.settle(uid, pod);
  }

  private setFiles(uid: string, meta: V1ObjectMeta, files: PodFileLog[]): void {
    if (!this.pods.has(uid) && files.length === 0) return;
    const saved: SavedPod = {
      namespace: meta.namespace ?? '',
      name: meta.name ?? '',
      labels: meta.labels ?? {},
      files,
    };
    const pod = this.pods.get(uid) ?? this.track(uid, saved);
    this.relabel(uid, saved.labels);
    pod.saved = saved;
    const named = new Set(files.map((file) => file.pattern));
    for (const [pattern, input] of pod.inputs) {
      if (named.has(pattern)) continue;
      pod.inputs.delete(pattern);
      this.leave(pod, input);
    }
    for (const file of files) {
      if (pod.inputs.has(file.pattern)) continue;
      const input = this.inputFor(uid, saved, file);
      pod.inputs.set(file.pattern, input);
      this.tailer?.addInput(input);
    }
    this.settle(uid, pod);
  }

  private track(uid: string, saved: SavedPod): PodLogs {
    const pod: PodLogs = { saved, inputs: new Map(), leaving: new Set(), gone: false };
    this.pods.set(uid, pod);
    return pod;
  }

  private leave(pod: PodLogs, input: FileLogInput): void {
    pod.leaving.add(input);
    this.tailer?.removeInput(input);
  }

  /** New labels for the files opened from now on. */
  private relabel(uid: string, labels: Record<string, string>): void {
    const pod = this.pods.get(uid);
    if (!pod || JSON.stringify(labels) === JSON.stringify(pod.saved.labels)) return;
    pod.saved = { ...pod.saved, labels };
    for (const input of pod.inputs.values()) input.source = this.sourceOf(uid, pod.saved, input.file);
    this.save(uid, pod);
  }

  private inputFor(uid: string, saved: SavedPod, file: PodFileLog): FileLogInput {
    return {
      paths: [file.pattern],
      exclude: [],
      readFrom: this.config.fileLogs.input.readFrom,
      within: file.dir,
      podUid: uid,
      file,
      source: this.sourceOf(uid, saved, file),
    };
  }

  private sourceOf(uid: string, saved: SavedPod, file: PodFileLog): SourceFields {
    const info = {
      namespace: saved.namespace,
      podName: saved.name,
      podUid: uid,
      containerName: file.container,
      nodeName: this.nodeName,
      labels: saved.labels,
    };
    return sourceFields(this.config.kubernetes, info, hostname());
  }

  private released(input: FileLogInput): void {
    const pod = this.pods.get(input.podUid);
    if (!pod) return;
    pod.leaving.delete(input);
    this.settle(input.podUid, pod);
  }

  /** Forgets a pod once it has nothing left to read; a deleted one is counted as released. */
  private settle(uid: string, pod: PodLogs): void {
    if (pod.inputs.size > 0 || pod.leaving.size > 0) {
      this.save(uid, pod);
      return;
    }
    this.pods.delete(uid);
    this.saved.delete(uid);
    this.persist();
    if (!pod.gone) return;
    this.m.released.inc();
    this.options.log.info(
      { namespace: pod.saved.namespace, pod: pod.saved.name, uid },
      'file logs of a deleted pod read to their end and released',
    );
  }

  /** Keeps every file the pod still has to be read, named now or leaving. */
  private save(uid: string, pod: PodLogs): void {
    const files = [...pod.inputs.values(), ...pod.leaving].map((input) => input.file);
    this.saved.set(uid, { ...pod.saved, files });
    this.persist();
  }

  private persist(): void {
    this.saved.flush().catch((err: unknown) => {
      this.options.log.warn(
        { err },
        'cannot save the pods whose file logs are read; will try at the next change',
      );
    });
  }
}

/**
 * The node agent's file logs, unless the node's name is unknown: without it the agent cannot tell
 * which pods are its own.
 */
export async function startFileLogs(
  config: SidecarConfig,
  options: FileLogsOptions,
): Promise<FileLogs | undefined> {
  const env = options.env ?? process.env;
  const nodeName = config.fileLogs.nodeName ?? env[config.kubernetes.env.nodeName];
  if (!nodeName) {
    options.log.error(
      { variable: config.kubernetes.env.nodeName },
      'file logs are off: the node name is unknown (set the variable from spec.nodeName, or sidecar.fileLogs.nodeName; or sidecar.fileLogs.enabled: false)',
    );
    return undefined;
  }
  const fileLogs = new FileLogs(config, nodeName, options);
  await fileLogs.start();
  return fileLogs;
}
