import { readFile } from 'node:fs/promises';
import { type Clock, systemClock } from '../clock.ts';
import type { KubernetesConfig } from './config.ts';

/** What one request carries to say who is asking. */
export interface Authentication {
  headers: Readonly<Record<string, string>>;
  /** A client certificate an exec plugin handed out, in place of the kubeconfig's own. */
  cert?: Buffer | string;
  key?: Buffer | string;
}

export interface Credentials {
  /** For the next request; may refresh a token first. */
  authenticate(): Promise<Authentication>;
}

export class StaticCredentials implements Credentials {
  private readonly authentication: Authentication;

  constructor(headers: Record<string, string>) {
    this.authentication = { headers };
  }

  authenticate(): Promise<Authentication> {
    return Promise.resolve(this.authentication);
  }
}

/** client-go's period: a rotated token is picked up within a minute. */
const TOKEN_FILE_REREAD_MS = 60_000;

/** A bearer token read from a file, and read again a minute later, so that a rotated token is used. */
export class TokenFileCredentials implements Credentials {
  private readonly path: string;
  private readonly headers: Record<string, string>;
  private readonly clock: Pick<Clock, 'now'>;
  private token: { authentication: Authentication; readAt: number } | undefined;

  constructor(path: string, headers: Record<string, string> = {}, clock: Pick<Clock, 'now'> = systemClock) {
    this.path = path;
    this.headers = headers;
    this.clock = clock;
  }

  async authenticate(): Promise<Authentication> {
    const now = this.clock.now();
    if (!this.token || now - this.token.readAt > TOKEN_FILE_REREAD_MS) {
      const token = (await readFile(this.path, 'utf8')).trim();
      this.token = {
        authentication: { headers: { ...this.headers, authorization: `Bearer ${token}` } },
        readAt: now,
      };
    }
    return this.token.authentication;
  }
}

/**
 * `exec` plugins and `auth-provider`s (cloud logins, OIDC), run by the Kubernetes client library, which
 * caches and refreshes what they give. The library is loaded only for such a configuration: it takes
 * some 80 MiB.
 */
export class DelegatedCredentials implements Credentials {
  private readonly config: KubernetesConfig;
  private loaded: Promise<{ applyToHTTPSOptions(opts: object): Promise<void> }> | undefined;

  constructor(config: KubernetesConfig) {
    this.config = config;
  }

  async authenticate(): Promise<Authentication> {
    this.loaded ??= this.load();
    const kc = await this.loaded;
    const options: { headers: Record<string, string>; cert?: Buffer | string; key?: Buffer | string } = {
      headers: {},
    };
    await kc.applyToHTTPSOptions(options);
    return { headers: options.headers, cert: options.cert, key: options.key };
  }

  private async load() {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    if (this.config.kubeconfig) kc.loadFromFile(this.config.kubeconfig);
    else kc.loadFromDefault();
    if (this.config.context) kc.setCurrentContext(this.config.context);
    return kc;
  }
}
