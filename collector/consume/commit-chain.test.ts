import { describe, expect, it } from 'vitest';
import { CommitChain } from './commit-chain.ts';

function deferred() {
  let resolve!: (ok: boolean) => void;
  const promise = new Promise<boolean>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('CommitChain', () => {
  it('commits in offset order however the stores finish', async () => {
    const chain = new CommitChain(0n);
    const commits: bigint[] = [];
    const commit = async (next: bigint) => {
      commits.push(next);
    };
    const slices = [deferred(), deferred(), deferred()];
    chain.add(0n, 9n, slices[0]!.promise, commit);
    chain.add(10n, 19n, slices[1]!.promise, commit);
    const last = chain.add(20n, 29n, slices[2]!.promise, commit);
    expect(chain.next).toBe(30n);
    slices[2]!.resolve(true);
    slices[1]!.resolve(true);
    await new Promise((r) => setTimeout(r, 5));
    expect(commits).toEqual([]);
    slices[0]!.resolve(true);
    await last;
    expect(commits).toEqual([10n, 20n, 30n]);
  });

  it('commits nothing after a slice given up, and says where to read again', async () => {
    const chain = new CommitChain(100n);
    const commits: bigint[] = [];
    const commit = async (next: bigint) => {
      commits.push(next);
    };
    chain.add(100n, 109n, Promise.resolve(true), commit);
    chain.add(110n, 119n, Promise.resolve(false), commit);
    chain.add(120n, 129n, Promise.resolve(true), commit);
    await chain.settled();
    expect(commits).toEqual([110n]);
    expect(chain.failedAt).toBe(110n);
  });
});
