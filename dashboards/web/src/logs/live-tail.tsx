import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, authHeaders, failure, problem } from '../api.ts';
import { serverEvents } from '../sse.ts';
import type { Hit } from './doc.ts';
import { LogList } from './log-list.tsx';

/** Lines the live view keeps; older ones leave the list, and the note says how many. */
const KEPT = 5_000;
/** New lines are drawn at most this often, however fast they arrive. */
const DRAW_MS = 250;
const RECONNECT_MS = 2_000;

interface TailState {
  lines: Hit[];
  received: number;
  status: 'connecting' | 'live' | 'ended' | 'failed';
  message?: string;
}

/**
 * New lines of the query as they are stored (the API's live tail). Scrolling up pauses the view, which
 * keeps receiving; resuming jumps to the newest. Every line received is counted, also those that left
 * the list.
 */
export function LiveTail({ params, terms }: { params: string; terms: string[] }) {
  const [state, setState] = useState<TailState>({ lines: [], received: 0, status: 'connecting' });
  const [following, setFollowing] = useState(true);
  const [session, setSession] = useState(0);
  const [selected, setSelected] = useState<string>();
  const pending = useRef<Hit[]>([]);
  const seenWhilePaused = useRef(0);

  useEffect(() => {
    const abort = new AbortController();
    let last: string | undefined;
    const flush = setInterval(() => {
      const batch = pending.current.splice(0);
      if (batch.length === 0) return;
      setState((s) => ({
        ...s,
        lines: [...s.lines, ...batch].slice(-KEPT),
        received: s.received + batch.length,
      }));
    }, DRAW_MS);
    const run = async () => {
      for (;;) {
        try {
          const response = await fetch(`/api/logs/tail?${params}`, {
            headers: {
              accept: 'text/event-stream',
              ...authHeaders(),
              ...(last && { 'last-event-id': last }),
            },
            signal: abort.signal,
          });
          if (!response.ok || !response.body) throw await failure(response);
          setState((s) => ({ ...s, status: 'live', message: undefined }));
          for await (const event of serverEvents(response.body)) {
            if (event.event === 'log') {
              pending.current.push(JSON.parse(event.data) as Hit);
              last = event.id ?? last;
            } else if (event.event === 'end') {
              const { reason } = JSON.parse(event.data) as { reason: string };
              setState((s) => ({ ...s, status: 'ended', message: reason }));
              return;
            } else if (event.event === 'error') {
              const { error } = JSON.parse(event.data) as { error: string };
              setState((s) => ({ ...s, message: error }));
            }
          }
        } catch (err) {
          const message = problem(err);
          if (message === undefined) return;
          // A refusal (too many tails, a bad query) stays; a dropped connection is taken up again.
          if (err instanceof ApiError && err.status < 500) {
            setState((s) => ({ ...s, status: 'failed', message }));
            return;
          }
          setState((s) => ({ ...s, status: 'connecting', message: `${message}; reconnecting` }));
        }
        await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
        if (abort.signal.aborted) return;
      }
    };
    run();
    return () => {
      abort.abort();
      clearInterval(flush);
    };
  }, [params, session]);

  const behind = following ? 0 : state.received - seenWhilePaused.current;
  const left = state.received - state.lines.length;
  return (
    <div class="live">
      <p class="summary" aria-live="polite">
        <span class={`live-status ${state.status}`}>
          {state.status === 'live' ? 'Live' : state.status === 'connecting' ? 'Connecting…' : 'Stopped'}
        </span>{' '}
        {state.received.toLocaleString()} {state.received === 1 ? 'line' : 'lines'} received
        {left > 0 &&
          `; the list keeps the newest ${KEPT.toLocaleString()}, ${left.toLocaleString()} have left it`}
        {!following && (
          <>
            {' '}
            · paused{behind > 0 && `, ${behind.toLocaleString()} new since`}{' '}
            <button type="button" onClick={() => setFollowing(true)}>
              Resume
            </button>
          </>
        )}
        {state.message && <span class="error"> {state.message}</span>}
        {(state.status === 'ended' || state.status === 'failed') && (
          <button type="button" onClick={() => setSession((n) => n + 1)}>
            Start again
          </button>
        )}
      </p>
      <LogList
        hits={state.lines}
        terms={terms}
        selectedId={selected}
        onSelect={(hit) => setSelected(hit.id)}
        follow={following}
        onFollowChange={(now) => {
          if (!now) seenWhilePaused.current = state.received;
          setFollowing(now);
        }}
      />
    </div>
  );
}
