import { type Labels, sortedPairs } from './api.ts';

/** An alert's labels; a click on one adds it to the page's filter when `onPick` is given. */
export function LabelChips({
  labels,
  onPick,
}: {
  labels: Labels;
  onPick?: (name: string, value: string) => void;
}) {
  return (
    <ul class="labels">
      {sortedPairs(labels).map(([name, value]) => (
        <li key={name}>
          {onPick ? (
            <button
              type="button"
              class="label"
              title="Filter by this label"
              onClick={() => onPick(name, value)}
            >
              {name}="{value}"
            </button>
          ) : (
            <span class="label">
              {name}="{value}"
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}
