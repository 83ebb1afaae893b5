import { cp, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ensureCommands } from './debian.ts';
import { cacheDir, cachedDir, withRunDir } from './dirs.ts';
import { onPath, run } from './exec.ts';
import { javaHome, jvmTempOptions } from './java.ts';
import { mvn } from './maven.ts';
import { freePorts } from './ports.ts';
import { launchServer, type ServerProcess } from './process.ts';
import { answers200 } from './ready.ts';

/**
 * The integ-test-zip is the one Elasticsearch distribution on Maven Central. It is a cut-down server:
 * modules transport-netty4, x-pack-core, x-pack-security and apm only. Index templates, data streams,
 * _bulk and aggregations work; match_only_text, wildcard, scaled_float, ingest processors, painless
 * scripts and ILM do not (their modules are missing).
 */
export const ELASTICSEARCH_VERSION = '8.19.21';

const ARTIFACT = `org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ELASTICSEARCH_VERSION}:zip`;

export interface ElasticsearchServer extends ServerProcess {
  url: string;
}

let fetching: Promise<string> | undefined;

/** ES_HOME of the unpacked distribution in the cache; fetched with Maven once. */
export function ensureElasticsearch(): Promise<string> {
  fetching ??= fetchDistribution();
  fetching.catch(() => {
    fetching = undefined;
  });
  return fetching;
}

async function fetchDistribution(): Promise<string> {
  await ensureCommands({ unzip: 'unzip' });
  const dir = await cachedDir(
    path.join(cacheDir(), `elasticsearch-${ELASTICSEARCH_VERSION}`),
    async (tmp) => {
      await mvn(['dependency:copy', `-Dartifact=${ARTIFACT}`, `-DoutputDirectory=${tmp}`]);
      const zip = path.join(tmp, `elasticsearch-${ELASTICSEARCH_VERSION}.zip`);
      await run('unzip', ['-q', zip, '-d', tmp]);
      await rm(zip);
    },
  );
  return path.join(dir, `elasticsearch-${ELASTICSEARCH_VERSION}`);
}

/** A single-node cluster with security off, its config copied into the run dir so the cache stays pristine. */
export async function startElasticsearch(): Promise<ElasticsearchServer> {
  const home = await ensureElasticsearch();
  return withRunDir('elasticsearch', async (runDir) => {
    const [httpPort, transportPort] = await freePorts(2);
    const config = path.join(runDir, 'config');
    const tmp = path.join(runDir, 'tmp');
    await cp(path.join(home, 'config'), config, { recursive: true });
    await mkdir(tmp);
    const settings: Record<string, string> = {
      'cluster.name': 'lookout-test',
      'discovery.type': 'single-node',
      'xpack.security.enabled': 'false',
      'network.host': '127.0.0.1',
      'http.port': String(httpPort),
      'transport.port': String(transportPort),
      'path.data': path.join(runDir, 'data'),
      'path.logs': path.join(runDir, 'logs'),
      // A nearly full disk on a developer machine must not turn indices read-only mid-test.
      'cluster.routing.allocation.disk.threshold_enabled': 'false',
      // Lets tests clean up with wildcards (DELETE /lookout-test-*).
      'action.destructive_requires_name': 'false',
    };
    const launcher = [
      path.join(home, 'bin', 'elasticsearch'),
      ...Object.entries(settings).flatMap(([key, value]) => ['-E', `${key}=${value}`]),
    ];
    const [command, ...args] = asNonRoot(launcher);
    const url = `http://127.0.0.1:${httpPort}`;
    const server = await launchServer({
      name: 'elasticsearch',
      command: command!,
      args,
      runDir,
      env: {
        ...process.env,
        ES_JAVA_HOME: javaHome(),
        ES_JAVA_OPTS: ['-Xms512m', '-Xmx512m', ...jvmTempOptions(tmp)].join(' '),
        // The launcher's own JVM, which writes the server's final JVM flags to temporary files.
        CLI_JAVA_OPTS: jvmTempOptions(tmp).join(' '),
        ES_PATH_CONF: config,
        ES_TMPDIR: tmp,
      },
      ready: () => answers200(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`),
      readyTimeoutMs: 180_000,
      stopGraceMs: 30_000,
    });
    return { ...server, url };
  });
}

/**
 * Elasticsearch refuses to run as root. For root, a user namespace makes it uid 65534 in its own eyes,
 * while on disk it stays root, so the cache under a private home directory is still readable to it.
 */
function asNonRoot(command: string[]): string[] {
  if (process.getuid?.() !== 0) return command;
  if (!onPath('unshare'))
    throw new Error('Elasticsearch cannot run as root, and unshare (util-linux) is missing');
  return ['unshare', '--user', '--map-user=65534', '--map-group=65534', ...command];
}
