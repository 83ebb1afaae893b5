import { useEffect, useState } from 'preact/hooks';
import type {
  ApiEventGroup,
  ApiSentMessage,
  EventGroupsAnswer as GroupsAnswer,
} from '../../../../event-router/api-types.ts';
import { ApiError, api, problem } from '../api.ts';
import { formatTime } from '../logs/doc.ts';

type Group = ApiEventGroup;
type Sent = ApiSentMessage;

/** The robots' outcomes in words. */
const OUTCOMES: Record<ApiSentMessage['robots'][number]['outcome'], string> = {
  waiting: 'waiting in the outbox',
  sent: 'sent',
  digested: 'sent in a digest',
  retrying: 'retrying',
  dropped: 'dropped',
};

/** `n things, the latest m shown` when the answer was cut to its limit. */
function counted(shown: number, all: number, one: string, many: string): string {
  const total = `${all.toLocaleString()} ${all === 1 ? one : many}`;
  return shown < all ? `${total}, the latest ${shown.toLocaleString()} shown` : total;
}

type State = { loading: true } | { error: string } | { notRunning: true } | { answer: GroupsAnswer };

function NotRunning() {
  return (
    <div class="notice">
      <p>
        The event router does not run in this process, so its groups and the messages it sent to the robots
        are not shown here. The events above are those it archived into the log store.
      </p>
      <p>
        To see them, run the event router in the same process as the console: <code>lookout all</code> with an{' '}
        <code>eventRouter</code> section (and <code>robots</code>) in the configuration. See
        docs/event-router.md.
      </p>
    </div>
  );
}

function GroupsTable({ groups }: { groups: Group[] }) {
  return (
    <table class="event-table">
      <thead>
        <tr>
          <th>Object</th>
          <th>Reason</th>
          <th>Route → robots</th>
          <th>Occurrences</th>
          <th>Waiting</th>
          <th>Last message</th>
          <th>Next message</th>
        </tr>
      </thead>
      <tbody>
        {groups.map((g) => (
          <tr
            key={`${g.route} ${g.namespace}/${g.kind}/${g.name} ${g.reason}`}
            class={g.type === 'Warning' ? 'warning' : ''}
          >
            <td>
              {g.namespace && <span class="namespace">{g.namespace} </span>}
              {g.kind}/{g.name}
            </td>
            <td title={g.message}>{g.reason}</td>
            <td>
              {g.route} → {g.robots.join(', ')}
            </td>
            <td class="count">{g.total}</td>
            <td class="count">{g.pending}</td>
            <td class="time">{g.sentAt === null ? 'none yet' : formatTime(g.sentAt)}</td>
            <td class="time">{g.dueAt === null ? '' : formatTime(g.dueAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function SentTable({ sent }: { sent: Sent[] }) {
  return (
    <table class="event-table">
      <thead>
        <tr>
          <th>Time</th>
          <th>Message</th>
          <th>Kind</th>
          <th>Robot: outcome</th>
        </tr>
      </thead>
      <tbody>
        {sent.map((s) => (
          <tr key={s.id}>
            <td class="time">{formatTime(s.time)}</td>
            <td>{s.title}</td>
            <td>{s.kind}</td>
            <td>
              {s.robots.map((r) => (
                <div key={r.robot} class={`outcome outcome-${r.outcome}`} title={formatTime(r.at)}>
                  {r.robot}: {OUTCOMES[r.outcome] ?? r.outcome}
                  {r.detail && ` (${r.detail})`}
                </div>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The event router's groups and the messages it handed to each robot, when it runs in this process. */
export function EventGroups() {
  const [state, setState] = useState<State>({ loading: true });
  const [reloads, setReloads] = useState(0);
  useEffect(() => {
    const abort = new AbortController();
    api<GroupsAnswer>('/api/events/groups', { signal: abort.signal })
      .then((answer) => setState({ answer }))
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 404) setState({ notRunning: true });
        else {
          const message = problem(err);
          if (message) setState({ error: message });
        }
      });
    return () => abort.abort();
  }, [reloads]);

  return (
    <section class="event-groups" aria-label="Aggregation and messages">
      <h2>
        Aggregation and messages{' '}
        <button type="button" onClick={() => setReloads((n) => n + 1)}>
          Refresh
        </button>
      </h2>
      {'loading' in state && <p class="summary">Loading…</p>}
      {'error' in state && <p class="error">{state.error}</p>}
      {'notRunning' in state && <NotRunning />}
      {'answer' in state && <GroupsView answer={state.answer} />}
    </section>
  );
}

function GroupsView({ answer }: { answer: GroupsAnswer }) {
  if (!answer.leading) {
    return (
      <p class="notice">
        This replica of the event router does not lead, so it holds no groups and sends nothing: the leader
        (the holder of the Lease) does. Open the console of the leader's process to see them.
      </p>
    );
  }
  const { groups, groupCount, sent, sentCount } = answer;
  return (
    <>
      <h3>Groups</h3>
      <p class="summary">
        {groupCount === 0
          ? 'No groups now: no routed event waits for a message or was told lately.'
          : counted(groups.length, groupCount, 'group', 'groups')}
      </p>
      {groups.length > 0 && <GroupsTable groups={groups} />}
      <h3>Sent to robots</h3>
      <p class="summary">
        {sentCount === 0
          ? 'No messages since the event router started.'
          : counted(sent.length, sentCount, 'message', 'messages')}
      </p>
      {sent.length > 0 && <SentTable sent={sent} />}
    </>
  );
}
