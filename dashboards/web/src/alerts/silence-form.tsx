import { useEffect, useState } from 'preact/hooks';
import { api, problem } from '../api.ts';
import { type Labels, type SilenceMatcher, sortedPairs, type Whoami } from './api.ts';
import { DEFAULT_SILENCE_MS, formatWhen, SILENCE_DURATIONS } from './time.ts';

const OPERATORS = [
  { op: '=', isRegex: false, isEqual: true },
  { op: '!=', isRegex: false, isEqual: false },
  { op: '=~', isRegex: true, isEqual: true },
  { op: '!~', isRegex: true, isEqual: false },
] as const;

const operatorOf = (m: SilenceMatcher) =>
  OPERATORS.find((o) => o.isRegex === m.isRegex && o.isEqual === m.isEqual)!.op;

/**
 * A new silence for an alert: its labels as matchers (each can be changed or
 * removed), how long, why and by whom. Posted to `POST /api/silences`.
 */
export function SilenceForm({
  labels,
  whoami,
  onCreated,
  onCancel,
}: {
  labels: Labels;
  whoami: Whoami | undefined;
  onCreated: (id: string) => void;
  onCancel: () => void;
}) {
  const [matchers, setMatchers] = useState<SilenceMatcher[]>(() =>
    sortedPairs(labels).map(([name, value]) => ({ name, value, isRegex: false, isEqual: true })),
  );
  const [durationMs, setDurationMs] = useState<number>(DEFAULT_SILENCE_MS);
  const [comment, setComment] = useState('');
  const [createdBy, setCreatedBy] = useState(whoami?.name ?? '');
  // The token's name may arrive after the form opened: it fills the field unless someone typed there.
  useEffect(() => {
    if (whoami) setCreatedBy((typed) => typed || whoami.name);
  }, [whoami]);
  const [error, setError] = useState<string>();
  const [sending, setSending] = useState(false);

  const change = (i: number, part: Partial<SilenceMatcher>) =>
    setMatchers(matchers.map((m, j) => (j === i ? { ...m, ...part } : m)));

  const submit = async (event: Event) => {
    event.preventDefault();
    setSending(true);
    setError(undefined);
    const now = Date.now();
    try {
      const { silenceID } = await api<{ silenceID: string }>('/api/silences', {
        method: 'POST',
        body: {
          matchers,
          startsAt: new Date(now).toISOString(),
          endsAt: new Date(now + durationMs).toISOString(),
          createdBy: createdBy.trim(),
          comment: comment.trim(),
        },
      });
      onCreated(silenceID);
    } catch (err) {
      setError(problem(err));
    } finally {
      setSending(false);
    }
  };

  return (
    <form class="silence-form" aria-label="New silence" onSubmit={submit}>
      <fieldset>
        <legend>Matchers: the silence mutes every alert they all match</legend>
        {matchers.map((m, i) => (
          <div class="matcher" key={i}>
            <input
              aria-label="Label name"
              value={m.name}
              onInput={(e) => change(i, { name: e.currentTarget.value })}
            />
            <select
              aria-label={`Operator of ${m.name}`}
              value={operatorOf(m)}
              onChange={(e) => {
                const picked = OPERATORS.find((o) => o.op === e.currentTarget.value)!;
                change(i, { isRegex: picked.isRegex, isEqual: picked.isEqual });
              }}
            >
              {OPERATORS.map((o) => (
                <option key={o.op} value={o.op}>
                  {o.op}
                </option>
              ))}
            </select>
            <input
              aria-label={`Value of ${m.name}`}
              value={m.value}
              onInput={(e) => change(i, { value: e.currentTarget.value })}
            />
            <button
              type="button"
              aria-label={`Remove matcher ${m.name}`}
              onClick={() => setMatchers(matchers.filter((_, j) => j !== i))}
            >
              Remove
            </button>
          </div>
        ))}
        <button
          type="button"
          onClick={() => setMatchers([...matchers, { name: '', value: '', isRegex: false, isEqual: true }])}
        >
          Add matcher
        </button>
      </fieldset>
      <div class="controls">
        <label>
          For{' '}
          <select value={durationMs} onChange={(e) => setDurationMs(Number(e.currentTarget.value))}>
            {SILENCE_DURATIONS.map((d) => (
              <option key={d.ms} value={d.ms}>
                {d.label}
              </option>
            ))}
          </select>
        </label>
        <span class="summary">until about {formatWhen(Date.now() + durationMs)}</span>
      </div>
      <label class="wide">
        Comment
        <textarea
          rows={2}
          placeholder="Why, for whoever looks next (a ticket, what is being done)"
          value={comment}
          onInput={(e) => setComment(e.currentTarget.value)}
        />
      </label>
      <label>
        Created by <input value={createdBy} onInput={(e) => setCreatedBy(e.currentTarget.value)} />
      </label>
      <div class="controls">
        <button type="submit" disabled={sending || matchers.length === 0}>
          Create silence
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        {matchers.length === 0 && <span class="note">A silence needs one matcher at least.</span>}
      </div>
      {error && <p class="error">{error}</p>}
    </form>
  );
}
