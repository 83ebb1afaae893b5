import { useEffect, useState } from 'preact/hooks';
import { RANGES, timeOf } from './logs/query.ts';

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

/** The last 15 minutes, hour, day or week, or between two times; `onChange` gets the API's times. */
export function TimeRange({
  from: rangeFrom,
  to: rangeTo,
  onChange,
}: {
  from: string;
  to: string;
  onChange: (from: string, to: string) => void;
}) {
  const relative = rangeTo === 'now' && RANGES.some((r) => r.value === rangeFrom);
  const [custom, setCustom] = useState(!relative);
  const [from, setFrom] = useState(() => toInput(timeOf(rangeFrom)));
  const [to, setTo] = useState(() => toInput(timeOf(rangeTo)));
  useEffect(() => {
    setFrom(toInput(timeOf(rangeFrom)));
    setTo(toInput(timeOf(rangeTo)));
    if (!(rangeTo === 'now' && RANGES.some((r) => r.value === rangeFrom))) setCustom(true);
  }, [rangeFrom, rangeTo]);
  return (
    <div class="time-range">
      <select
        aria-label="Time range"
        value={custom ? 'custom' : rangeFrom}
        onChange={(e) => {
          const value = e.currentTarget.value;
          if (value === 'custom') setCustom(true);
          else {
            setCustom(false);
            onChange(value, 'now');
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
            onClick={() => onChange(new Date(from).toISOString(), new Date(to).toISOString())}
          >
            Apply
          </button>
        </>
      )}
    </div>
  );
}
