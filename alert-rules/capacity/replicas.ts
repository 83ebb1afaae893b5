export interface ReplicaPolicy {
  perReplica: number;
  min: number;
  max: number;
  tolerance: number;
}

/**
 * The replicas a workload needs for `total` demand, the HorizontalPodAutoscaler's
 * way: ceil(total / perReplica), except that the running count is kept while
 * the load per running replica is within tolerance of perReplica; then clamped
 * to [min, max]. `total` is finite and non-negative; `running` undefined when
 * unknown (no tolerance applies, as none applies to a workload at zero).
 */
// Demand comes from float arithmetic (rates, sums): 550 / 500 − 1 is 0.10000000000000009, which must
// still count as within a tolerance of 0.1, and 100.00000000000001 / 50 must still need 2 replicas.
const ROUNDING_SLACK = 1e-9;

export function recommendReplicas(total: number, running: number | undefined, policy: ReplicaPolicy): number {
  const needed = Math.ceil(total / policy.perReplica - ROUNDING_SLACK);
  const kept =
    running !== undefined &&
    running > 0 &&
    Math.abs(total / (running * policy.perReplica) - 1) <= policy.tolerance + ROUNDING_SLACK;
  return Math.min(policy.max, Math.max(policy.min, kept ? running : needed));
}
