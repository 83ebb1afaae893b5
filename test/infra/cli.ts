import { type Infra, selectedServers, startInfra } from './infra.ts';

// Starts the test servers and keeps them up until SIGINT/SIGTERM. Progress goes to stderr and the export
// lines to stdout: paste them into the shell that runs vitest, and its global setup uses these servers
// instead of starting its own.
let infra: Infra | undefined;
let stopping = false;

async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Until startup is done there is no handle to close; exiting lets the process module kill what it started.
  if (!infra) process.exit(130);
  console.error('stopping...');
  await infra.close();
  process.exit(0);
}

process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);

try {
  infra = await startInfra(selectedServers(), (line) => console.error(line));
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
for (const [name, value] of Object.entries(infra.env)) console.log(`export ${name}=${value}`);
console.error('Servers are up; Ctrl-C stops them and deletes their data.');
