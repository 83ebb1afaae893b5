import { useEffect, useState } from 'preact/hooks';
import { api, problem } from '../api.ts';
import { linkHandler, navigate } from '../router.ts';
import { canEdit, type Whoami } from '../whoami.ts';
import { EditorNeeded } from './editor-needed.tsx';
import { LatencyChart } from './latency-chart.tsx';
import { StateBadge } from './state-badge.tsx';
import { ago, certificateDaysLeft, type Probe, type ProbeResults, type Uptime } from './types.ts';

function percent(uptime: Uptime): string {
  if (uptime.ratio === null) return 'no probes';
  return `${(uptime.ratio * 100).toFixed(uptime.ratio === 1 ? 0 : 2)}%`;
}

function UptimeBoxes({ uptime }: { uptime: ProbeResults['uptime'] }) {
  return (
    <div class="uptime">
      {(['24h', '7d', '30d'] as const).map((window) => (
        <div key={window} class="uptime-box" data-window={window}>
          <span class="label">uptime {window}</span>
          <span class="value">{percent(uptime[window])}</span>
          <span class="muted">
            {uptime[window].successes} of {uptime[window].probes} probes
          </span>
        </div>
      ))}
    </div>
  );
}

interface DetailProps {
  who: Whoami | undefined;
  probe: Probe;
  onDeleted: () => void;
}

/** Why this token cannot change the target, or the buttons to change and delete it. */
function Actions({ who, probe, onDeleted }: DetailProps) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string>();
  if (probe.source === 'config')
    return (
      <p class="note">
        This target is defined in the configuration file (<code>alertRules.probes.targets</code>); change it
        there.
      </p>
    );
  if (!canEdit(who))
    return who ? (
      <p>
        <EditorNeeded who={who} doing="Changing and deleting targets" />
      </p>
    ) : null;
  const edit = `/probes/${encodeURIComponent(probe.id)}/edit`;
  const remove = async () => {
    try {
      await api(`/api/probes/${encodeURIComponent(probe.id)}`, { method: 'DELETE' });
      onDeleted();
      navigate('/probes');
    } catch (err) {
      setError(problem(err));
    }
  };
  return (
    <div class="controls">
      <a class="button" href={edit} onClick={linkHandler(edit)}>
        Edit
      </a>
      {confirming ? (
        <>
          <span>Delete {probe.id}? Its history goes with it.</span>
          <button type="button" class="danger" onClick={remove}>
            Yes, delete
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </>
      ) : (
        <button type="button" onClick={() => setConfirming(true)}>
          Delete
        </button>
      )}
      {error && <p class="error">{error}</p>}
    </div>
  );
}

/** One target: its state, uptime over 24 hours, 7 and 30 days, and the latency of its recent probes. */
export function ProbeDetail({ who, probe, onDeleted }: DetailProps) {
  const [results, setResults] = useState<ProbeResults>();
  const [error, setError] = useState<string>();
  // The list refreshes every few seconds; its lastProbeAt tells when there is a new result to load.
  useEffect(() => {
    const aborted = new AbortController();
    api<ProbeResults>(`/api/probes/${encodeURIComponent(probe.id)}/results`, { signal: aborted.signal }).then(
      (answer) => {
        setResults(answer);
        setError(undefined);
      },
      (err: unknown) => setError(problem(err)),
    );
    return () => aborted.abort();
  }, [probe.id, probe.lastProbeAt]);
  const days = certificateDaysLeft(probe.certificateExpiresAt);
  return (
    <section class="probe-detail">
      <p>
        <a href="/probes" onClick={linkHandler('/probes')}>
          ← All probes
        </a>
      </p>
      <h1>
        <StateBadge state={probe.state} /> {probe.id}
      </h1>
      <dl class="facts">
        <dt>Target</dt>
        <dd>{probe.target}</dd>
        <dt>Module</dt>
        <dd>{probe.module}</dd>
        {results && (
          <>
            <dt>Every</dt>
            <dd>
              {results.intervalSeconds}s, timeout {results.timeoutSeconds}s
            </dd>
          </>
        )}
        <dt>State since</dt>
        <dd title={probe.since ?? ''}>{ago(probe.since)}</dd>
        <dt>Last probe</dt>
        <dd title={probe.lastProbeAt ?? ''}>{ago(probe.lastProbeAt)}</dd>
        {probe.lastFailure && (
          <>
            <dt>Last failure</dt>
            <dd class="failure">{probe.lastFailure}</dd>
          </>
        )}
        {days !== undefined && (
          <>
            <dt>Certificate</dt>
            <dd>
              {days < 0 ? 'expired' : `expires in ${days} days`} ({probe.certificateExpiresAt})
            </dd>
          </>
        )}
      </dl>
      <Actions who={who} probe={probe} onDeleted={onDeleted} />
      {error && <p class="error">{error}</p>}
      {results && (
        <>
          <UptimeBoxes uptime={results.uptime} />
          <h2>Latency of the last {results.results.length} probes</h2>
          {results.results.length === 0 ? (
            <p class="empty">No probe has finished yet.</p>
          ) : (
            <>
              <LatencyChart results={results.results} />
              <table class="board probe-results">
                <thead>
                  <tr>
                    <th>Started</th>
                    <th>Took</th>
                    <th>Result</th>
                  </tr>
                </thead>
                <tbody>
                  {results.results.map((r) => (
                    <tr key={`${r.startedAt}${r.location ?? ''}`}>
                      <td>{r.startedAt.replace('T', ' ').slice(0, 19)}</td>
                      <td>{Math.round(r.durationSeconds * 1000)} ms</td>
                      <td class={r.success ? '' : 'failure'}>
                        {r.success ? 'success' : r.failure}
                        {r.location && ` (${r.location})`}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </>
      )}
    </section>
  );
}
