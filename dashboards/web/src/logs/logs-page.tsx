import { QueryBar } from '../query-bar.tsx';
import { navigate } from '../router.ts';
import { type SearchAnswer, SearchSummary, useFacets, useSearch } from '../search.tsx';
import { TimeRange } from '../time-range.tsx';
import { ExportMenu } from './export-menu.tsx';
import type { Facet } from './filter-field.tsx';
import { Histogram } from './histogram.tsx';
import { LiveTail } from './live-tail.tsx';
import { LogDetail } from './log-detail.tsx';
import { LogList } from './log-list.tsx';
import { FILTERS, type FilterName, highlightTerms, type LogsQuery, paramsOf, queryOf } from './query.ts';

const PAGE_SIZE = 500;
/** Rows a list holds at most; past it the view asks for a narrower query rather than more memory. */
const MAX_ROWS = 100_000;

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

type Facets = Partial<Record<FilterName, Facet>>;

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
        {!live && (
          <TimeRange from={query.from} to={query.to} onChange={(from, to) => go({ ...query, from, to })} />
        )}
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
      <QueryBar
        q={query.q}
        names={FILTERS}
        filters={query.filters}
        facets={facets}
        onSearch={(q, filters) => go({ ...query, q, filters }, undefined, live)}
      />
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
  const search = useSearch(key, query, PAGE_SIZE, MAX_ROWS);
  const facets = useFacets(key, FILTERS, search);

  const selectedHit = selected ? search.hits.find((h) => h.id === selected) : undefined;
  const terms = highlightTerms(query.q);
  const filterBy = (name: string, value: string) => {
    const short = SHORT[name];
    if (short) go({ ...query, filters: { ...query.filters, [short]: value } });
    else go({ ...query, fields: { ...query.fields, [name]: value } });
  };
  return (
    <section class="logs">
      <QueryControls query={query} live={false} total={search.total} facets={facets} />
      <Histogram
        buckets={search.buckets.list}
        intervalMs={search.buckets.intervalMs}
        onSelect={(from, to) =>
          go({ ...query, from: new Date(from).toISOString(), to: new Date(to).toISOString() })
        }
      />
      <SearchSummary search={search} noun={{ one: 'line', many: 'lines' }} maxRows={MAX_ROWS} />
      {!search.loading && !search.error && search.total?.value === 0 && (
        <p class="empty">No lines match in this range. Widen the range or change the query.</p>
      )}
      <div class={`results${selectedHit ? ' with-detail' : ''}`}>
        <LogList
          // A new query starts at its first line, not where the last one was scrolled to.
          key={key}
          hits={search.hits}
          terms={terms}
          selectedId={selected}
          onSelect={(hit) => go(query, hit.id)}
          onNearEnd={search.next ? search.more : undefined}
        />
        {selectedHit && <LogDetail hit={selectedHit} onFilter={filterBy} onClose={() => go(query)} />}
      </div>
    </section>
  );
}
