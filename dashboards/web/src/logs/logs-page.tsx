import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, problem } from '../api.ts';
import { navigate } from '../router.ts';
import type { Hit } from './doc.ts';
import { ExportMenu } from './export-menu.tsx';
import { type Facet, FilterField } from './filter-field.tsx';
import { type Bucket, Histogram } from './histogram.tsx';
import { LiveTail } from './live-tail.tsx';
import { LogDetail } from './log-detail.tsx';
import { LogList } from './log-list.tsx';
import {
  FILTERS,
  type FilterName,
  highlightTerms,
  histogramInterval,
  type LogsQuery,
  paramsOf,
  queryOf,
  RANGES,
  timeOf,
} from './query.ts';

const PAGE_SIZE = 500;
/** Rows a list holds at most; past it the view asks for a narrower query rather than more memory. */
const MAX_ROWS = 100_000;

interface SearchAnswer {
  hits: Hit[];
  total: { value: number; exact: boolean };
  next?: string;
  histogram?: Bucket[];
}

/** Filters a field's value: the short names the API knows, `f.<field>` for the others. */
const SHORT: Record<string, FilterName> = {
  'kubernetes.namespace': 'namespace',
  'kubernetes.pod.name': 'pod',
  'kubernetes.container.name': 'container',
  'log.level': 'level',
};

function go(query: LogsQuery, line?: string, live = false) {
  const params = paramsOf(query);
  if (line) params.set('line', line);
  if (live) params.set('live', '1');
  navigate(`/logs?${params}`);
}

/** What a live tail follows: the query and filters, from now on. */
function tailParams(query: LogsQuery): string {
  const params = paramsOf(query);
  for (const name of ['from', 'to', 'order']) params.delete(name);
  return params.toString();
}

function toInput(ms: number): string {
  const local = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 19);
}

function TimeInput({
  label,
  value,
  onChange,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
}) {
  return (
    <input
      type="datetime-local"
      step="1"
      aria-label={label}
      value={value}
      onChange={(e) => onChange(e.currentTarget.value)}
    />
  );
}

function TimeRange({ query }: { query: LogsQuery }) {
  const relative = query.to === 'now' && RANGES.some((r) => r.value === query.from);
  const [custom, setCustom] = useState(!relative);
  const [from, setFrom] = useState(() => toInput(timeOf(query.from)));
  const [to, setTo] = useState(() => toInput(timeOf(query.to)));
  useEffect(() => {
    setFrom(toInput(timeOf(query.from)));
    setTo(toInput(timeOf(query.to)));
    if (!(query.to === 'now' && RANGES.some((r) => r.value === query.from))) setCustom(true);
  }, [query.from, query.to]);
  return (
    <div class="time-range">
      <select
        aria-label="Time range"
        value={custom ? 'custom' : query.from}
        onChange={(e) => {
          const value = e.currentTarget.value;
          if (value === 'custom') setCustom(true);
          else {
            setCustom(false);
            go({ ...query, from: value, to: 'now' });
          }
        }}
      >
        {RANGES.map((r) => (
          <option key={r.value} value={r.value}>
            {r.label}
          </option>
        ))}
        <option value="custom">Between…</option>
      </select>
      {custom && (
        <>
          <TimeInput label="From" value={from} onChange={setFrom} />
          <TimeInput label="To" value={to} onChange={setTo} />
          <button
            type="button"
            onClick={() =>
              go({ ...query, from: new Date(from).toISOString(), to: new Date(to).toISOString() })
            }
          >
            Apply
          </button>
        </>
      )}
    </div>
  );
}

type Facets = Partial<Record<FilterName, Facet>>;

function QueryBar({ query, live, facets }: { query: LogsQuery; live: boolean; facets?: Facets }) {
  const [q, setQ] = useState(query.q);
  const [filters, setFilters] = useState(query.filters);
  useEffect(() => {
    setQ(query.q);
    setFilters(query.filters);
  }, [query]);
  return (
    <form
      class="query-bar"
      onSubmit={(e) => {
        e.preventDefault();
        const trimmed = Object.fromEntries(Object.entries(filters).map(([k, v]) => [k, v?.trim()]));
        go({ ...query, q: q.trim(), filters: trimmed }, undefined, live);
      }}
    >
      <input
        class="q"
        type="search"
        aria-label="Query"
        placeholder='Words, "exact phrases", AND, OR, NOT, -word'
        value={q}
        onInput={(e) => setQ(e.currentTarget.value)}
      />
      {FILTERS.map((name) => (
        <FilterField
          key={name}
          name={name}
          value={filters[name] ?? ''}
          facet={facets?.[name]}
          onInput={(value) => setFilters({ ...filters, [name]: value })}
          onPick={(value) =>
            go({ ...query, q: q.trim(), filters: { ...filters, [name]: value } }, undefined, live)
          }
        />
      ))}
      <button type="submit">Search</button>
    </form>
  );
}

/** The range, order, live switch, export, query bar and field filters: the same over both views. */
function QueryControls({
  query,
  live,
  total,
  facets,
}: {
  query: LogsQuery;
  live: boolean;
  total?: SearchAnswer['total'];
  facets?: Facets;
}) {
  return (
    <>
      <div class="controls">
        {!live && <TimeRange query={query} />}
        {!live && (
          <button
            type="button"
            title="Order of the lines"
            onClick={() => go({ ...query, order: query.order === 'desc' ? 'asc' : 'desc' })}
          >
            {query.order === 'desc' ? 'Newest first' : 'Oldest first'}
          </button>
        )}
        <button
          type="button"
          aria-pressed={live}
          title={live ? 'Back to searching a time range' : 'Follow new lines of this query as they arrive'}
          onClick={() => go(query, undefined, !live)}
        >
          {live ? 'Stop live tail' : 'Live tail'}
        </button>
        {!live && <ExportMenu params={paramsOf(query).toString()} total={total} />}
      </div>
      <QueryBar query={query} live={live} facets={facets} />
      {Object.keys(query.fields).length > 0 && (
        <div class="chips">
          {Object.entries(query.fields).map(([name, value]) => (
            <button
              type="button"
              key={name}
              class="chip"
              title="Remove this filter"
              onClick={() => {
                const fields = { ...query.fields };
                delete fields[name];
                go({ ...query, fields }, undefined, live);
              }}
            >
              {name}: {value} ×
            </button>
          ))}
        </div>
      )}
    </>
  );
}

/** Logs: a query, its histogram and its lines, or its live tail; every part of it in the URL. */
export function LogsPage({ url }: { url: URL }) {
  const query = queryOf(url);
  if (url.searchParams.get('live') === '1') {
    return (
      <section class="logs">
        <QueryControls query={query} live />
        <LiveTail params={tailParams(query)} terms={highlightTerms(query.q)} />
      </section>
    );
  }
  return <SearchView url={url} query={query} />;
}

function SearchView({ url, query }: { url: URL; query: LogsQuery }) {
  const key = paramsOf(query).toString();
  const selected = url.searchParams.get('line') ?? undefined;
  const [answer, setAnswer] = useState<{ hits: Hit[]; total?: SearchAnswer['total']; next?: string }>({
    hits: [],
  });
  const [buckets, setBuckets] = useState<{ list: Bucket[]; intervalMs: number }>({ list: [], intervalMs: 0 });
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string>();
  const paging = useRef<AbortController | undefined>(undefined);
  const [facets, setFacets] = useState<Facets>();

  useEffect(() => {
    const abort = new AbortController();
    const fields = FILTERS.map((name) => `field=${name}`).join('&');
    api<{ facets: Facets }>(`/api/logs/facets?${key}&${fields}`, { signal: abort.signal })
      .then((answer) => setFacets(answer.facets))
      // The filters still take typed values; the search says what went wrong, if anything did.
      .catch(() => setFacets(undefined));
    return () => abort.abort();
  }, [key]);

  useEffect(() => {
    const abort = new AbortController();
    paging.current?.abort();
    const now = Date.now();
    const [interval, intervalMs] = histogramInterval(timeOf(query.from, now), timeOf(query.to, now));
    setLoading(true);
    setError(undefined);
    api<SearchAnswer>(`/api/logs/search?${key}&size=${PAGE_SIZE}&histogram=${interval}`, {
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
        if (!abort.signal.aborted) setLoading(false);
      });
    return () => abort.abort();
  }, [key]);

  const more = useCallback(() => {
    if (!answer.next || paging.current || answer.hits.length >= MAX_ROWS) return;
    const abort = new AbortController();
    paging.current = abort;
    api<SearchAnswer>(`/api/logs/search?${key}&size=${PAGE_SIZE}&cursor=${encodeURIComponent(answer.next)}`, {
      signal: abort.signal,
    })
      .then((page) => setAnswer((a) => ({ ...a, hits: [...a.hits, ...page.hits], next: page.next })))
      .catch((err: unknown) => {
        const message = problem(err);
        if (message) setError(message);
      })
      .finally(() => {
        if (paging.current === abort) paging.current = undefined;
      });
  }, [answer.next, answer.hits.length, key]);

  const selectedHit = selected ? answer.hits.find((h) => h.id === selected) : undefined;
  const terms = highlightTerms(query.q);
  const filterBy = (name: string, value: string) => {
    const short = SHORT[name];
    if (short) go({ ...query, filters: { ...query.filters, [short]: value } });
    else go({ ...query, fields: { ...query.fields, [name]: value } });
  };
  const total = answer.total;
  return (
    <section class="logs">
      <QueryControls query={query} live={false} total={answer.total} facets={facets} />
      <Histogram
        buckets={buckets.list}
        intervalMs={buckets.intervalMs}
        onSelect={(from, to) =>
          go({ ...query, from: new Date(from).toISOString(), to: new Date(to).toISOString() })
        }
      />
      <p class="summary" aria-live="polite">
        {error ? (
          <span class="error">{error}</span>
        ) : loading ? (
          'Searching…'
        ) : total ? (
          <>
            {total.value.toLocaleString()}
            {total.exact ? '' : '+'} {total.value === 1 ? 'line' : 'lines'}
            {answer.hits.length < total.value && `, ${answer.hits.length.toLocaleString()} loaded`}
            {answer.hits.length >= MAX_ROWS &&
              answer.next &&
              ' (the list holds no more: narrow the query or range)'}
          </>
        ) : null}
      </p>
      {!loading && !error && total?.value === 0 && (
        <p class="empty">No lines match in this range. Widen the range or change the query.</p>
      )}
      <div class={`results${selectedHit ? ' with-detail' : ''}`}>
        <LogList
          hits={answer.hits}
          terms={terms}
          selectedId={selected}
          onSelect={(hit) => go(query, hit.id)}
          onNearEnd={answer.next ? more : undefined}
        />
        {selectedHit && <LogDetail hit={selectedHit} onFilter={filterBy} onClose={() => go(query)} />}
      </div>
    </section>
  );
}
