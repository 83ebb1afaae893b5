/**
 * One line naming every step of an error down to its cause. Clients wrap the
 * reason a request failed (a refused login, an untrusted certificate) in
 * aggregate errors and causes under a message such as "initProducerId failed
 * 3 times"; logged alone, that message says nothing an operator can act on.
 */
export function describeError(err: unknown): string {
  const steps: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current instanceof Error && depth < 10; depth++) {
    // Kafka brokers explain refusals in their own words beside the error code.
    const { serverErrorMessage } = current as { serverErrorMessage?: unknown };
    for (const text of [current.message, serverErrorMessage]) {
      const step = typeof text === 'string' ? text.trim().replace(/\.$/, '') : '';
      if (step && !steps.includes(step)) steps.push(step);
    }
    current = current instanceof AggregateError ? current.errors[0] : current.cause;
  }
  return steps.length > 0 ? steps.join(': ') : String(err);
}
