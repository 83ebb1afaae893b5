import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ProbeResult } from './types.ts';

const HEIGHT = 180;

/** The probes' durations over time, successes as a line and failures as red points. */
export function LatencyChart({ results }: { results: ProbeResult[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current!;
    const oldestFirst = [...results].reverse();
    const ms = (r: ProbeResult) => Math.round(r.durationSeconds * 1000);
    const data: uPlot.AlignedData = [
      oldestFirst.map((r) => Date.parse(r.startedAt) / 1000),
      oldestFirst.map((r) => (r.success ? ms(r) : null)),
      oldestFirst.map((r) => (r.success ? null : ms(r))),
    ];
    const plot = new uPlot(
      {
        width: element.clientWidth,
        height: HEIGHT,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(10, max * 1.1)] } },
        axes: [{ size: 28 }, { size: 56, label: 'ms', labelSize: 14 }],
        series: [
          {},
          { label: 'success (ms)', stroke: 'rgba(46, 125, 50, 1)', width: 1.5, spanGaps: false },
          {
            label: 'failure (ms)',
            stroke: 'rgba(198, 40, 40, 1)',
            paths: () => null,
            points: { show: true, size: 7, fill: 'rgba(198, 40, 40, 1)' },
          },
        ],
      },
      data,
      element,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: element.clientWidth, height: HEIGHT }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [results]);
  return <div class="latency" ref={box} role="img" aria-label="Latency of the recent probes" />;
}
