import { linkHandler, navigate } from '../router.ts';
import { canEdit, type Whoami } from '../whoami.ts';
import { EditorNeeded } from './editor-needed.tsx';
import { StateBadge } from './state-badge.tsx';
import { ago, certificateDaysLeft, type Probe, type ProbeList } from './types.ts';

const STATES = ['down', 'flapping', 'pending', 'up', 'unknown'] as const;

/** Problems first: a board is read from the top. */
const ORDER = Object.fromEntries(STATES.map((state, i) => [state, i]));

/** Certificates closer to expiry than this are marked. */
const CERTIFICATE_WARNING_DAYS = 14;

function filtered(probes: Probe[], state: string, q: string): Probe[] {
  const words = q.toLowerCase();
  return probes
    .filter((p) => state === '' || p.state === state)
    .filter((p) => words === '' || `${p.id} ${p.target} ${p.module}`.toLowerCase().includes(words))
    .sort((a, b) => (ORDER[a.state] ?? 0) - (ORDER[b.state] ?? 0) || a.id.localeCompare(b.id));
}

function setParam(url: URL, name: string, value: string) {
  const params = new URLSearchParams(url.search);
  if (value === '') params.delete(name);
  else params.set(name, value);
  const query = params.toString();
  navigate(`/probes${query ? `?${query}` : ''}`, { replace: true });
}

function Certificate({ expiresAt }: { expiresAt: string | null }) {
  const days = certificateDaysLeft(expiresAt);
  if (days === undefined) return <span class="muted">—</span>;
  const text = days < 0 ? 'expired' : `${days} days`;
  return (
    <span class={days < CERTIFICATE_WARNING_DAYS ? 'error' : ''} title={`expires ${expiresAt}`}>
      {text}
    </span>
  );
}

function Counts({ probes }: { probes: Probe[] }) {
  return (
    <p class="summary">
      {probes.length} targets:{' '}
      {STATES.map((state) => `${probes.filter((p) => p.state === state).length} ${state}`).join(', ')}
    </p>
  );
}

/** Every target's state at a glance, problems first, filtered by state and words from the address. */
export function Board({
  who,
  list,
  url,
  error,
}: {
  who: Whoami | undefined;
  list: ProbeList;
  url: URL;
  error?: string;
}) {
  const state = url.searchParams.get('state') ?? '';
  const q = url.searchParams.get('q') ?? '';
  const shown = filtered(list.probes, state, q);
  return (
    <section class="probes">
      <div class="controls">
        <h1>Probes</h1>
        <select
          aria-label="State"
          value={state}
          onChange={(e) => setParam(url, 'state', e.currentTarget.value)}
        >
          <option value="">every state</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <input
          type="search"
          aria-label="Find"
          placeholder="name, URL or module"
          value={q}
          onChange={(e) => setParam(url, 'q', e.currentTarget.value)}
        />
        {canEdit(who) ? (
          <a class="button" href="/probes/new" onClick={linkHandler('/probes/new')}>
            Add target
          </a>
        ) : (
          who && <EditorNeeded who={who} doing="Adding and changing targets" />
        )}
      </div>
      <Counts probes={list.probes} />
      {error && <p class="error">{error}</p>}
      {list.probes.length === 0 ? (
        <p class="empty">
          No targets yet. Add one here, or list them under <code>alertRules.probes.targets</code> in the
          configuration (see <code>docs/probes.md</code>).
        </p>
      ) : (
        <table class="board">
          <thead>
            <tr>
              <th>State</th>
              <th>Name</th>
              <th>Target</th>
              <th>Module</th>
              <th>Since</th>
              <th>Last probe</th>
              <th>Certificate</th>
              <th>Last failure</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((p) => {
              const href = `/probes/${encodeURIComponent(p.id)}`;
              return (
                <tr key={p.id} data-probe={p.id}>
                  <td>
                    <StateBadge state={p.state} />
                  </td>
                  <td>
                    <a href={href} onClick={linkHandler(href)}>
                      {p.id}
                    </a>
                  </td>
                  <td class="target">{p.target}</td>
                  <td>{p.module}</td>
                  <td title={p.since ?? ''}>{ago(p.since)}</td>
                  <td title={p.lastProbeAt ?? ''}>{ago(p.lastProbeAt)}</td>
                  <td>
                    <Certificate expiresAt={p.certificateExpiresAt} />
                  </td>
                  <td class="failure">{p.state === 'up' ? '' : (p.lastFailure ?? '')}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {list.probes.length > 0 && shown.length === 0 && <p class="empty">No target matches the filter.</p>}
    </section>
  );
}
