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
