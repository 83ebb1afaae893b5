import { useState } from 'preact/hooks';
import { authHeaders, failure, problem } from '../api.ts';

type Format = 'ndjson' | 'csv';

/** What the last line of an export says when a limit ended it before the last matching line. */
async function stopNote(blob: Blob, format: Format): Promise<string | undefined> {
  const tail = await blob.slice(Math.max(0, blob.size - 4096)).text();
  const last = tail.trimEnd().split('\n').at(-1) ?? '';
  if (format === 'csv') return last.startsWith('# ') ? last.slice(2) : undefined;
  try {
    const { lookout } = JSON.parse(last) as {
      lookout?: { export?: { complete: boolean; rows: number; reason: string } };
    };
    const done = lookout?.export;
    if (done && !done.complete)
      return `the export stopped after ${done.rows.toLocaleString()} lines: ${done.reason}`;
  } catch {
    // A line of the export, not the closing note.
  }
  return undefined;
}

/** Downloads the query's lines as NDJSON or CSV, saying before how many match and after whether a limit cut it. */
export function ExportMenu({ params, total }: { params: string; total?: { value: number; exact: boolean } }) {
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ text: string; error?: boolean }>();
  const download = async (format: Format) => {
    setBusy(true);
    setNote(undefined);
    try {
      const response = await fetch(`/api/logs/export?${params}&format=${format}`, { headers: authHeaders() });
      if (!response.ok) throw await failure(response);
      const blob = await response.blob();
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = `lookout-logs-${new Date().toISOString().replace(/[:.]/g, '-')}.${format}`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
      const stopped = await stopNote(blob, format);
      setNote(
        stopped
          ? { text: `Downloaded, but ${stopped}`, error: true }
          : { text: 'Downloaded every matching line.' },
      );
    } catch (err) {
      setNote({ text: problem(err) ?? 'cancelled', error: true });
    } finally {
      setBusy(false);
    }
  };
  return (
    <details class="export">
      <summary>Export</summary>
      <div class="export-panel">
        <p>
          {total
            ? `${total.value.toLocaleString()}${total.exact ? '' : ' or more'} lines match this query and range.`
            : 'The lines of this query and range.'}
        </p>
        <button type="button" disabled={busy} onClick={() => download('ndjson')}>
          NDJSON
        </button>{' '}
        <button type="button" disabled={busy} onClick={() => download('csv')}>
          CSV
        </button>
        {busy && <span> Exporting…</span>}
        {note && <p class={note.error ? 'error' : 'summary'}>{note.text}</p>}
      </div>
    </details>
  );
}
