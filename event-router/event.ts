/** What routing and aggregation know of a Kubernetes event, whichever API version it came from. */
export interface RoutedEvent {
  namespace: string;
  /** The involved object's kind: Pod, Node, Deployment, … */
  kind: string;
  /** The involved object's name. */
  name: string;
  reason: string;
  /** Normal or Warning. */
  type: string;
  message: string;
  /** The component that reported it: kubelet, default-scheduler, … */
  source: string;
  /** The involved object's labels, when known. */
  labels: Readonly<Record<string, string>>;
}

/** The workload that owns the involved object: a Pod's Deployment (through its ReplicaSet), StatefulSet, Job… */
export interface OwnerRef {
  kind: string;
  name: string;
}

/**
 * One Kubernetes Event object as the router sees it, read from core/v1 or
 * events.k8s.io/v1. The API server keeps one Event object per incident and
 * bumps its count (or series) as it recurs, so `uid` names the incident and
 * `count` growing means the same incident happened again.
 */
export interface ObservedEvent extends RoutedEvent {
  /** metadata.uid of the Event object. */
  uid: string;
  /** metadata.name of the Event object (`<object>.<hash>`). */
  eventName: string;
  /** The involved object's uid, when the reporter gave it. */
  objectUid: string | undefined;
  /** How many times it happened: `count`, or `series.count`; 1 when neither is set. */
  count: number;
  /** Epoch ms of the first occurrence: firstTimestamp, else eventTime, else the newest time. */
  firstTime: number;
  /** Epoch ms of the newest of series.lastObservedTime, lastTimestamp, eventTime (creation time as a last resort). */
  lastTime: number;
  /** The host (node) the reporter ran on, when given. */
  host: string | undefined;
  /** Set by enrichment. */
  owner?: OwnerRef;
}
