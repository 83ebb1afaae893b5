import { useEffect, useState } from 'preact/hooks';
import { type Facet, FilterField } from './logs/filter-field.tsx';

export type FilterValues = Partial<Record<string, string>>;

/** What the query box takes, as a hint; docs/collector.md has the whole syntax. */
const PLACEHOLDER = 'Words, "exact phrases", field:value, AND, OR, NOT, -word';
const SYNTAX = `Words match whole words in the message, "quoted words" a phrase.
field:value matches a field's exact value: log.level:error, kubernetes.pod.name:api-7f9, event.reason:"Back-off restarting".
AND, OR, NOT (or -word) and parentheses combine them.
Quote text with a colon to search it as text: "ERROR:disk".`;

/**
 * The query and the filters; each filter offers the values in the range with their counts, and
 * picking one searches at once. `onSearch` gets the query and filters trimmed.
 */
export function QueryBar({
  q: shownQ,
  names,
  filters: shownFilters,
  facets,
  onSearch,
}: {
  q: string;
  names: readonly string[];
  filters: FilterValues;
  facets?: Partial<Record<string, Facet>>;
  onSearch: (q: string, filters: FilterValues) => void;
}) {
  const [q, setQ] = useState(shownQ);
  const [filters, setFilters] = useState(shownFilters);
  // By value: the page builds its filters afresh at each render.
  const shownKey = JSON.stringify(shownFilters);
  useEffect(() => {
    setQ(shownQ);
    setFilters(JSON.parse(shownKey) as FilterValues);
  }, [shownQ, shownKey]);
  return (
    <form
      class="query-bar"
      onSubmit={(e) => {
        e.preventDefault();
        const trimmed = Object.fromEntries(Object.entries(filters).map(([k, v]) => [k, v?.trim()]));
        onSearch(q.trim(), trimmed);
      }}
    >
      <input
        class="q"
        type="search"
        aria-label="Query"
        placeholder={PLACEHOLDER}
        title={SYNTAX}
        value={q}
        onInput={(e) => setQ(e.currentTarget.value)}
      />
      {names.map((name) => (
        <FilterField
          key={name}
          name={name}
          value={filters[name] ?? ''}
          facet={facets?.[name]}
          onInput={(value) => setFilters({ ...filters, [name]: value })}
          onPick={(value) => onSearch(q.trim(), { ...filters, [name]: value })}
        />
      ))}
      <button type="submit">Search</button>
    </form>
  );
}
