import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { ensureCommands } from './debian.ts';
import { withRunDir } from './dirs.ts';
import { freePort } from './ports.ts';
import { launchServer, type ServerProcess } from './process.ts';
import { answers200 } from './ready.ts';

const CONFIG_DIR = path.join(import.meta.dirname, 'prometheus');

export interface HttpServer extends ServerProcess {
  url: string;
}

/** Debian's builds: the three come from one archive, so they agree on versions with what users run. */
export function ensurePrometheusStack(): Promise<void> {
  return ensureCommands({
    prometheus: 'prometheus',
    'prometheus-alertmanager': 'prometheus-alertmanager',
    'prometheus-blackbox-exporter': 'prometheus-blackbox-exporter',
  });
}

interface DaemonSpec {
  name: string;
  command: string;
  /** Flags besides the listen address, given the run dir. */
  flags: (runDir: string, url: string) => Promise<string[]>;
}

async function startDaemon(spec: DaemonSpec): Promise<HttpServer> {
  await ensurePrometheusStack();
  return withRunDir(spec.name, async (runDir) => {
    const address = `127.0.0.1:${await freePort()}`;
    const url = `http://${address}`;
    const server = await launchServer({
      name: spec.name,
      command: spec.command,
      args: [`--web.listen-address=${address}`, ...(await spec.flags(runDir, url))],
      runDir,
      ready: () => answers200(`${url}/-/ready`),
      readyTimeoutMs: 30_000,
      stopGraceMs: 10_000,
    });
    return { ...server, url };
  });
}

export interface ScrapeJob {
  job: string;
  /** Base URLs of the targets; each is scraped at `/metrics`. */
  urls: string[];
  /** Added to every series of the job's targets, as Kubernetes service discovery adds `namespace` and `pod`. */
  labels?: Record<string, string>;
  /** Keeps the targets' own `instance` and `job` labels (blackbox-style series carry the probed URL as `instance`). */
  honorLabels?: boolean;
}

export interface PrometheusOptions {
  /** Scrapes this blackbox exporter and has it probe Prometheus's own /-/ready with module http_2xx. */
  blackboxUrl?: string;
  /** Paths of rule files, read where they are: a test can rewrite one and POST /-/reload. */
  ruleFiles?: string[];
  /** Scraped besides Prometheus itself, with no relabelling: `instance` is each target's host:port. */
  scrapeTargets?: ScrapeJob[];
  /** A duration as Prometheus writes it ("1s", "500ms"); 1s unless given. */
  scrapeInterval?: string;
  evaluationInterval?: string;
  /** `global.external_labels`: what rule templates see as `$externalLabels`. */
  externalLabels?: Record<string, string>;
  /** Where alerts are sent (`POST /api/v2/alerts`): base URLs of Alertmanagers or stand-ins. */
  alertmanagerUrls?: string[];
  /** Accepts remote write at /api/v1/write (for a test's own instance; the shared one stays read-only). */
  remoteWriteReceiver?: boolean;
  /** More command-line flags, after the standard ones. */
  extraFlags?: string[];
}

/**
 * Scrapes itself every second; the admin API (delete series) and lifecycle API (reload) are on. A test
 * that starts its own adds rule files, targets, intervals and flags; the shared one needs none of them.
 */
export function startPrometheus(options: PrometheusOptions = {}): Promise<HttpServer> {
  return startDaemon({
    name: 'prometheus',
    command: 'prometheus',
    flags: async (runDir, url) => {
      const config = path.join(runDir, 'prometheus.yml');
      await writeFile(config, stringify(await prometheusConfig(options)));
      await writeTargets(runDir, url, options.blackboxUrl);
      return [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(runDir, 'data')}`,
        '--web.enable-lifecycle',
        '--web.enable-admin-api',
        ...(options.remoteWriteReceiver ? ['--web.enable-remote-write-receiver'] : []),
        ...(options.extraFlags ?? []),
      ];
    },
  });
}

/** The parts of prometheus.yml a test changes. */
interface PrometheusConfig {
  global: Record<string, string | Record<string, string>>;
  rule_files?: string[];
  scrape_configs: object[];
  alerting?: object;
}

/** The shared configuration in test/infra/prometheus/, with a test's rule files, targets and intervals. */
async function prometheusConfig(options: PrometheusOptions): Promise<PrometheusConfig> {
  const config: PrometheusConfig = parse(await readFile(path.join(CONFIG_DIR, 'prometheus.yml'), 'utf8'));
  if (options.scrapeInterval) config.global.scrape_interval = options.scrapeInterval;
  if (options.evaluationInterval) config.global.evaluation_interval = options.evaluationInterval;
  if (options.externalLabels) config.global.external_labels = options.externalLabels;
  if (options.ruleFiles) config.rule_files = options.ruleFiles;
  if (options.alertmanagerUrls) {
    const targets = options.alertmanagerUrls.map((u) => new URL(u).host);
    config.alerting = { alertmanagers: [{ api_version: 'v2', static_configs: [{ targets }] }] };
  }
  for (const { job, urls, labels, honorLabels } of options.scrapeTargets ?? []) {
    config.scrape_configs.push({
      job_name: job,
      ...(honorLabels && { honor_labels: true }),
      static_configs: [{ targets: urls.map((u) => new URL(u).host), ...(labels && { labels }) }],
    });
  }
  return config;
}

async function writeTargets(runDir: string, url: string, blackboxUrl: string | undefined): Promise<void> {
  const dir = path.join(runDir, 'targets');
  await mkdir(dir);
  const blackbox = blackboxUrl ? new URL(blackboxUrl).host : undefined;
  const groups: Record<string, object[]> = {
    prometheus: [{ targets: [new URL(url).host] }],
    blackbox: blackbox ? [{ targets: [blackbox] }] : [],
    probes: blackbox ? [{ targets: [blackbox], labels: { __param_target: `${url}/-/ready` } }] : [],
  };
  for (const [job, targetGroups] of Object.entries(groups)) {
    await writeFile(path.join(dir, `${job}.json`), JSON.stringify(targetGroups));
  }
}

export interface ConfigOptions {
  /** A config file of the test's own instead of the one in test/infra/prometheus/. */
  configFile?: string;
}

/** Gossip clustering is off: a single instance needs no peers, and the port would be one more to clash. */
export function startAlertmanager(options: ConfigOptions = {}): Promise<HttpServer> {
  return startDaemon({
    name: 'alertmanager',
    command: 'prometheus-alertmanager',
    flags: async (runDir) => [
      `--config.file=${options.configFile ?? path.join(CONFIG_DIR, 'alertmanager.yml')}`,
      `--storage.path=${path.join(runDir, 'data')}`,
      '--cluster.listen-address=',
    ],
  });
}

export function startBlackboxExporter(options: ConfigOptions = {}): Promise<HttpServer> {
  return startDaemon({
    name: 'blackbox',
    command: 'prometheus-blackbox-exporter',
    flags: async () => [`--config.file=${options.configFile ?? path.join(CONFIG_DIR, 'blackbox.yml')}`],
  });
}
