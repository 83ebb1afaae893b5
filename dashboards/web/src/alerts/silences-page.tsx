import { useEffect, useRef, useState } from 'preact/hooks';
import { api, problem } from '../api.ts';
import { navigate } from '../router.ts';
import { canEdit, editNeeded, matcherText, notRunning, type Silence, type Whoami } from './api.ts';
import { NotRunning } from './not-running.tsx';
import { formatWhen } from './time.ts';
import { useAnswer } from './use-answer.ts';

const STATES = ['active', 'pending', 'expired'] as const;
type State = (typeof STATES)[number];

function SilenceRow({
  silence,
  chosen,
  whoami,
  onExpired,
}: {
  silence: Silence;
  chosen: boolean;
  whoami: Whoami | undefined;
  onExpired: () => void;
}) {
  const [error, setError] = useState<string>();
  const [expiring, setExpiring] = useState(false);
  const editable = canEdit(whoami);
  const row = useRef<HTMLTableRowElement>(null);
  // A link to one silence shows it, however long the list.
  useEffect(() => {
    if (chosen) row.current?.scrollIntoView({ block: 'center' });
  }, [chosen]);
  const expire = async () => {
    setExpiring(true);
    setError(undefined);
    try {
      await api(`/api/silences/${encodeURIComponent(silence.id)}`, { method: 'DELETE' });
      onExpired();
    } catch (err) {
      setError(problem(err));
    } finally {
      setExpiring(false);
    }
  };
  return (
    <tr ref={row} class={chosen ? 'chosen' : ''} aria-label={`Silence ${silence.id}`}>
      <td>
        <span class={`silence-state ${silence.status.state}`}>{silence.status.state}</span>
      </td>
      <td>
        <ul class="labels">
          {silence.matchers.map((m) => (
            <li key={matcherText(m)}>
              <span class="label">{matcherText(m)}</span>
            </li>
          ))}
        </ul>
      </td>
      <td>{silence.createdBy}</td>
      <td class="comment">{silence.comment}</td>
      <td class="time">{formatWhen(silence.startsAt)}</td>
      <td class="time">{formatWhen(silence.endsAt)}</td>
      <td>
        {silence.status.state !== 'expired' && (
          <button
            type="button"
            disabled={expiring || (whoami !== undefined && !editable)}
            title={whoami && !editable ? editNeeded(whoami) : 'End this silence now'}
            onClick={expire}
          >
            Expire
          </button>
        )}
        {error && <p class="error">{error}</p>}
      </td>
    </tr>
  );
}

/** `/silences`: every silence kept, active, pending and expired, with a way to end one. */
export function SilencesPage({ url }: { url: URL }) {
  const wanted = url.searchParams.get('state');
  const state = (STATES as readonly string[]).includes(wanted ?? '') ? (wanted as State) : undefined;
  const chosen = url.searchParams.get('id');
  const silences = useAnswer<Silence[]>('/api/silences');
  const whoami = useAnswer<Whoami>('/api/whoami');
  if (notRunning(silences.error)) return <NotRunning page="Silences" />;
  const shown = (silences.data ?? []).filter((s) => !state || s.status.state === state);
  return (
    <div class="silences-page">
      <h1>Silences</h1>
      <div class="controls">
        <select
          aria-label="State"
          value={state ?? ''}
          onChange={(e) => {
            const value = e.currentTarget.value;
            navigate(value ? `/silences?state=${value}` : '/silences');
          }}
        >
          <option value="">Active, pending and expired</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s[0]!.toUpperCase() + s.slice(1)}
            </option>
          ))}
        </select>
        {whoami.data && !canEdit(whoami.data) && <span class="note">{editNeeded(whoami.data)}</span>}
      </div>
      {silences.error !== undefined && <p class="error">{problem(silences.error)}</p>}
      {silences.data && shown.length === 0 && (
        <p class="empty">
          {state
            ? `No ${state} silence.`
            : 'No silence. Expired ones are kept for alertRules.silences.retention (5 days unless set).'}
        </p>
      )}
      {shown.length > 0 && (
        <table class="silences">
          <thead>
            <tr>
              <th>State</th>
              <th>Matchers</th>
              <th>Created by</th>
              <th>Comment</th>
              <th>Starts</th>
              <th>Ends</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {shown.map((silence) => (
              <SilenceRow
                key={silence.id}
                silence={silence}
                chosen={silence.id === chosen}
                whoami={whoami.data}
                onExpired={silences.reload}
              />
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
