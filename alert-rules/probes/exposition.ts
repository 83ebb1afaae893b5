import type { Labels } from '../types.ts';
import { sample } from './samples.ts';
import type { ProbeTarget } from './target-config.ts';
import type { ProbeResult, ProbeSample } from './types.ts';

/** The two series every blackbox_exporter probe answers with, whatever its prober. */
function outcomeSamples(result: ProbeResult): ProbeSample[] {
  return [
    sample('probe_success', result.success ? 1 : 0),
    sample('probe_duration_seconds', result.durationMs / 1000),
  ];
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** One series in Prometheus's text format. */
export function seriesLine(name: string, labels: Labels, value: number): string {
  const pairs = Object.entries(labels).map(([label, text]) => `${label}="${escapeLabelValue(text)}"`);
  return `${name}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${formatValue(value)}\n`;
}

/**
 * Prometheus's text format for samples, one HELP and TYPE per name and the
 * names in order, as blackbox_exporter writes them; `extra` labels come first
 * on every series.
 */
function exposition(samples: Iterable<{ sample: ProbeSample; extra: Labels }>): string {
  const byName = new Map<string, { help: string; lines: string[] }>();
  for (const { sample, extra } of samples) {
    let family = byName.get(sample.name);
    if (!family) {
      family = { help: sample.help, lines: [] };
      byName.set(sample.name, family);
    }
    family.lines.push(seriesLine(sample.name, { ...extra, ...sample.labels }, sample.value));
  }
  let text = '';
  for (const name of [...byName.keys()].sort()) {
    const family = byName.get(name) as { help: string; lines: string[] };
    text += `# HELP ${name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} gauge\n`;
    text += family.lines.join('');
  }
  return text;
}

/** What blackbox_exporter's `/probe` answers for one probe. */
export function probeExposition(result: ProbeResult): string {
  return exposition([...outcomeSamples(result), ...result.samples].map((sample) => ({ sample, extra: {} })));
}

/**
 * The scheduled probes' latest results under blackbox_exporter's names, each
 * series labelled with its target as `instance` (as a Prometheus scrape of
 * blackbox's `/probe` labels it), the probe's id, and for a result of a probe
 * agent its `location`.
 */
export function latestExposition(
  latest: Iterable<{ target: ProbeTarget; result: ProbeResult; location?: string }>,
): string {
  function* samples() {
    for (const { target, result, location } of latest) {
      const extra: Labels = { instance: target.target, probe: target.id };
      if (location !== undefined) extra.location = location;
      for (const one of [...outcomeSamples(result), ...result.samples]) yield { sample: one, extra };
    }
  }
  return exposition(samples());
}
