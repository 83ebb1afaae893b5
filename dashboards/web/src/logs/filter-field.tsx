import { useState } from 'preact/hooks';

/** The values of a field among the lines of the query and range, with their counts (the API's facets). */
export interface Facet {
  values: { value: string; count: number }[];
  lines: number;
  sampled: boolean;
}

/**
 * A filter's input, offering the values present in the range with their counts; picking one searches
 * at once. Any other value can still be typed.
 */
export function FilterField({
  name,
  value,
  facet,
  onInput,
  onPick,
}: {
  name: string;
  value: string;
  facet?: Facet;
  onInput: (value: string) => void;
  onPick: (value: string) => void;
}) {
  const [open, setOpen] = useState(false);
  return (
    <div class="filter-field">
      <input
        class="filter-input"
        aria-label={name}
        placeholder={name}
        value={value}
        autocomplete="off"
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onInput={(e) => onInput(e.currentTarget.value.trim())}
      />
      {open && facet && (
        <fieldset class="facet-values" aria-label={`Values of ${name}`}>
          {facet.values.length === 0 && <p class="note">No {name} in the matching lines.</p>}
          {facet.values.map((v) => (
            <button
              type="button"
              key={v.value}
              class={v.value === value ? 'chosen' : ''}
              // Before the input's blur closes the list.
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => {
                setOpen(false);
                onPick(v.value);
              }}
            >
              <span class="value">{v.value}</span>
              <span class="count">{v.count.toLocaleString()}</span>
            </button>
          ))}
          {facet.sampled && (
            <p class="note">Counted over the newest {facet.lines.toLocaleString()} matching lines.</p>
          )}
        </fieldset>
      )}
    </div>
  );
}
