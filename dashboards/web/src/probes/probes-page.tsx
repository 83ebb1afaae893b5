import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, problem } from '../api.ts';
import { useWhoami } from '../whoami.ts';
import { Board } from './board.tsx';
import { ProbeDetail } from './probe-detail.tsx';
import { TargetForm } from './target-form.tsx';
import type { ProbeList } from './types.ts';

/** The board refreshes itself this often, as a wall display would want. */
const REFRESH_MS = 5_000;

/** Probes are part of alert-rules: a process without it has no probes API. */
function NotConfigured() {
  return (
    <section class="not-configured">
      <h1>Probes</h1>
      <p>
        This Lookout does not run alert-rules, which probes the targets. Add an <code>alertRules</code>{' '}
        section to the configuration (with <code>alertRules.probes</code> for the modules and targets) and run{' '}
        <code>lookout all</code> or <code>lookout alert-rules</code>; see <code>docs/probes.md</code>.
      </p>
    </section>
  );
}

/** The list of targets, loaded again every few seconds and after a change. */
function useProbeList() {
  const [list, setList] = useState<ProbeList>();
  const [error, setError] = useState<{ status?: number; message?: string }>();
  const load = useCallback(async () => {
    try {
      setList(await api<ProbeList>('/api/probes'));
      setError(undefined);
    } catch (err) {
      setError({ status: (err as { status?: number }).status, message: problem(err) });
    }
  }, []);
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [load]);
  return { list, error, load };
}

/**
 * `/probes` (the board, `?state=` and `?q=` filtering it), `/probes/new`,
 * `/probes/<id>` (latency and uptime) and `/probes/<id>/edit`.
 */
export function ProbesPage({ url }: { url: URL }) {
  const who = useWhoami();
  const { list, error, load } = useProbeList();
  if (error?.status === 404) return <NotConfigured />;
  if (!list) return error ? <p class="error">{error.message}</p> : <p class="empty">Loading the probes…</p>;

  const [, id, action] = url.pathname.split('/').slice(1).map(decodeURIComponent);
  if (id === 'new') return <TargetForm who={who} modules={list.modules} onSaved={load} />;
  const probe = list.probes.find((p) => p.id === id);
  if (id !== undefined && !probe) return <p class="error">There is no probe target {id}.</p>;
  if (probe && action === 'edit')
    return <TargetForm who={who} modules={list.modules} probe={probe} onSaved={load} />;
  if (probe) return <ProbeDetail who={who} probe={probe} onDeleted={load} />;
  return <Board who={who} list={list} url={url} error={error?.message} />;
}
