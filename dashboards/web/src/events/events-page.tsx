import { field, formatTime, type Hit, text } from '../logs/doc.ts';
import type { Facet } from '../logs/filter-field.tsx';
import { Histogram } from '../logs/histogram.tsx';
import { QueryBar } from '../query-bar.tsx';
import { navigate } from '../router.ts';
import { SearchSummary, useFacets, useSearch } from '../search.tsx';
import { TimeRange } from '../time-range.tsx';
import { EventGroups } from './event-groups.tsx';
import {
  EVENT_FILTER_NAMES,
  EVENT_FILTERS,
  type EventsQuery,
  eventsQueryOf,
  eventsSearchParams,
  eventsUrl,
  FACET_FIELDS,
} from './query.ts';

const PAGE_SIZE = 200;
/** Rows the table holds at most: past it the page asks for a narrower query. */
const MAX_ROWS = 5_000;

function go(query: EventsQuery) {
  navigate(eventsUrl(query));
}

/** The facets answer is keyed by the fields asked for; the filters by their names in the URL. */
function facetsByFilter(facets: Record<string, Facet>): Partial<Record<string, Facet>> {
  return Object.fromEntries(
    EVENT_FILTER_NAMES.map((name) => [name, facets[name] ?? facets[EVENT_FILTERS[name]]]),
  );
}

function EventRow({ hit }: { hit: Hit }) {
  const doc = hit.doc;
  const type = text(field(doc, 'event.type'));
  const namespace = text(field(doc, 'kubernetes.namespace'));
  const object = `${text(field(doc, 'kubernetes.object.kind'))}/${text(field(doc, 'kubernetes.object.name'))}`;
  return (
    <tr class={type === 'Warning' ? 'warning' : ''}>
      <td class="time">{formatTime(field(doc, '@timestamp'))}</td>
      <td class="type">{type}</td>
      <td>{text(field(doc, 'event.reason'))}</td>
      <td title={namespace}>
        {namespace && <span class="namespace">{namespace} </span>}
        {object}
      </td>
      <td class="count">{text(field(doc, 'event.count'))}</td>
      <td class="time">{formatTime(field(doc, 'event.start'))}</td>
      <td class="message">{text(field(doc, 'message'))}</td>
    </tr>
  );
}

/**
 * Kubernetes events the event router archived into the log store, newest first, with the Logs page's
 * range, query, filters and histogram; below them the router's groups and what it sent.
 */
export function EventsPage({ url }: { url: URL }) {
  const query = eventsQueryOf(url);
  const key = eventsSearchParams(query).toString();
  const search = useSearch(key, query, PAGE_SIZE, MAX_ROWS);
  const facets = useFacets(key, FACET_FIELDS, search);
  return (
    <section class="events">
      <div class="controls">
        <TimeRange from={query.from} to={query.to} onChange={(from, to) => go({ ...query, from, to })} />
      </div>
      <QueryBar
        q={query.q}
        names={EVENT_FILTER_NAMES}
        filters={query.filters}
        facets={facets && facetsByFilter(facets)}
        onSearch={(q, filters) => go({ ...query, q, filters })}
      />
      <Histogram
        buckets={search.buckets.list}
        intervalMs={search.buckets.intervalMs}
        onSelect={(from, to) =>
          go({ ...query, from: new Date(from).toISOString(), to: new Date(to).toISOString() })
        }
      />
      <SearchSummary search={search} noun={{ one: 'event', many: 'events' }} maxRows={MAX_ROWS} />
      {!search.loading && !search.error && search.total?.value === 0 && (
        <p class="empty">
          No Kubernetes events match in this range. The event router archives events into this store when its{' '}
          <code>archive</code> writes here: <code>archive.collector</code>, or{' '}
          <code>archive.elasticsearch</code> into the collector's indices, its default (see docs/console.md).
        </p>
      )}
      {search.hits.length > 0 && (
        <table class="event-table">
          <thead>
            <tr>
              <th>Last seen</th>
              <th>Type</th>
              <th>Reason</th>
              <th>Object</th>
              <th>Count</th>
              <th>First seen</th>
              <th>Message</th>
            </tr>
          </thead>
          <tbody>
            {search.hits.map((hit) => (
              <EventRow key={hit.id} hit={hit} />
            ))}
          </tbody>
        </table>
      )}
      {search.next && search.hits.length < MAX_ROWS && (
        <button type="button" class="more" onClick={search.more}>
          Load {PAGE_SIZE} more
        </button>
      )}
      <EventGroups />
    </section>
  );
}
