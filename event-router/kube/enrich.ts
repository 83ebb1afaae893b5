import type { Counter } from 'prom-client';
import { describeApiError, responseStatus } from '../../core/kube/api-requests.ts';
import type { KubeClient, RequestOptions } from '../../core/kube/client.ts';
import type { ObjectMeta } from '../../core/kube/objects.ts';
import { ThrottledWarning } from '../../core/kube/throttled-warning.ts';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import type { ObservedEvent, OwnerRef } from '../event.ts';
import { EVENT_ROUTER_METRICS } from '../metrics.ts';
import { TtlLruCache } from './ttl-cache.ts';

export interface EnricherOptions {
  kube: KubeClient;
  log: Logger;
  metrics?: Metrics;
  /** Objects remembered at once, found or not; the least recently used are forgotten first. */
  maxEntries?: number;
  /** How long what was learned about an object (or that it does not exist) is believed. */
  ttlMs?: number;
  /** A lookup the API server has not answered by then counts as failed. */
  requestTimeoutMs?: number;
}

/** Where an object of each kind looked up lives; other kinds carry no labels worth a request. */
const COLLECTIONS = new Map<string, { group: string; resource: string; clusterScoped?: boolean }>([
  ['Pod', { group: '/api/v1', resource: 'pods' }],
  ['Node', { group: '/api/v1', resource: 'nodes', clusterScoped: true }],
  ['Namespace', { group: '/api/v1', resource: 'namespaces', clusterScoped: true }],
  ['Service', { group: '/api/v1', resource: 'services' }],
  ['PersistentVolumeClaim', { group: '/api/v1', resource: 'persistentvolumeclaims' }],
  ['ReplicaSet', { group: '/apis/apps/v1', resource: 'replicasets' }],
  ['Deployment', { group: '/apis/apps/v1', resource: 'deployments' }],
  ['StatefulSet', { group: '/apis/apps/v1', resource: 'statefulsets' }],
  ['DaemonSet', { group: '/apis/apps/v1', resource: 'daemonsets' }],
  ['Job', { group: '/apis/batch/v1', resource: 'jobs' }],
  ['CronJob', { group: '/apis/batch/v1', resource: 'cronjobs' }],
]);

/** The object's metadata only (labels, owners), with the whole object from a server that cannot do that. */
const METADATA_ONLY = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

/** Owners people do not name: a ReplicaSet stands for its Deployment, a Job for its CronJob. */
const GENERATED_BY_CONTROLLER = new Set(['ReplicaSet', 'Job']);

interface ObjectFacts {
  labels: Readonly<Record<string, string>>;
  controller: OwnerRef | undefined;
}

type Lookup = { outcome: 'found'; facts: ObjectFacts } | { outcome: 'not_found' | 'error' };

/** Kinds without labels worth a request (Events about Endpoints, HorizontalPodAutoscalers, …). */
const NOT_LOOKED_UP: Lookup = { outcome: 'not_found' };

function factsOf(metadata: ObjectMeta | undefined): ObjectFacts {
  const controller = metadata?.ownerReferences?.find((ref) => ref.controller);
  return {
    labels: metadata?.labels ?? {},
    controller: controller && { kind: controller.kind, name: controller.name },
  };
}

/** API server lookups at once; more wait their turn. */
const MAX_IN_FLIGHT = 8;

/**
 * Adds the involved object's labels and owning workload to events, so routes can match on `app=…` and
 * messages can name the Deployment rather than one of its pods. Answers are cached per object, misses
 * (objects already deleted) too, since a failing pod tends to produce many events; an object looked up
 * by many events at once is fetched once. The API server failing costs the enrichment, never the event.
 */
export class Enricher {
  private readonly kube: KubeClient;
  private readonly cache: TtlLruCache<Promise<Lookup>>;
  private readonly ttlMs: number;
  private readonly failureTtlMs: number;
  private readonly requestOptions: RequestOptions;
  private readonly warning: ThrottledWarning;
  private readonly requests: Counter<'kind' | 'outcome'> | undefined;
  private inFlight = 0;
  /** Lookups waiting for one in flight to end. */
  private readonly queued: (() => void)[] = [];

  constructor(options: EnricherOptions) {
    this.kube = options.kube;
    this.cache = new TtlLruCache(options.maxEntries ?? 10_000);
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    // Failures are remembered briefly: long enough that a burst of events during an outage makes one
    // request per object, short enough that enrichment comes back soon after the API server does.
    this.failureTtlMs = Math.min(this.ttlMs, 10_000);
    this.requestOptions = { timeoutMs: options.requestTimeoutMs ?? 5_000, accept: METADATA_ONLY };
    this.warning = new ThrottledWarning(options.log);
    this.requests = options.metrics?.counter(EVENT_ROUTER_METRICS.enrichRequests);
  }

  /** The event with its object's labels and owner; unchanged when the object is gone or out of reach. */
  async enrich(event: ObservedEvent): Promise<ObservedEvent> {
    const lookup = await this.lookup(event.kind, event.namespace, event.name);
    if (lookup.outcome !== 'found') return event;
    const owner = await this.workloadOf(event.namespace, lookup.facts.controller);
    return { ...event, labels: lookup.facts.labels, ...(owner && { owner }) };
  }

  private async workloadOf(
    namespace: string,
    controller: OwnerRef | undefined,
  ): Promise<OwnerRef | undefined> {
    let owner = controller;
    // Two steps at most: Pod → ReplicaSet → Deployment, Pod → Job → CronJob.
    for (let step = 0; step < 2 && owner && GENERATED_BY_CONTROLLER.has(owner.kind); step++) {
      const lookup = await this.lookup(owner.kind, namespace, owner.name);
      if (lookup.outcome !== 'found' || !lookup.facts.controller) break;
      owner = lookup.facts.controller;
    }
    return owner;
  }

  private lookup(kind: string, namespace: string, name: string): Promise<Lookup> {
    const collection = COLLECTIONS.get(kind);
    if (!collection) return Promise.resolve(NOT_LOOKED_UP);
    const where = collection.clusterScoped ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
    const path = `${collection.group}${where}/${collection.resource}/${encodeURIComponent(name)}`;
    const cached = this.cache.get(path);
    if (cached) return cached;
    const pending = this.request(path, kind, namespace, name);
    // Cached while in flight, so concurrent lookups of one object share its request.
    this.cache.set(path, pending, Number.POSITIVE_INFINITY);
    void pending.then((lookup) =>
      this.cache.set(path, pending, lookup.outcome === 'error' ? this.failureTtlMs : this.ttlMs),
    );
    return pending;
  }

  private async request(path: string, kind: string, namespace: string, name: string): Promise<Lookup> {
    // A burst of new objects (a start, a storm) must not open hundreds of TLS connections at once: that
    // costs the event loop more than the lookups are worth, and every message waits behind it.
    if (this.inFlight < MAX_IN_FLIGHT) this.inFlight++;
    else await new Promise<void>((resolve) => this.queued.push(resolve));
    try {
      return await this.read(path, kind, namespace, name);
    } finally {
      // The slot passes straight to the next lookup waiting, if any.
      const next = this.queued.shift();
      if (next) next();
      else this.inFlight--;
    }
  }

  private async read(path: string, kind: string, namespace: string, name: string): Promise<Lookup> {
    let lookup: Lookup;
    try {
      const object = await this.kube.get<{ metadata?: ObjectMeta }>(path, this.requestOptions);
      lookup = { outcome: 'found', facts: factsOf(object.metadata) };
    } catch (err) {
      if (responseStatus(err) === 404) {
        lookup = { outcome: 'not_found' };
      } else {
        lookup = { outcome: 'error' };
        this.warning.warn(
          { kind, namespace, name, err: describeApiError(err) },
          "could not read an event's involved object from the API server; events go on without its labels and owner",
        );
      }
    }
    this.requests?.inc({ kind, outcome: lookup.outcome });
    return lookup;
  }
}
