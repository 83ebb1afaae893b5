import { useState } from 'preact/hooks';
import { linkHandler } from '../router.ts';
import { canEdit, editNeeded, type GroupedAlert, type Silence, sortedPairs, type Whoami } from './api.ts';
import { LabelChips } from './labels.tsx';
import { SilenceForm } from './silence-form.tsx';
import { formatSpan, formatWhen } from './time.ts';

function SilencedBy({ ids, silences }: { ids: string[]; silences: Map<string, Silence> }) {
  return (
    <p class="muted-by">
      Silenced by{' '}
      {ids.map((id, i) => {
        const silence = silences.get(id);
        const href = `/silences?id=${encodeURIComponent(id)}`;
        return (
          <span key={id}>
            {i > 0 && ', '}
            <a href={href} title={id} onClick={linkHandler(href)}>
              silence {id.slice(0, 8)}
            </a>
            {silence && ` by ${silence.createdBy || 'someone unnamed'} until ${formatWhen(silence.endsAt)}`}
            {silence?.comment && `: ${silence.comment}`}
          </span>
        );
      })}
    </p>
  );
}

function InhibitedBy({ alert }: { alert: GroupedAlert }) {
  return (
    <div class="muted-by">
      Inhibited by{' '}
      {alert.inhibitors.length > 0
        ? alert.inhibitors.map((labels) => <LabelChips key={JSON.stringify(labels)} labels={labels} />)
        : alert.status.inhibitedBy.join(', ')}
    </div>
  );
}

/** One alert: its state and since when, labels, annotations, what mutes it, and a way to silence it. */
export function AlertCard({
  alert,
  whoami,
  silences,
  onPickLabel,
  onSilenced,
}: {
  alert: GroupedAlert;
  whoami: Whoami | undefined;
  silences: Map<string, Silence>;
  onPickLabel: (name: string, value: string) => void;
  onSilenced: () => void;
}) {
  const [silencing, setSilencing] = useState(false);
  const { silencedBy, inhibitedBy } = alert.status;
  const since = Date.parse(alert.activeAt);
  const editable = canEdit(whoami);
  return (
    <li
      class={`alert ${alert.state} ${alert.status.state}`}
      aria-label={`Alert ${alert.labels.alertname ?? ''}`}
    >
      <div class="alert-head">
        <span class={`alert-state ${alert.state}`}>{alert.state}</span>
        <strong>{alert.labels.alertname}</strong>
        <span class="since" title={alert.activeAt}>
          since {formatWhen(since)} ({formatSpan(Date.now() - since)})
        </span>
        {silencedBy.length > 0 && <span class="muted-tag">silenced</span>}
        {inhibitedBy.length > 0 && <span class="muted-tag">inhibited</span>}
        <button
          type="button"
          class="silence-button"
          disabled={whoami !== undefined && !editable}
          title={whoami && !editable ? editNeeded(whoami) : undefined}
          onClick={() => setSilencing(!silencing)}
        >
          Silence…
        </button>
      </div>
      <LabelChips labels={alert.labels} onPick={onPickLabel} />
      {Object.keys(alert.annotations).length > 0 && (
        <dl class="annotations">
          {sortedPairs(alert.annotations).map(([name, value]) => (
            <div key={name}>
              <dt>{name}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      )}
      {silencedBy.length > 0 && <SilencedBy ids={silencedBy} silences={silences} />}
      {inhibitedBy.length > 0 && <InhibitedBy alert={alert} />}
      {silencing && (
        <SilenceForm
          labels={alert.labels}
          whoami={whoami}
          onCancel={() => setSilencing(false)}
          onCreated={() => {
            setSilencing(false);
            onSilenced();
          }}
        />
      )}
    </li>
  );
}
