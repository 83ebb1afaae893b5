import { INFRA_CONTROL_ENV, infraStatus } from './control.ts';
import { selectedServers, startInfra } from './infra.ts';

/**
 * Vitest global setup for the integration project. Starts the real servers and publishes their addresses
 * as LOOKOUT_TEST_* variables, which the test workers inherit. When LOOKOUT_TEST_INFRA_CONTROL is already
 * set, the servers of a running `node test/infra/cli.ts` (make infra) are used instead, with its variables.
 */
export default async function setup(): Promise<() => Promise<void>> {
  if (process.env[INFRA_CONTROL_ENV]) {
    await infraStatus().catch((err: Error) => {
      throw new Error(
        `${INFRA_CONTROL_ENV} is set but its servers do not answer (${err.message}); ` +
          'start them with `make infra` or unset the LOOKOUT_TEST_* variables',
      );
    });
    return async () => {};
  }
  const infra = await startInfra(selectedServers(), (line) => console.log(`[infra] ${line}`));
  Object.assign(process.env, infra.env);
  return () => infra.close();
}
