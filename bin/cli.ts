import { parseArgs } from 'node:util';
import { ConfigInvalidError, formatConfigErrors, loadConfig } from '../core/config.ts';
import type { HttpApp } from '../core/http.ts';
import { createBasicHttpServer, type HttpServer, type HttpServerOptions } from '../core/http-server.ts';
import { Lifecycle } from '../core/lifecycle.ts';
import { createLogger, logProcessWarnings } from '../core/log.ts';
import { Metrics } from '../core/metrics.ts';
import type { ChatRobots } from '../notify/chat-robots.ts';
import { COMPONENTS, type ComponentEntry } from './components.ts';
import { ALL_SECTIONS, type RootConfig, rootSchema, type Section } from './config.ts';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

const COMMANDS: Record<string, string> = {
  sidecar: 'tail log files, parse and enrich them, and ship them to Kafka, Elasticsearch or a collector',
  collector: 'consume Kafka, index logs, and serve log search, context and live tail',
  'event-router': 'watch Kubernetes events and route them to DingTalk and WeCom robots',
  'alert-rules':
    'evaluate Prometheus alert rules and send their alerts to Alertmanager or DingTalk and WeCom robots',
  'probe-agent':
    "probe the site targets the central alert-rules assigns to this agent's location, and report the results there",
  all: 'run every component configured in the file, in one process',
  'check-config': 'validate a configuration file and print every error with its path',
};

function usage(command?: string): string {
  const exitCodes =
    'Exit codes: 0 success or clean shutdown, 1 invalid configuration or failure, 2 usage error.';
  if (command && COMMANDS[command]) {
    return [
      `Usage: lookout ${command} [--config FILE]`,
      '',
      `  ${COMMANDS[command]}`,
      '',
      'Options:',
      '  -c, --config FILE  YAML configuration (default: $LOOKOUT_CONFIG, else lookout.yaml)',
      '  -h, --help         show this help',
      '',
      '${VAR} and ${VAR:-default} in the file are read from the environment.',
      command === 'check-config' ? '' : 'SIGTERM/SIGINT drain and exit; SIGHUP reloads the configuration.',
      exitCodes,
    ].join('\n');
  }
  return [
    'Usage: lookout <command> [--config FILE]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, text]) => `  ${name.padEnd(14)}${text}`),
    '',
    'Run "lookout <command> --help" for a command\'s options.',
    exitCodes,
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv);
  } catch (err) {
    process.stderr.write(`lookout: ${(err as Error).message}\n\n${usage()}\n`);
    return EXIT_USAGE;
  }
  const { command, configFile, help } = parsed;
  if (help || !command) {
    process.stdout.write(`${usage(command)}\n`);
    return command || help ? EXIT_OK : EXIT_USAGE;
  }
  if (!COMMANDS[command]) {
    process.stderr.write(`lookout: unknown command "${command}"\n\n${usage()}\n`);
    return EXIT_USAGE;
  }

  const everything = command === 'all' || command === 'check-config';
  const entry = COMPONENTS[command];
  if (!everything && !entry) {
    process.stderr.write(`lookout: the ${command} component is not part of this build yet\n`);
    return EXIT_FAILURE;
  }
  const sections: Section[] =
    everything || !entry ? ALL_SECTIONS : [entry.section, ...(entry.chat ? (['robots'] as const) : [])];
  const schema = await rootSchema(sections);
  let config: RootConfig;
  try {
    config = await loadConfig(schema, configFile);
  } catch (err) {
    if (!(err instanceof ConfigInvalidError)) throw err;
    process.stderr.write(`${configFile}: invalid configuration\n${formatConfigErrors(err.errors)}\n`);
    return EXIT_FAILURE;
  }
  if (command === 'check-config') {
    process.stdout.write(`${configFile}: valid\n`);
    return EXIT_OK;
  }
  if (entry && config[entry.section] === undefined) {
    process.stderr.write(`${configFile}: has no "${entry.section}" section for "lookout ${command}"\n`);
    return EXIT_FAILURE;
  }
  return run(command, configFile, config, () => loadConfig(schema, configFile));
}

function parseCli(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length > 1) throw new Error(`unexpected argument "${positionals[1]}"`);
  return {
    command: positionals[0],
    help: values.help ?? false,
    configFile: values.config ?? process.env.LOOKOUT_CONFIG ?? 'lookout.yaml',
  };
}

/** The components a command runs: its own, or for `all` every one whose section the file has. */
function selected(command: string, config: RootConfig): [string, ComponentEntry][] {
  return Object.entries(COMPONENTS).filter(
    (pair): pair is [string, ComponentEntry] =>
      pair[1] !== undefined &&
      (command === 'all' ? config[pair[1].section] !== undefined : pair[0] === command),
  );
}

async function run(
  command: string,
  configFile: string,
  config: RootConfig,
  load: () => Promise<RootConfig>,
): Promise<number> {
  const log = createLogger({ level: config.log.level });
  logProcessWarnings(log);
  const metrics = new Metrics();
  const components = selected(command, config);
  const serverOptions: HttpServerOptions = { config: config.http, log, metrics };
  const http: HttpServer = components.some(([, entry]) => entry.routes)
    ? (await import('../core/http.ts')).createHttpApp({
        ...serverOptions,
        console: await (await import('../core/console.ts')).loadConsole(),
      })
    : createBasicHttpServer(serverOptions);
  const lifecycle = new Lifecycle<RootConfig>(
    {
      log,
      load,
      shutdownTimeoutMs: (c) => c.shutdown.timeout,
      shutdownGraceMs: (c) => c.shutdown.grace,
    },
    config,
  );
  let chatRobots: ChatRobots | undefined;
  if (components.some(([, entry]) => entry.chat)) {
    const { ChatRobots } = await import('../notify/chat-robots.ts');
    const robots = new ChatRobots({ robots: config.robots, log, metrics, dataDir: config.dataDir });
    // Registered first so it stops last: components flush their last alerts through it.
    lifecycle.add({
      name: robots.name,
      start: () => robots.start(),
      stop: (deadline) => robots.stop(deadline),
      reload: (next, deadline) => robots.reload(next.robots, deadline),
    });
    chatRobots = robots;
  }
  const ctx = { log, metrics, http, dataDir: config.dataDir };
  for (const [, entry] of components) lifecycle.add(await entry.create(config, ctx, chatRobots));
  if ('app' in http) {
    const { registerStatusApi } = await import('./status.ts');
    const robots = chatRobots;
    registerStatusApi((http as HttpApp).app, {
      components: Object.entries(COMPONENTS).flatMap(([name, entry]) =>
        entry
          ? [{ name, section: entry.section, running: components.some(([n]) => n === name), ...entry.status }]
          : [],
      ),
      readiness: http.readiness,
      metrics,
      robots: robots && (() => robots.status()),
    });
  }
  let address = '';
  lifecycle.add({
    name: 'http',
    start: async () => {
      address = await http.listen();
    },
    stop: () => http.close(),
    reload: async (next) => {
      http.setAuth(next.http.auth);
      log.level = next.log.level;
    },
  });
  lifecycle.handleSignals();
  try {
    await lifecycle.start();
  } catch (err) {
    log.fatal({ err }, 'could not start');
    await lifecycle.shutdown('start failed');
    return EXIT_FAILURE;
  }
  const names = components.map(([name]) => name);
  log.info({ address, config: configFile, components: names }, 'lookout running');
  process.stderr.write(startBanner(names, configFile, address, config.http.auth.enabled, 'app' in http));
  return new Promise<number>(() => {});
}

/** What a person who just started Lookout can do with it now. */
function startBanner(
  names: string[],
  configFile: string,
  address: string,
  auth: boolean,
  webConsole: boolean,
): string {
  const curl = auth ? "curl -H 'authorization: Bearer <token>'" : 'curl';
  const lines = [
    `lookout: running ${names.length > 0 ? names.join(', ') : 'no components'} from ${configFile}`,
    webConsole
      ? `  console and API at ${address}/ (open it in a browser; GET / from a program lists the endpoints)`
      : `  API at ${address}/ (GET / lists its endpoints)`,
  ];
  if (names.includes('collector')) {
    lines.push(
      `  search the last hour: ${curl} '${address}/api/logs/search?from=now-1h&q=error'`,
      `  follow new lines:     ${curl} -N '${address}/api/logs/tail?q=error'`,
    );
  }
  return `${lines.join('\n')}\n`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`lookout: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(EXIT_FAILURE);
  },
);
