import { useState } from 'preact/hooks';
import { api, problem } from '../api.ts';
import { linkHandler, navigate } from '../router.ts';
import { canEdit, type Whoami } from '../whoami.ts';
import { EditorNeeded } from './editor-needed.tsx';
import type { Probe, ProbeSpec } from './types.ts';

/** The API's words when the address guard refuses a target (see docs/probes.md). */
const REFUSED = 'target refused:';

function labelsText(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {})
    .map(([name, value]) => `${name}=${value}`)
    .join('\n');
}

/** `name=value` lines; the API validates names and values. */
function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const at = trimmed.indexOf('=');
    if (at < 0) labels[trimmed] = '';
    else labels[trimmed.slice(0, at).trim()] = trimmed.slice(at + 1).trim();
  }
  return labels;
}

/** What the refusal means for the person filling the form, after the API's own words. */
function RefusalHelp() {
  return (
    <p class="help">
      Probes may not reach this host, private networks or cloud metadata services unless the configuration
      allows them: list the address, a CIDR or the host name under <code>alertRules.probes.allow</code> (and
      never-reachable ones under <code>alertRules.probes.deny</code>), then reload. See "Which addresses
      probes may reach" in <code>docs/probes.md</code>.
    </p>
  );
}

/**
 * Adds a target, or changes one created through the API: the fields a
 * person sets most, over the rest of the target as it was written.
 */
export function TargetForm({
  who,
  modules,
  probe,
  onSaved,
}: {
  who: Whoami | undefined;
  modules: string[];
  probe?: Probe;
  onSaved: () => Promise<void>;
}) {
  const spec: Partial<ProbeSpec> = probe?.spec ?? {};
  const [name, setName] = useState(probe?.id ?? '');
  const [target, setTarget] = useState(spec.target ?? '');
  const [module, setModule] = useState(spec.module ?? modules[0] ?? '');
  const [interval, setEvery] = useState(String(spec.interval ?? '60s'));
  const [labels, setLabels] = useState(labelsText(spec.labels));
  const [receivers, setReceivers] = useState((spec.receivers ?? []).join(', '));
  const [error, setError] = useState<string>();
  const [saving, setSaving] = useState(false);
  const back = probe ? `/probes/${encodeURIComponent(probe.id)}` : '/probes';

  if (who && !canEdit(who))
    return (
      <p>
        <EditorNeeded who={who} doing="Adding and changing targets" />{' '}
        <a href={back} onClick={linkHandler(back)}>
          Back
        </a>
      </p>
    );

  const submit = async (event: Event) => {
    event.preventDefault();
    const body: ProbeSpec = {
      ...spec,
      ...(name.trim() && { name: name.trim() }),
      target: target.trim(),
      module,
      interval: interval.trim(),
      labels: parseLabels(labels),
      receivers: receivers
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean),
    };
    setSaving(true);
    try {
      const saved = probe
        ? await api<Probe>(`/api/probes/${encodeURIComponent(probe.id)}`, { method: 'PUT', body })
        : await api<Probe>('/api/probes', { method: 'POST', body });
      await onSaved();
      navigate(`/probes/${encodeURIComponent(saved.id)}`);
    } catch (err) {
      setError(problem(err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <form class="target-form" onSubmit={submit}>
      <h1>{probe ? `Change ${probe.id}` : 'Add a probe target'}</h1>
      <label>
        Name
        <input
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
          disabled={probe !== undefined}
          placeholder="shop-home (left empty, one is made up)"
        />
      </label>
      <label>
        Target
        <input
          value={target}
          onInput={(e) => setTarget(e.currentTarget.value)}
          required
          placeholder="https://shop.example.com/ (host:port for tcp, the DNS server for dns)"
        />
      </label>
      <label>
        Module
        <select value={module} onChange={(e) => setModule(e.currentTarget.value)} required>
          {modules.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
      </label>
      {modules.length === 0 && (
        <p class="note">
          No probe modules are configured: add some under <code>alertRules.probes.modules</code> or{' '}
          <code>alertRules.probes.modulesFile</code>.
        </p>
      )}
      <label>
        Interval
        <input value={interval} onInput={(e) => setEvery(e.currentTarget.value)} placeholder="60s" />
      </label>
      <label>
        <span>
          Labels (one <code>name=value</code> a line, added to its alerts)
        </span>
        <textarea rows={3} value={labels} onInput={(e) => setLabels(e.currentTarget.value)} />
      </label>
      <label>
        Receivers (comma-separated; none: the routing decides)
        <input value={receivers} onInput={(e) => setReceivers(e.currentTarget.value)} />
      </label>
      {error && (
        <div class="form-error" role="alert">
          <p class="error">{error}</p>
          {error.startsWith(REFUSED) && <RefusalHelp />}
        </div>
      )}
      <div class="controls">
        <button type="submit" disabled={saving}>
          {probe ? 'Save' : 'Add target'}
        </button>
        <a href={back} onClick={linkHandler(back)}>
          Cancel
        </a>
      </div>
    </form>
  );
}
