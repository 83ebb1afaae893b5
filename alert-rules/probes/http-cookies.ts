/**
 * The cookies of one probe, as Go's cookie jar keeps them for blackbox
 * across redirects (a login that redirects back with a session cookie).
 * Kept per host, for this probe only; paths, domains and expiry dates are
 * not considered, a `Max-Age=0` or empty value removes the cookie.
 */
import { headerValues } from './http-checks.ts';
import type { ProbeResponse } from './http-request.ts';

export class CookieJar {
  private readonly byHost = new Map<string, Map<string, string>>();

  remember(host: string, response: ProbeResponse): void {
    for (const header of headerValues(response, 'set-cookie')) {
      const [pair = '', ...attributes] = header.split(';');
      const at = pair.indexOf('=');
      if (at <= 0) continue;
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const cookies = this.byHost.get(host) ?? new Map<string, string>();
      this.byHost.set(host, cookies);
      const removed = value === '' || attributes.some((a) => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(a));
      if (removed) cookies.delete(name);
      else cookies.set(name, value);
    }
  }

  /** The Cookie header for `host`, after the one the module sets (as Go's Request.AddCookie appends). */
  header(host: string, configured: string | undefined): string | undefined {
    const jar = [...(this.byHost.get(host) ?? [])].map(([name, value]) => `${name}=${value}`);
    const all = [...(configured ? [configured] : []), ...jar];
    return all.length > 0 ? all.join('; ') : undefined;
  }
}
