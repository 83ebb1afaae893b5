/** What the alert pages show when this Lookout does not run alert-rules. */
export function NotRunning({ page }: { page: string }) {
  return (
    <div class="not-running">
      <h1>{page}</h1>
      <p>Alert rules are not running in this Lookout, so there are no alerts or silences to show here.</p>
      <p>
        To enable them, add an <code>alertRules</code> section to the configuration file (at least{' '}
        <code>alertRules.prometheus.url</code> and <code>alertRules.ruleFiles</code>; for grouping and
        silences that mute chat messages, <code>alertRules.routing</code>) and run{' '}
        <code>lookout alert-rules</code> or <code>lookout all</code>. See <code>docs/alert-rules.md</code> and{' '}
        <code>examples/alert-rules.yaml</code> in Lookout's source.
      </p>
    </div>
  );
}
