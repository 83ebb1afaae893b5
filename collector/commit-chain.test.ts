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
    const commits: string[] = [];
    const commit = async (next: string) => {
      commits.push(next);
    };
    const slices = [deferred(), deferred(), deferred()];
    chain.add('0', '9', slices[0]!.promise, commit);
    chain.add('10', '19', slices[1]!.promise, commit);
    const last = chain.add('20', '29', slices[2]!.promise, commit);
    expect(chain.next).toBe(30n);
    slices[2]!.resolve(true);
    slices[1]!.resolve(true);
    await new Promise((r) => setTimeout(r, 5));
    expect(commits).toEqual([]);
    slices[0]!.resolve(true);
    await last;
    expect(commits).toEqual(['10', '20', '30']);
  });

  it('commits nothing after a slice given up, and says where to read again', async () => {
    const chain = new CommitChain(100n);
    const commits: string[] = [];
    const commit = async (next: string) => {
      commits.push(next);
    };
    chain.add('100', '109', Promise.resolve(true), commit);
    chain.add('110', '119', Promise.resolve(false), commit);
    chain.add('120', '129', Promise.resolve(true), commit);
    await chain.settled();
    expect(commits).toEqual(['110']);
    expect(chain.failedAt).toBe('110');
  });
});
