import { describe, expect, it } from 'vitest';
import { recommendReplicas } from './replicas.ts';

const policy = { perReplica: 50, min: 2, max: 40, tolerance: 0.1 };

describe('recommendReplicas', () => {
  it('divides the demand by what one replica handles, rounding up', () => {
    expect(recommendReplicas(500, undefined, policy)).toBe(10);
    expect(recommendReplicas(501, undefined, policy)).toBe(11);
  });

  it('clamps to min and max', () => {
    expect(recommendReplicas(0, undefined, policy)).toBe(2);
    expect(recommendReplicas(10_000, undefined, policy)).toBe(40);
  });

  it('keeps the running count while the load per replica is within tolerance', () => {
    // 540 / (10 × 50) = 1.08: within 0.1, so 10 stays although 11 would be needed.
    expect(recommendReplicas(540, 10, policy)).toBe(10);
    expect(recommendReplicas(450, 10, policy)).toBe(10);
    // 1.12 and 0.88: outside.
    expect(recommendReplicas(560, 10, policy)).toBe(12);
    expect(recommendReplicas(440, 10, policy)).toBe(9);
  });

  it('treats the tolerance boundary as within, like the HorizontalPodAutoscaler', () => {
    expect(recommendReplicas(550, 10, { ...policy, tolerance: 0.1 })).toBe(10);
  });

  it('does not let float noise in the demand add a replica', () => {
    expect(recommendReplicas(0.1 + 0.2, undefined, { ...policy, perReplica: 0.3, min: 0 })).toBe(1);
  });

  it('clamps a running count kept by tolerance too', () => {
    expect(recommendReplicas(50, 1, policy)).toBe(2);
    expect(recommendReplicas(2_100, 42, policy)).toBe(40);
  });

  it('applies no tolerance to a workload scaled to zero', () => {
    expect(recommendReplicas(120, 0, { ...policy, min: 0 })).toBe(3);
    expect(recommendReplicas(0, 0, { ...policy, min: 0 })).toBe(0);
  });

  it('with tolerance 0 keeps the running count only when it is exact', () => {
    expect(recommendReplicas(500, 10, { ...policy, tolerance: 0 })).toBe(10);
    expect(recommendReplicas(501, 10, { ...policy, tolerance: 0 })).toBe(11);
  });
});
