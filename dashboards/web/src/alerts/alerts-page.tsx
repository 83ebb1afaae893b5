import { useEffect, useMemo, useState } from 'preact/hooks';
import { problem } from '../api.ts';
import { navigate } from '../router.ts';
import { AlertCard } from './alert-card.tsx';
import {
  type AlertGroup,
  type AlertGroupsAnswer,
  canEdit,
  editNeeded,
  type Labels,
  notRunning,
  type Silence,
  sortedPairs,
  type Whoami,
} from './api.ts';
import { LabelChips } from './labels.tsx';
import { NotRunning } from './not-running.tsx';
import { useAnswer } from './use-answer.ts';

/** Alerts change with every evaluation: the page asks again this often. */
const REFRESH_MS = 15_000;

interface AlertsView {
  /** Label matchers, as the API's `filter` takes them: `severity="critical",team=~"db|shop"`. */
  filter: string;
  state: '' | 'firing' | 'pending';
  hideSilenced: boolean;
  hideInhibited: boolean;
}

function viewOf(url: URL): AlertsView {
  const state = url.searchParams.get('state');
  return {
    filter: url.searchParams.get('filter') ?? '',
    state: state === 'firing' || state === 'pending' ? state : '',
    hideSilenced: url.searchParams.get('silenced') === 'false',
    hideInhibited: url.searchParams.get('inhibited') === 'false',
  };
}

function paramsOf(view: AlertsView): URLSearchParams {
  const params = new URLSearchParams();
  if (view.filter.trim()) params.set('filter', view.filter.trim());
  if (view.state) params.set('state', view.state);
  if (view.hideSilenced) params.set('silenced', 'false');
  if (view.hideInhibited) params.set('inhibited', 'false');
  return params;
}

const go = (view: AlertsView) => {
  const params = paramsOf(view).toString();
  navigate(params ? `/alerts?${params}` : '/alerts');
};

const labelsText = (labels: Labels) =>
  sortedPairs(labels)
    .map(([name, value]) => `${name}="${value}"`)
    .join(', ') || 'of all alerts';

/** Adds `name="value"` to the matchers, braces or not. */
function withMatcher(filter: string, name: string, value: string): string {
  const inner = filter.trim().replace(/^\{/, '').replace(/\}$/, '').trim();
  const added = `${name}=${JSON.stringify(value)}`;
  return inner ? `${inner},${added}` : added;
}

/** Whether alerts muted one way are listed. */
function Listed({
  label,
  view,
  filter,
  hide,
}: {
  label: string;
  view: AlertsView;
  filter: string;
  hide: 'hideSilenced' | 'hideInhibited';
}) {
  return (
    <label>
      <input
        type="checkbox"
        checked={!view[hide]}
        onChange={(e) => go({ ...view, filter, [hide]: !e.currentTarget.checked })}
      />{' '}
      {label}
    </label>
  );
}

function Filters({ view }: { view: AlertsView }) {
  const [filter, setFilter] = useState(view.filter);
  useEffect(() => setFilter(view.filter), [view.filter]);
  return (
    <form
      class="controls"
      onSubmit={(e) => {
        e.preventDefault();
        go({ ...view, filter });
      }}
    >
      <input
        class="q"
        type="search"
        aria-label="Label matchers"
        placeholder='Label matchers, e.g. severity="critical", team=~"db|shop"'
        value={filter}
        onInput={(e) => setFilter(e.currentTarget.value)}
      />
      <button type="submit">Filter</button>
      <select
        aria-label="State"
        value={view.state}
        onChange={(e) => go({ ...view, filter, state: e.currentTarget.value as AlertsView['state'] })}
      >
        <option value="">Firing and pending</option>
        <option value="firing">Firing</option>
        <option value="pending">Pending</option>
      </select>
      <Listed label="silenced" view={view} filter={filter} hide="hideSilenced" />
      <Listed label="inhibited" view={view} filter={filter} hide="hideInhibited" />
    </form>
  );
}

function GroupHeader({ group }: { group: AlertGroup }) {
  const count = group.alerts.length;
  return (
    <header class="group-head">
      {Object.keys(group.labels).length > 0 ? <LabelChips labels={group.labels} /> : <em>all alerts</em>}
      <span class="summary">
        {count} {count === 1 ? 'alert' : 'alerts'}
        {group.receiver !== null && (
          <>
            {' '}
            → receiver <strong>{group.receiver}</strong>
          </>
        )}
      </span>
    </header>
  );
}

function Summary({ answer }: { answer: AlertGroupsAnswer }) {
  const groups = answer.groups.length;
  return (
    <p class="summary">
      {answer.total} {answer.total === 1 ? 'alert' : 'alerts'} in {groups} {groups === 1 ? 'group' : 'groups'}
      {answer.shown < answer.total &&
        `; the first ${answer.shown} are shown, narrow the filter for the others`}
      {answer.routing
        ? ', grouped as the routing groups them (each route’s group_by).'
        : '. No routing is configured here (alertRules.routing), so alerts are grouped by alert name.'}
    </p>
  );
}

/** `/alerts`: firing and pending alerts, grouped as the routing groups them. */
export function AlertsPage({ url }: { url: URL }) {
  const view = viewOf(url);
  const path = `/api/alerts/groups?${paramsOf(view)}`;
  const groups = useAnswer<AlertGroupsAnswer>(path, REFRESH_MS);
  const whoami = useAnswer<Whoami>('/api/whoami');
  const silenceList = useAnswer<Silence[]>('/api/silences', REFRESH_MS);
  const silences = useMemo(() => new Map((silenceList.data ?? []).map((s) => [s.id, s])), [silenceList.data]);
  if (notRunning(groups.error)) return <NotRunning page="Alerts" />;
  const reload = () => {
    groups.reload();
    silenceList.reload();
  };
  const answer = groups.data;
  return (
    <div class="alerts-page">
      <h1>Alerts</h1>
      <Filters view={view} />
      {whoami.data && !canEdit(whoami.data) && <p class="note">{editNeeded(whoami.data)}</p>}
      {groups.error !== undefined && <p class="error">{problem(groups.error)}</p>}
      {answer && <Summary answer={answer} />}
      {answer && answer.total === 0 && (
        <p class="empty">
          {view.filter || view.state || view.hideSilenced || view.hideInhibited
            ? 'No alert matches this filter.'
            : 'No alert is firing or pending.'}
        </p>
      )}
      {answer?.groups.map((group) => (
        <section class="alert-group" key={group.id} aria-label={`Group ${labelsText(group.labels)}`}>
          <GroupHeader group={group} />
          <ul class="alert-list">
            {group.alerts.map((alert) => (
              <AlertCard
                key={alert.fingerprint}
                alert={alert}
                whoami={whoami.data}
                silences={silences}
                onPickLabel={(name, value) => go({ ...view, filter: withMatcher(view.filter, name, value) })}
                onSilenced={reload}
              />
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}
