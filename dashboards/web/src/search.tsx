import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, problem } from './api.ts';
import type { Hit } from './logs/doc.ts';
import type { Facet } from './logs/filter-field.tsx';
import type { Bucket } from './logs/histogram.tsx';
import { histogramInterval, timeOf } from './logs/query.ts';

export interface SearchAnswer {
  hits: Hit[];
  total: { value: number; exact: boolean };
  next?: string;
  histogram?: Bucket[];
}

export interface Search {
  hits: Hit[];
  total?: SearchAnswer['total'];
  next?: string;
  buckets: { list: Bucket[]; intervalMs: number };
  loading: boolean;
  /** The parameters of the last search answered (or failed): work that may wait for it can start. */
  settled?: string;
  error?: string;
  /** Loads the next page, unless one is loading or the list holds `maxRows`. */
  more: () => void;
}

/**
 * A search of the log store (`params` are the search API's, as a query string) with its histogram
 * over the range, paged by cursor `pageSize` lines at a time.
 */
export function useSearch(
  params: string,
  range: { from: string; to: string },
  pageSize: number,
  maxRows: number,
): Search {
  const [answer, setAnswer] = useState<{ hits: Hit[]; total?: SearchAnswer['total']; next?: string }>({
    hits: [],
  });
  const [buckets, setBuckets] = useState<Search['buckets']>({ list: [], intervalMs: 0 });
  const [loading, setLoading] = useState(false);
  const [settled, setSettled] = useState<string>();
  const [error, setError] = useState<string>();
  const paging = useRef<AbortController | undefined>(undefined);

  useEffect(() => {
    const abort = new AbortController();
    paging.current?.abort();
    const now = Date.now();
    const [interval, intervalMs] = histogramInterval(timeOf(range.from, now), timeOf(range.to, now));
    setLoading(true);
    setError(undefined);
    api<SearchAnswer>(`/api/logs/search?${params}&size=${pageSize}&histogram=${interval}`, {
      signal: abort.signal,
    })
      .then((page) => {
        setAnswer({ hits: page.hits, total: page.total, next: page.next });
        setBuckets({ list: page.histogram ?? [], intervalMs });
      })
      .catch((err: unknown) => {
        const message = problem(err);
        if (message) {
          setError(message);
          setAnswer({ hits: [] });
          setBuckets({ list: [], intervalMs });
        }
      })
      .finally(() => {
        if (abort.signal.aborted) return;
        setLoading(false);
        setSettled(params);
      });
    return () => abort.abort();
    // The range is part of the parameters: they change together.
  }, [params]);

  const more = useCallback(() => {
    if (!answer.next || paging.current || answer.hits.length >= maxRows) return;
    const abort = new AbortController();
    paging.current = abort;
    api<SearchAnswer>(
      `/api/logs/search?${params}&size=${pageSize}&cursor=${encodeURIComponent(answer.next)}`,
      { signal: abort.signal },
    )
      .then((page) => setAnswer((a) => ({ ...a, hits: [...a.hits, ...page.hits], next: page.next })))
      .catch((err: unknown) => {
        const message = problem(err);
        if (message) setError(message);
      })
      .finally(() => {
        if (paging.current === abort) paging.current = undefined;
      });
  }, [answer.next, answer.hits.length, params]);

  return { ...answer, buckets, loading, settled, error, more };
}

/**
 * The values of each field among the search's lines (the facets API), keyed as `fields` names them.
 * Asked for once `search` has answered for the same parameters: the embedded store answers one query
 * at a time, and the lines are what a person waits for.
 */
export function useFacets(
  params: string,
  fields: readonly string[],
  search: Search,
): Record<string, Facet> | undefined {
  const [facets, setFacets] = useState<Record<string, Facet>>();
  const asked = fields.map((name) => `field=${encodeURIComponent(name)}`).join('&');
  const ready = search.settled === params;
  useEffect(() => {
    if (!ready) return;
    const abort = new AbortController();
    api<{ facets: Record<string, Facet> }>(`/api/logs/facets?${params}&${asked}`, { signal: abort.signal })
      .then((answer) => setFacets(answer.facets))
      // The filters still take typed values; the search says what went wrong, if anything did.
      .catch(() => setFacets(undefined));
    return () => abort.abort();
  }, [params, asked, ready]);
  return facets;
}

/** How many match and how many are loaded, or the error in the API's words. */
export function SearchSummary({
  search,
  noun,
  maxRows,
}: {
  search: Search;
  noun: { one: string; many: string };
  maxRows: number;
}) {
  const { error, loading, total, hits, next } = search;
  return (
    <p class="summary" aria-live="polite">
      {error ? (
        <span class="error">{error}</span>
      ) : loading ? (
        'Searching…'
      ) : total ? (
        <>
          {total.value.toLocaleString()}
          {total.exact ? '' : '+'} {total.value === 1 ? noun.one : noun.many}
          {hits.length < total.value && `, ${hits.length.toLocaleString()} loaded`}
          {hits.length >= maxRows && next && ' (the list holds no more: narrow the query or range)'}
        </>
      ) : null}
    </p>
  );
}
