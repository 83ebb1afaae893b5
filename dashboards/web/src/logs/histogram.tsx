import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Bucket {
  time: number;
  count: number;
}

/**
 * Hits over time as bars. Dragging across it selects a range, which `onSelect` receives in epoch ms;
 * the bars are the API's buckets, so the counts are exact whatever was loaded into the list.
 */
export function Histogram({
  buckets,
  intervalMs,
  onSelect,
}: {
  buckets: Bucket[];
  intervalMs: number;
  onSelect: (fromMs: number, toMs: number) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const select = useRef(onSelect);
  select.current = onSelect;

  useEffect(() => {
    const element = box.current!;
    const data: uPlot.AlignedData = [buckets.map((b) => b.time / 1000), buckets.map((b) => b.count)];
    const plot = new uPlot(
      {
        width: element.clientWidth,
        height: 110,
        legend: { show: false },
        cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [
          { size: 24, grid: { show: false } },
          { size: 40, ticks: { show: false } },
        ],
        series: [
          {},
          {
            label: 'lines',
            fill: 'rgba(64, 120, 192, 0.55)',
            stroke: 'rgba(64, 120, 192, 1)',
            paths: uPlot.paths.bars!({ size: [0.9, 40], align: 1 }),
            points: { show: false },
          },
        ],
        hooks: {
          setSelect: [
            (u) => {
              if (u.select.width < 2) return;
              const from = u.posToVal(u.select.left, 'x') * 1000;
              const to = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
              u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
              select.current(Math.floor(from), Math.ceil(to));
            },
          ],
        },
      },
      data,
      element,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: element.clientWidth, height: 110 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [buckets, intervalMs]);

  return <div class="histogram" ref={box} title="Drag across the bars to narrow the time range" />;
}
