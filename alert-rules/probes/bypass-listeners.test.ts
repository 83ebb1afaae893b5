import { once } from 'node:events';
import { connect, createServer, type Server } from 'node:net';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAddressGuard, type HostResolver } from './address-guard.ts';
import { BYPASS_SPELLINGS } from './fixtures/bypass-spellings.ts';
import { addressGuardSchema } from './guard-config.ts';
import { tcpConnectOptions, tlsConnectOptions } from './pinned-connect.ts';
import { targetAddress } from './probe-target.ts';
import { AddressRefusedError, type ResolvedAddress } from './types.ts';

/**
 * Real listeners on 127.0.0.1 and ::1: every spelling of them is refused by
 * the default settings, and reaches the right listener once the test's
 * settings allow loopback. Nothing here connects anywhere else.
 */

const REACHES_IPV4 = [
  '127.0.0.1',
  '127.1',
  '127.0.1',
  '127.0.0.1.',
  '2130706433',
  '017700000001',
  '0x7f000001',
  '0X7F000001',
  '0x7f.1',
  '0x7f.0x0.0x0.0x1',
  '0177.0.0.1',
  '0177.1',
  '１２７.0.0.1',
  '127。0。0。1',
  '[::ffff:127.0.0.1]',
  '[::ffff:7f00:1]',
  '[::FFFF:7F00:1]',
  '[0:0:0:0:0:ffff:127.0.0.1]',
];
const REACHES_IPV6 = ['[::1]', '::1', '[0:0:0:0:0:0:0:1]', '[0::1]'];

const options = { preferred: 6, fallback: true, signal: new AbortController().signal } as const;
const noDns: HostResolver = async (name) => {
  throw new Error(`cannot resolve ${name}: no such host`);
};
const defaults = createAddressGuard(addressGuardSchema.parse({}), noDns);
const loopbackAllowed = createAddressGuard(
  addressGuardSchema.parse({ allow: ['127.0.0.0/8', '::1'] }),
  noDns,
);

/** A listener that greets every connection with its name, so the client knows whom it reached. */
async function listener(
  host: string,
  name: string,
): Promise<{ server: Server; port: number; accepted: number }> {
  const state = { server: createServer(), port: 0, accepted: 0 };
  state.server.on('connection', (socket) => {
    state.accepted++;
    socket.end(name);
  });
  state.server.listen(0, host);
  await once(state.server, 'listening');
  state.port = (state.server.address() as { port: number }).port;
  return state;
}

async function greeting(resolved: ResolvedAddress, port: number, host = resolved.address): Promise<string> {
  const socket = connect({ ...tcpConnectOptions(resolved, port), host });
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
  });
  await once(socket, 'close');
  return text;
}

let ipv4: Awaited<ReturnType<typeof listener>>;
let ipv6: Awaited<ReturnType<typeof listener>>;

beforeAll(async () => {
  ipv4 = await listener('127.0.0.1', 'ipv4');
  ipv6 = await listener('::1', 'ipv6');
});

afterAll(() => {
  ipv4.server.close();
  ipv6.server.close();
});

describe('with the default settings', () => {
  it.each([...REACHES_IPV4, ...REACHES_IPV6, ...BYPASS_SPELLINGS])('refuses %s', async (host) => {
    await expect(defaults.resolve(host, options)).rejects.toBeInstanceOf(AddressRefusedError);
  });

  it('refuses the URL spellings a URL parser normalises', async () => {
    for (const url of [
      'http://0x7f.1/',
      'http://%31%32%37.0.0.1/',
      'http://[::ffff:127.0.0.1]/',
      'http://localhost./',
    ]) {
      const { host } = targetAddress(url, 'http');
      await expect(defaults.resolve(host, options)).rejects.toBeInstanceOf(AddressRefusedError);
    }
  });

  it('let no connection reach a listener', () => {
    expect(ipv4.accepted).toBe(0);
    expect(ipv6.accepted).toBe(0);
  });
});

describe('with 127.0.0.0/8 and ::1 allowed', () => {
  it.each(REACHES_IPV4)('reaches the 127.0.0.1 listener through %s', async (host) => {
    const resolved = await loopbackAllowed.resolve(host, options);
    expect(await greeting(resolved, ipv4.port)).toBe('ipv4');
  });

  it.each(REACHES_IPV6)('reaches the ::1 listener through %s', async (host) => {
    const resolved = await loopbackAllowed.resolve(host, options);
    expect(await greeting(resolved, ipv6.port)).toBe('ipv6');
  });

  it('reaches localhost in the family the module prefers', async () => {
    expect(await greeting(await loopbackAllowed.resolve('localhost', options), ipv6.port)).toBe('ipv6');
    const ipv4First = await loopbackAllowed.resolve('localhost.', { ...options, preferred: 4 });
    expect(await greeting(ipv4First, ipv4.port)).toBe('ipv4');
  });

  it('reaches the listener through a URL written in hex', async () => {
    const { host, port } = targetAddress(`http://0x7f.1:${ipv4.port}/`, 'http');
    expect(await greeting(await loopbackAllowed.resolve(host, options), port!)).toBe('ipv4');
  });

  it.each(['0', '0.0.0.0', '[::]', '10.0.0.1', '169.254.169.254', '[::ffff:169.254.169.254]'])(
    'still refuses %s, which loopback does not cover',
    async (host) => {
      await expect(loopbackAllowed.resolve(host, options)).rejects.toBeInstanceOf(AddressRefusedError);
    },
  );
});

describe('the connection options', () => {
  it('connect to the checked address even when Node is handed the name again (no second lookup)', async () => {
    let answers = 0;
    const rebinding: HostResolver = async () =>
      ++answers === 1 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '10.0.0.1', family: 4 }];
    const guard = createAddressGuard(addressGuardSchema.parse({ allow: ['127.0.0.0/8'] }), rebinding);
    const resolved = await guard.resolve('rebind.example', options);
    expect(await greeting(resolved, ipv4.port, 'rebind.example')).toBe('ipv4');
    expect(answers).toBe(1);
    await expect(guard.resolve('rebind.example', options)).rejects.toThrow(/resolves to 10\.0\.0\.1/);
  });

  it('send the written name in SNI, and none for an address', async () => {
    const names: (string | undefined)[] = [];
    const server = createTlsServer({
      SNICallback: (name, done) => {
        names.push(name);
        done(new Error('no certificate here'));
      },
    });
    server.on('secureConnection', () => names.push('handshake'));
    server.on('tlsClientError', () => {});
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const resolved = { address: '127.0.0.1', family: 4 } as const;
    for (const host of ['Status.Example.', '127.0.0.1']) {
      const socket = tlsConnect(tlsConnectOptions(resolved, host, port));
      // events.once would reject on the handshake's error; only the end matters.
      await new Promise((closed) => socket.on('error', () => {}).on('close', closed));
    }
    server.close();
    expect(names).toEqual(['status.example']);
  });
});
