import { useEffect, useState } from 'preact/hooks';
import { api, problem } from '../api.ts';

interface Measure {
  name: string;
  help: string;
  series: { labels: Record<string, string | number>; value: number }[];
  more?: number;
}

interface Component {
  name: string;
  running: boolean;
  doc: string;
  metrics?: Measure[];
  enable?: string;
}

interface Refusal {
  at: string;
  errcode: string;
  errmsg: string;
  title?: string;
  messages: number;
}

interface Robot {
  name: string;
  type: string;
  queued: number;
  oldestQueuedAt: string | null;
  refusals: Refusal[];
}

interface Status {
  ready: boolean;
  checks: Record<string, boolean>;
  components: Component[];
  robots: { sending: boolean; robots: Robot[] } | null;
}

const REFRESH_MS = 5_000;

function labelsText(labels: Record<string, string | number>): string {
  return Object.entries(labels)
    .map(([name, value]) => `${name}=${value}`)
    .join(', ');
}

function MeasureRows({ measure }: { measure: Measure }) {
  const name = measure.name.replace(/^lookout_/, '');
  if (measure.series.length === 0)
    return (
      <tr>
        <td title={measure.help}>{name}</td>
        <td class="muted">none</td>
        <td />
      </tr>
    );
  return (
    <>
      {measure.series.map((s) => (
        <tr key={labelsText(s.labels)}>
          <td title={measure.help}>{name}</td>
          <td class="muted">{labelsText(s.labels)}</td>
          <td class="number">{Number.isInteger(s.value) ? s.value : s.value.toFixed(3)}</td>
        </tr>
      ))}
      {measure.more !== undefined && (
        <tr>
          <td colSpan={3} class="muted">
            {measure.more} more series of {name} on /metrics
          </td>
        </tr>
      )}
    </>
  );
}

function ComponentCard({ component }: { component: Component }) {
  return (
    <section class={`component ${component.running ? 'running' : 'stopped'}`} data-component={component.name}>
      <h2>
        {component.name} <span class="muted">{component.running ? 'running' : 'not running'}</span>
      </h2>
      {component.running ? (
        component.metrics && component.metrics.length > 0 ? (
          <table class="board">
            <tbody>
              {component.metrics.map((g) => (
                <MeasureRows key={g.name} measure={g} />
              ))}
            </tbody>
          </table>
        ) : (
          <p class="muted">No measures yet: they appear once it has work.</p>
        )
      ) : (
        <p class="muted">To run it: {component.enable}.</p>
      )}
    </section>
  );
}

function Robots({ robots }: { robots: Status['robots'] }) {
  if (!robots) return <p class="muted">No component of this process sends to chat robots.</p>;
  if (!robots.sending)
    return <p class="muted">This replica does not lead, so its robots do not send; the leader's do.</p>;
  if (robots.robots.length === 0)
    return (
      <p class="muted">
        No robots are configured: add them under <code>robots</code> (see <code>docs/notify.md</code>).
      </p>
    );
  return (
    <table class="board robots">
      <thead>
        <tr>
          <th>Robot</th>
          <th>Kind</th>
          <th>Waiting</th>
          <th>Oldest waiting since</th>
          <th>Latest refusals</th>
        </tr>
      </thead>
      <tbody>
        {robots.robots.map((robot) => (
          <tr key={robot.name} data-robot={robot.name}>
            <td>{robot.name}</td>
            <td>{robot.type}</td>
            <td>{robot.queued}</td>
            <td>{robot.oldestQueuedAt ?? '—'}</td>
            <td>
              {robot.refusals.length === 0 ? (
                <span class="muted">none</span>
              ) : (
                <ul class="refusals">
                  {[...robot.refusals].reverse().map((r) => (
                    <li key={r.at + r.errcode} class="failure">
                      {r.at.replace('T', ' ').slice(0, 19)} errcode {r.errcode}: {r.errmsg}
                      {r.title && ` (${r.title})`}
                    </li>
                  ))}
                </ul>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** `/status`: the pipeline in this process, from `GET /api/status`, refreshed every few seconds. */
export function StatusPage() {
  const [status, setStatus] = useState<Status>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const load = () =>
      api<Status>('/api/status').then(
        (answer) => {
          setStatus(answer);
          setError(undefined);
        },
        (err: unknown) => setError(problem(err)),
      );
    void load();
    const timer = setInterval(load, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  if (!status) return error ? <p class="error">{error}</p> : <p class="empty">Loading the status…</p>;
  const failing = Object.entries(status.checks).filter(([, ok]) => !ok);
  return (
    <section class="status">
      <h1>Status of this process</h1>
      {error && <p class="error">{error}</p>}
      <p class={status.ready ? 'ready' : 'error'}>
        {status.ready ? 'Ready' : `Not ready: ${failing.map(([name]) => name).join(', ')} failing`}
        <span class="muted"> (checks: {Object.keys(status.checks).join(', ') || 'none'})</span>
      </p>
      <div class="components">
        {status.components.map((c) => (
          <ComponentCard key={c.name} component={c} />
        ))}
      </div>
      <h2>Chat robots</h2>
      <Robots robots={status.robots} />
    </section>
  );
}
