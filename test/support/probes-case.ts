import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'vitest';
import type { RobotServer } from '../robots/robot-server.ts';
import { eventually, type LookoutProcess, testProcess, writeConfig } from './lookout-process.ts';

/** A routing file that tells every alert to `oncall` quickly: group wait 1s, group interval 2s. */
export const QUICK_ROUTE = `
route:
  receiver: oncall
  group_by: [alertname, probe]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
`;

export interface ProbesCaseOptions {
  /** The blackbox_exporter modules file. */
  modules: string;
  /** The Alertmanager routing file; its receivers are the robots below. */
  route?: string;
  /** Robots by receiver name, each a DingTalk robot of the double; `oncall` by default. */
  receivers?: string[];
  /** `alertRules.probes.targets`, one line each (see `target` below). */
  targets?: string[];
  /** More settings of `alertRules.probes`, as YAML lines indented by four spaces. */
  settings?: string;
}

/**
 * `lookout alert-rules` with probes, run as SREs run it: a modules file, a
 * routing file sending to robots of the DingTalk double, a real Prometheus
 * for the rules (there are none), and the probes' API without tokens.
 */
export class ProbesCase {
  readonly dir: string;
  readonly process: LookoutProcess;
  /** The double's robot name of each receiver. */
  private readonly robotNames: Map<string, string>;
  private readonly robots: RobotServer;
  url = '';

  private constructor(
    test: TestContext,
    configFile: string,
    robots: RobotServer,
    robotNames: Map<string, string>,
  ) {
    this.robots = robots;
    this.robotNames = robotNames;
    this.dir = dirname(configFile);
    this.process = testProcess(test, this.dir, 'alert-rules', configFile);
  }

  /** Writes the files and the configuration; `start()` runs the process. */
  static async prepare(
    test: TestContext,
    robots: RobotServer,
    options: ProbesCaseOptions,
  ): Promise<ProbesCase> {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-probes-'));
    const id = Math.random().toString(36).slice(2, 8);
    const robotNames = new Map<string, string>();
    const robotSettings: Record<string, unknown> = {};
    for (const receiver of options.receivers ?? ['oncall']) {
      const name = `${receiver}-${id}`;
      robotNames.set(receiver, name);
      const { baseUrl, accessToken, secret } = robots.dingtalk({ name, secret: `SEC${id}signing` });
      robotSettings[receiver] = { type: 'dingtalk', baseUrl, accessToken, secret };
    }
    await writeFile(join(dir, 'am.yml'), options.route ?? QUICK_ROUTE);
    await writeFile(join(dir, 'blackbox.yml'), options.modules);
    const configFile = await writeConfig(
      dir,
      `
dataDir: ${join(dir, 'data')}
http: { listen: "127.0.0.1:0", auth: { enabled: false } }
robots: ${JSON.stringify(robotSettings)}
alertRules:
  prometheus: { url: "${process.env.LOOKOUT_TEST_PROMETHEUS_URL}" }
  resendDelay: 2s
  routing:
    alertmanagerConfigFile: ${join(dir, 'am.yml')}
  probes:
    modulesFile: ${join(dir, 'blackbox.yml')}
    allow: [127.0.0.0/8, localhost]
    stateSaveInterval: 200ms
${options.settings ?? ''}
    targets:${options.targets?.length ? `\n${options.targets.join('\n')}` : ' []'}
`,
    );
    return new ProbesCase(test, configFile, robots, robotNames);
  }

  static async start(
    test: TestContext,
    robots: RobotServer,
    options: ProbesCaseOptions,
  ): Promise<ProbesCase> {
    const running = await ProbesCase.prepare(test, robots, options);
    await running.start();
    return running;
  }

  async start(): Promise<void> {
    this.url = await this.process.start(60_000);
  }

  /** Rewrites the modules file (read again on SIGHUP). */
  writeModules(text: string): Promise<void> {
    return writeFile(join(this.dir, 'blackbox.yml'), text);
  }

  /** Sends SIGHUP; resolves with what the process logged since, once `logged` is among it. */
  async hangup(logged: string): Promise<string> {
    const from = this.process.output.length;
    this.process.hangup();
    return eventually(
      async () => this.process.output.slice(from).join(''),
      (text) => text.includes(logged),
      `"${logged}" after SIGHUP`,
      10_000,
    );
  }

  /** What the receiver's robot was told, one text per message. */
  texts(receiver = 'oncall'): string[] {
    return this.robots.accepted(this.robotNames.get(receiver)!).map((a) => a.text);
  }

  told(count: number, what: string, receiver = 'oncall'): Promise<string[]> {
    return eventually(
      async () => this.texts(receiver),
      (texts) => texts.length >= count,
      `${what} (${count} message(s))`,
      20_000,
    );
  }

  request(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.url}${path}`, {
      method,
      ...(body !== undefined && {
        body: typeof body === 'string' ? body : JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      }),
    });
  }

  async get<T>(path: string): Promise<T> {
    const response = await this.request('GET', path);
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  state(id: string): Promise<string> {
    return this.get<{ state: string }>(`/api/probes/${id}`).then((p) => p.state);
  }

  /** Waits until the target is in `state`. */
  until(id: string, state: string, timeoutMs = 15_000): Promise<string> {
    return eventually(
      () => this.state(id),
      (s) => s === state,
      `${id} ${state}`,
      timeoutMs,
    );
  }
}

/** A target line of `probes.targets`, probed every second. */
export const target = (name: string, url: string, module: string, extra = '') =>
  `      - { name: ${name}, target: "${url}", module: ${module}, interval: 1s${extra} }`;
