import { describe, expect, it } from 'vitest';
import { ScramClient } from './scram.ts';

describe('SCRAM client', () => {
  // RFC 7677, section 3: the SCRAM-SHA-256 exchange of user "user" with password "pencil".
  const serverFirst =
    'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
  const serverFinal = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

  it('answers the RFC 7677 challenge with its proof and accepts the server signature', async () => {
    const client = new ScramClient('sha256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
    expect(client.firstMessage()).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    expect(await client.finalMessage(serverFirst)).toBe(
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    );
    expect(() => client.checkServerFinal(serverFinal)).not.toThrow();
  });

  it('refuses a server that does not know the password, or one that reports an error', async () => {
    const client = new ScramClient('sha256', 'user', 'not pencil', 'rOprNGfwEbeRWgbNEkqO');
    await client.finalMessage(serverFirst);
    expect(() => client.checkServerFinal(serverFinal)).toThrow(/did not prove/);
    expect(() => client.checkServerFinal('e=invalid-proof')).toThrow(/invalid-proof/);
  });

  it('refuses a challenge whose nonce does not extend its own', async () => {
    const client = new ScramClient('sha512', 'user', 'pencil', 'abc');
    await expect(client.finalMessage('r=xyzdef,s=AAAA,i=4096')).rejects.toThrow(/not valid/);
  });

  it('escapes "=" and "," in the user name', () => {
    expect(new ScramClient('sha512', 'a=b,c', 'p', 'n').firstMessage()).toBe('n,,n=a=3Db=2Cc,r=n');
  });
});
