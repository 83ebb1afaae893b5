import { useEffect, useState } from 'preact/hooks';
import { api, problem } from '../api.ts';
import { navigate } from '../router.ts';
import type { Hit } from './doc.ts';
import { LogList, source } from './log-list.tsx';

const STEP = 20;
const MOST = 1_000;

/** The lines in written order, the one asked about marked `anchor`. */
interface ContextAnswer {
  lines: Hit[];
  truncated?: true;
}

/** The lines written before and after one line in its container, in written order, the line marked. */
export function ContextPage({ id, url }: { id: string; url: URL }) {
  const before = Math.min(MOST, Number(url.searchParams.get('before') ?? STEP) || STEP);
  const after = Math.min(MOST, Number(url.searchParams.get('after') ?? STEP) || STEP);
  const [answer, setAnswer] = useState<ContextAnswer>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const abort = new AbortController();
    setError(undefined);
    api<ContextAnswer>(`/api/logs/context/${encodeURIComponent(id)}?before=${before}&after=${after}`, {
      signal: abort.signal,
    })
      .then(setAnswer)
      .catch((err: unknown) => setError(problem(err)));
    return () => abort.abort();
  }, [id, before, after]);
  const widen = (side: 'before' | 'after') => {
    const params = new URLSearchParams({ before: String(before), after: String(after) });
    params.set(side, String(Math.min(MOST, (side === 'before' ? before : after) + STEP * 5)));
    navigate(`/logs/context/${encodeURIComponent(id)}?${params}`, { replace: true });
  };
  if (error) return <p class="error">{error}</p>;
  if (!answer) return <p class="summary">Loading…</p>;
  const at = answer.lines.findIndex((line) => line.anchor);
  const anchor = answer.lines[at]!;
  const shown = { before: at, after: answer.lines.length - at - 1 };
  return (
    <section class="context">
      <h1>Context of a line from {source(anchor.doc)}</h1>
      <p class="summary">
        {shown.before} lines before, {shown.after} after, in the order they were written.
        {answer.truncated && ' Cut to fit one answer: the lines nearest the marked one are shown.'}
      </p>
      <button
        type="button"
        disabled={shown.before < before || before >= MOST}
        onClick={() => widen('before')}
      >
        Load more above
      </button>
      <LogList hits={answer.lines} terms={[]} selectedId={anchor.id} onSelect={() => {}} centre={at} />
      <button type="button" disabled={shown.after < after || after >= MOST} onClick={() => widen('after')}>
        Load more below
      </button>
    </section>
  );
}
