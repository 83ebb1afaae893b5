import type { Accepted } from '../test/robots/robot-server.ts';
import type { ScriptedExporter } from '../test/support/scripted-exporter.ts';

/** One alert of the BenchProbe rule, from the series appearing to the robot accepting its message. */
export interface ProbeTiming {
  probe: string;
  team: string;
  /** The evaluation that fired it (`activeAt`: with `for: 0` the alert fires in the evaluation that finds it). */
  firedAtMs: number;
  acceptedAtMs: number;
  /** From that evaluation's timestamp until the robot double accepted the first message naming the probe. */
  ms: number;
}

interface ApiAlert {
  labels: Record<string, string>;
  state: string;
  activeAt: string;
}

/**
 * Makes the BenchProbe rule of a few teams fire at known times: every `everyMs` a new `bench_probe`
 * series for each of `perRound` teams, each removed again after `lifetimeMs` (so the alert resolves),
 * spread over the teams so the probes land in every group's part of the interval.
 */
export class ProbeSchedule {
  private readonly exporter: ScriptedExporter;
  private readonly teams: string[];
  private readonly perRound: number;
  private readonly lifetimeMs: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly live: { labels: Record<string, string>; removeAtMs: number }[] = [];
  private next = 0;
  /** Probe → its team and activeAt, from the first reading of the evaluator's API that showed it firing. */
  private readonly fired = new Map<string, { team: string; firedAtMs: number }>();

  constructor(exporter: ScriptedExporter, teams: string[], perRound: number, lifetimeMs: number) {
    this.exporter = exporter;
    this.teams = teams;
    this.perRound = perRound;
    this.lifetimeMs = lifetimeMs;
  }

  get sent(): number {
    return this.next;
  }

  start(everyMs: number): void {
    this.round();
    this.timer = setInterval(() => this.round(), everyMs);
  }

  /** No new probes; the live ones go on until their time. */
  stop(): void {
    clearInterval(this.timer);
  }

  private round(): void {
    const now = Date.now();
    for (const gone of this.live.filter((p) => p.removeAtMs <= now)) {
      this.exporter.remove('bench_probe', gone.labels);
      this.live.splice(this.live.indexOf(gone), 1);
    }
    for (let i = 0; i < this.perRound; i++) {
      const n = this.next++;
      // A stride prime to the team count visits every team before any repeats.
      const team = this.teams[(n * 37) % this.teams.length]!;
      const labels = { team, probe: `probe-${String(n).padStart(4, '0')}` };
      this.exporter.set('bench_probe', labels, 1);
      this.live.push({ labels, removeAtMs: now + this.lifetimeMs });
    }
  }

  /** Reads the firing probe alerts of an `/api/alerts` (Prometheus `/api/v1/alerts`) answer. */
  record(alerts: ApiAlert[]): void {
    for (const alert of alerts) {
      const { probe, alertname, team } = alert.labels;
      if (alertname !== 'BenchProbe' || !probe || !team || alert.state !== 'firing' || this.fired.has(probe))
        continue;
      this.fired.set(probe, { team, firedAtMs: Date.parse(alert.activeAt) });
    }
  }

  /** For each probe seen firing, the first message the robot accepted that names it. */
  timings(accepted: Accepted[]): ProbeTiming[] {
    const firstMessage = new Map<string, number>();
    for (const message of accepted) {
      for (const probe of message.text.match(/probe-\d{4}/g) ?? []) {
        if (!firstMessage.has(probe)) firstMessage.set(probe, message.at);
      }
    }
    return [...this.fired].flatMap(([probe, { team, firedAtMs }]) => {
      const at = firstMessage.get(probe);
      return at === undefined ? [] : [{ probe, team, firedAtMs, acceptedAtMs: at, ms: at - firedAtMs }];
    });
  }

  /** Probes seen firing whose message never came. */
  unsent(accepted: Accepted[]): number {
    return this.fired.size - this.timings(accepted).length;
  }
}
