import { z } from 'zod';

export const savedAgentsSchema = z.object({
  agents: z.array(
    z.object({ id: z.string(), location: z.string(), lastSeq: z.number(), lastSeenMs: z.number() }),
  ),
  locations: z.array(z.object({ location: z.string(), lastSeenMs: z.number() })),
});
export type SavedAgents = z.infer<typeof savedAgentsSchema>;

interface AgentRecord {
  location: string;
  lastSeq: number;
  lastSeenMs: number;
}

/** What a result's sequence number says. */
export type Sequenced = { duplicate: true } | { duplicate: false; lost: number };

/**
 * The probe agents the centre has heard from: when each location last
 * reported, and each agent's last sequence number, so that a batch sent
 * again is recognised and a gap (results the agent had to drop) counted.
 *
 * A location is up while one of its agents reported within `downAfterMs`.
 * The silence is measured from the later of its last report and the
 * registry's start, so that a restarted centre gives every agent that long
 * to reach it before calling it down.
 */
export class AgentRegistry {
  private readonly agents = new Map<string, AgentRecord>();
  private readonly locations = new Map<string, number>();
  private readonly settings: { downAfterMs: number; maxAgents: number };
  private readonly startedAtMs: number;

  constructor(settings: { downAfterMs: number; maxAgents: number }, startedAtMs: number) {
    this.settings = settings;
    this.startedAtMs = startedAtMs;
  }

  /** A location's agent was heard from now (an assignment fetched, a batch posted). */
  seen(location: string, nowMs: number): void {
    this.locations.set(location, nowMs);
  }

  lastSeen(location: string): number | undefined {
    return this.locations.get(location);
  }

  isUp(location: string, nowMs: number): boolean {
    const since = Math.max(this.locations.get(location) ?? 0, this.startedAtMs);
    return nowMs - since <= this.settings.downAfterMs;
  }

  /**
   * Checks one result's sequence number against what the agent sent before:
   * at or below the last one it is a duplicate; above it by more than one,
   * the results between were lost (counted only for an agent already known).
   */
  sequence(agent: string, location: string, seq: number, nowMs: number): Sequenced {
    const record = this.agents.get(agent);
    if (record && seq <= record.lastSeq) return { duplicate: true };
    const lost = record ? seq - record.lastSeq - 1 : 0;
    // Refreshed by deleting first, so the map's order is from the longest silent to the latest.
    this.agents.delete(agent);
    this.agents.set(agent, { location, lastSeq: seq, lastSeenMs: nowMs });
    this.evict();
    return { duplicate: false, lost };
  }

  /** Locations heard from, with when. */
  heard(): IterableIterator<[string, number]> {
    return this.locations.entries();
  }

  /** Forgets a location no target names any more. */
  forget(location: string): void {
    this.locations.delete(location);
  }

  snapshot(): SavedAgents {
    return {
      agents: [...this.agents].map(([id, record]) => ({ id, ...record })),
      locations: [...this.locations].map(([location, lastSeenMs]) => ({ location, lastSeenMs })),
    };
  }

  restore(saved: SavedAgents): void {
    for (const { id, location, lastSeq, lastSeenMs } of saved.agents)
      this.agents.set(id, { location, lastSeq, lastSeenMs });
    for (const { location, lastSeenMs } of saved.locations) this.locations.set(location, lastSeenMs);
    this.evict();
  }

  private evict(): void {
    for (const id of this.agents.keys()) {
      if (this.agents.size <= this.settings.maxAgents) break;
      this.agents.delete(id);
    }
  }
}
