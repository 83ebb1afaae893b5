import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../alert-rules/probes/fixtures/probe-fixtures.ts';
import { type RobotServer, startRobotServer } from './robots/robot-server.ts';
import { eventually, LookoutProcess, writeConfig } from './support/lookout-process.ts';

/**
 * Probe agents at three locations, each a `lookout probe-agent` process,
 * reporting to the centre (`lookout alert-rules`) over HTTP with an agent
 * token, against a real site: one cut off from the site (its address guard
 * refuses it), one cut off from the centre for a while (its results wait on
 * disk and arrive late, none lost), one killed (ProbeAgentDown); then an
 * outage every location sees, told once with the locations and their reasons.
 */

const AGENT_TOKEN = `agent-${randomBytes(12).toString('hex')}`;
const ADMIN_TOKEN = `admin-${randomBytes(12).toString('hex')}`;

let robots: RobotServer;
let dir: string;
const processes: LookoutProcess[] = [];
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  robots = await startRobotServer();
  dir = await mkdtemp(join(tmpdir(), 'lookout-probe-agents-'));
});

afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill()));
  await Promise.all(closers.map((close) => close()));
  await robots?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A site whose status the test sets. */
async function startSite() {
  const site = { status: 200 };
  const server = createServer((_req, res) => {
    res.writeHead(site.status, { 'content-type': 'text/plain' });
    res.end(site.status === 200 ? 'welcome' : 'out of order');
  });
  const { port, close } = await listen(server);
  closers.push(close);
  return Object.assign(site, { url: `http://127.0.0.1:${port}/` });
}

/** A TCP relay to the centre that the test can cut: connections then are refused, and open ones broken. */
async function startRelay(to: URL) {
  let cut = false;
  const sockets = new Set<Socket>();
  const server = createTcpServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(to.port), to.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  const { port, close } = await listen(server);
  closers.push(async () => {
    for (const socket of sockets) socket.destroy();
    await close();
  });
  return {
    url: `http://127.0.0.1:${port}`,
    cut() {
      cut = true;
      for (const socket of sockets) socket.destroy();
    },
    mend() {
      cut = false;
    },
  };
}

async function startCentre(siteUrl: string): Promise<{ url: string; robot: string }> {
  const home = join(dir, 'centre');
  await mkdir(home, { recursive: true });
  const id = randomBytes(3).toString('hex');
  const robot = `oncall-${id}`;
  const { baseUrl, accessToken, secret } = robots.dingtalk({ name: robot, secret: `SEC${id}signing` });
  await writeFile(
    join(home, 'am.yml'),
    'route:\n  receiver: oncall\n  group_by: [alertname, probe, location]\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\n',
  );
  const config = await writeConfig(
    home,
    `
dataDir: ${join(home, 'data')}
http:
  listen: "127.0.0.1:0"
  auth:
    tokens:
      - { name: agents, token: ${AGENT_TOKEN}, role: agent }
      - { name: test, token: ${ADMIN_TOKEN}, role: admin }
robots: ${JSON.stringify({ oncall: { type: 'dingtalk', baseUrl, accessToken, secret } })}
alertRules:
  prometheus: { url: "http://127.0.0.1:9/" }
  resendDelay: 1s
  routing:
    alertmanagerConfigFile: ${join(home, 'am.yml')}
  probes:
    modules:
      http_2xx: { prober: http, timeout: 1s }
    stateSaveInterval: 200ms
    agents: { downAfter: 8s, lateAfterIntervals: 2 }
    targets:
      - name: shop
        target: "${siteUrl}"
        module: http_2xx
        interval: 1s
        failuresBeforeDown: 1
        locations: [east, west, north]
        locationsDown: 2
`,
  );
  const centre = new LookoutProcess('alert-rules', config);
  processes.push(centre);
  return { url: await centre.start(60_000), robot };
}

async function agentProcess(location: string, centreUrl: string, guard: string): Promise<LookoutProcess> {
  const home = join(dir, location);
  await mkdir(home, { recursive: true });
  await writeFile(join(home, 'token'), `${AGENT_TOKEN}\n`);
  const config = await writeConfig(
    home,
    `
dataDir: ${join(home, 'data')}
http: { listen: "127.0.0.1:0", auth: { enabled: false } }
probeAgent:
  location: ${location}
  centre: { url: "${centreUrl}", auth: { bearerTokenFile: ${join(home, 'token')} } }
  assignmentInterval: 1s
  reportInterval: 500ms
  requestTimeout: 2s
  retry: { initial: 200ms, max: 1s }
  ${guard}
`,
  );
  const agent = new LookoutProcess('probe-agent', config);
  processes.push(agent);
  return agent;
}

interface Results {
  state: string;
  locations: { location: string; state: string; lastFailure: string | null; counted: boolean }[];
  results: { location: string; success: boolean; late?: true; failure?: string }[];
}

/** The sum of a metric's series whose text contains `match`. */
async function metric(url: string, name: string, match = '', token?: string): Promise<number> {
  const response = await fetch(
    `${url}/metrics`,
    token ? { headers: { authorization: `Bearer ${token}` } } : {},
  );
  const text = await response.text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(name) && line.includes(match))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

describe('probe agents at three locations', () => {
  it('alerts on what two of three see, keeps results through a cut, tells a dead agent, and lists where a site is down', async () => {
    const site = await startSite();
    const centre = await startCentre(site.url);
    const relay = await startRelay(new URL(centre.url));
    const api = async <T>(path: string): Promise<T> => {
      const response = await fetch(`${centre.url}${path}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    };
    const shop = () => api<Results>('/api/probes/shop/results');
    const texts = () => robots.accepted(centre.robot).map((a) => a.text);
    const allow = 'allow: [127.0.0.0/8]';
    // West's network cannot reach the site: its own address guard refuses it.
    const [east, west, north] = await Promise.all([
      agentProcess('east', centre.url, allow),
      agentProcess('west', centre.url, 'allow: []'),
      agentProcess('north', relay.url, allow),
    ]);
    const [, , northUrl] = await Promise.all([east!.start(), west!.start(), north!.start()]);

    // 1. Only west sees the site down: with 2 of 3 needed, nobody is told.
    await eventually(
      shop,
      (r) => r.locations.map((l) => l.state).join() === 'up,down,up',
      'east and north up, west down',
      30_000,
    );
    const seen = await shop();
    expect(seen.state).toBe('up');
    expect(seen.locations.find((l) => l.location === 'west')?.lastFailure).toContain('loopback');
    // blackbox_exporter's series of each location, told apart by a location label.
    expect(await metric(centre.url, 'probe_success{', 'location="east"', ADMIN_TOKEN)).toBe(1);
    expect(await metric(centre.url, 'probe_success{', 'location="west"', ADMIN_TOKEN)).toBe(0);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(texts()).toEqual([]);

    // 2. North is cut off from the centre for a while, and killed and started again meanwhile: it probes
    // on with the assignment it kept, its results wait on disk, then arrive, late, none lost.
    relay.cut();
    const buffered = (url: string) => metric(url, 'lookout_probe_agent_buffered_results');
    const waiting = await eventually(
      () => buffered(northUrl),
      (n) => n >= 2,
      'north buffering',
      10_000,
    );
    await north!.kill();
    const restartedUrl = await north!.start();
    await eventually(
      () => buffered(restartedUrl),
      (n) => n >= waiting + 2,
      'north buffering after kill -9',
      10_000,
    );
    relay.mend();
    await eventually(
      () => buffered(restartedUrl),
      (n) => n === 0,
      'north delivering what it buffered',
      15_000,
    );
    const late = await metric(centre.url, 'lookout_probe_agents_results_total', 'status="late"', ADMIN_TOKEN);
    expect(late).toBeGreaterThan(0);
    expect(await metric(centre.url, 'lookout_probe_agents_results_total', 'status="lost"', ADMIN_TOKEN)).toBe(
      0,
    );
    expect(await metric(restartedUrl, 'lookout_probe_agent_dropped_results_total')).toBe(0);
    expect((await shop()).results.some((r) => r.location === 'north' && r.late)).toBe(true);
    expect(texts()).toEqual([]);

    // 3. East is killed: ProbeAgentDown names its location; west alone still tells nothing about the site.
    await east!.kill();
    const [agentDown] = await eventually(
      async () => texts(),
      (t) => t.length >= 1,
      'ProbeAgentDown for east',
      20_000,
    );
    expect(agentDown).toContain('ProbeAgentDown');
    expect(agentDown).toContain('east');
    expect(texts().join('\n')).not.toContain('ProbeDown\n');
    expect((await shop()).locations.find((l) => l.location === 'east')?.counted).toBe(false);

    // East comes back with its data directory: its agent is up again.
    await east!.start();
    await eventually(
      async () => texts(),
      (t) => t.some((text) => text.includes('RESOLVED')),
      'ProbeAgentDown resolved',
      20_000,
    );
    await eventually(shop, (r) => r.locations.every((l) => l.counted), 'every location counted', 15_000);
    const before = texts().length;

    // 4. The site goes down for everyone: one ProbeDown, saying where it is down and why.
    site.status = 503;
    const told = await eventually(
      async () => texts(),
      (t) => t.slice(before).some((text) => text.includes('ProbeDown')),
      'ProbeDown',
      20_000,
    );
    const down = told.slice(before).find((text) => text.includes('ProbeDown'))!;
    expect(down).toMatch(/is down from [23] of 3 locations/);
    expect(down).toContain('status 503');
    expect(down).toContain('west (');
    expect((await shop()).state).toBe('down');
    await new Promise((r) => setTimeout(r, 3_000));
    expect(
      texts()
        .slice(before)
        .filter((text) => text.includes('ProbeDown') && !text.includes('RESOLVED')),
    ).toHaveLength(1);

    site.status = 200;
    await eventually(
      async () => texts(),
      (t) => t.slice(before).some((text) => text.includes('RESOLVED') && text.includes('ProbeDown')),
      'ProbeDown resolved',
      20_000,
    );
  });
});
