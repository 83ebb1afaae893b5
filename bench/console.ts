import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Browser, chromium } from '@playwright/test';
import { ensureCommands } from '../test/infra/debian.ts';
import { fillEmbeddedStore, startCollector } from './collector.ts';
import { type BenchmarkSection, percentile, table, waitUntil } from './measure.ts';
import { type RecordSet, SEARCH_WORDS, writeRecordSet } from './sidecar-records.ts';

export const CONSOLE_TITLE = 'Console: time to first result in the browser, and the bundle';

const DIST = join(import.meta.dirname, '..', 'dashboards', 'web', 'dist');
const DOCS = Number(process.env.LOOKOUT_BENCH_CONSOLE_DOCS ?? 1_000_000);
const QUERIES = Number(process.env.LOOKOUT_BENCH_CONSOLE_QUERIES ?? 40);
const WARM_UP = 3;
const DAY_MS = 86_400_000;
const TARGET_BUNDLE_KIB = 200;
const KiB = 1024;

interface Timing {
  /** A fresh browser context: nothing cached, the whole page loaded. */
  cold: number[];
  /** The same page asked for another word: the search alone, as a person typing sees it. */
  typed: number[];
  /** The page's own search request sent from the benchmark: what the API alone takes. */
  api: number[];
}

/**
 * The console over a collector's embedded store of 1M lines spread over the last 24 hours, in Debian's
 * Chromium driven by Playwright: how long from asking for `/logs?q=<word>&from=now-24h` until the first
 * line shows, against the same search request sent alone; and the size of what the browser downloads.
 */
export async function consoleBenchmark(): Promise<BenchmarkSection> {
  await ensureCommands({ chromium: 'chromium' });
  const work = await mkdtemp(join(tmpdir(), 'lookout-bench-console-'));
  let browser: Browser | undefined;
  let collector: Awaited<ReturnType<typeof startCollector>> | undefined;
  try {
    const to = Date.now() - 60_000;
    const records = await writeRecordSet(join(work, 'records.tsv'), DOCS, to - DAY_MS + 120_000, to, 7);
    await fillEmbeddedStore(work, records);
    collector = await startCollector(work, {});
    const address = await collector.address;
    const proc = collector;
    await waitUntil(proc, 'the collector ready', async () => (await fetch(`${address}/readyz`)).ok, 60_000);
    browser = await chromium.launch({
      executablePath: process.env.LOOKOUT_TEST_CHROMIUM ?? '/usr/bin/chromium',
    });
    const timing = await measure(browser, address);
    return {
      title: CONSOLE_TITLE,
      machine: [`Chromium ${browser.version()}`],
      body: report(records, timing, await bundleSizes()),
    };
  } finally {
    await browser?.close();
    await collector?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

async function measure(browser: Browser, address: string): Promise<Timing> {
  const words = Object.keys(SEARCH_WORDS);
  const timing: Timing = { cold: [], typed: [], api: [] };
  const typing = await browser.newPage();
  for (let i = 0; i < QUERIES + WARM_UP; i++) {
    const word = words[i % words.length]!;
    const path = `/logs?q=${word}&from=now-24h&to=now`;
    const context = await browser.newContext();
    const page = await context.newPage();
    const request = page.waitForRequest(
      (r) => r.url().includes('/api/logs/search?') && r.url().includes('histogram='),
    );
    const cold = await firstLine(address, path, async () => {
      await page.goto(`${address}${path}`);
      await page.locator('.row').first().waitFor();
    });
    const searchUrl = (await request).url();
    await context.close();
    const typed = await firstLine(address, path, async () => {
      await typing.goto(`${address}${path}`);
      await typing.locator('.row').first().waitFor();
    });
    const started = performance.now();
    const response = await fetch(searchUrl);
    await response.json();
    const api = performance.now() - started;
    if (!response.ok) throw new Error(`${searchUrl}: HTTP ${response.status}`);
    if (i < WARM_UP) continue;
    timing.cold.push(cold);
    timing.typed.push(typed);
    timing.api.push(api);
  }
  return timing;
}

/** Milliseconds `show` takes; it must end with the first line of the answer on screen. */
async function firstLine(address: string, path: string, show: () => Promise<void>): Promise<number> {
  const started = performance.now();
  try {
    await show();
  } catch (err) {
    throw new Error(`${address}${path}: no line showed (${(err as Error).message})`);
  }
  return performance.now() - started;
}

interface Asset {
  name: string;
  bytes: number;
  gzipped: number;
}

async function bundleSizes(): Promise<Asset[]> {
  const files = ['index.html', ...(await readdir(join(DIST, 'assets'))).map((name) => join('assets', name))];
  const assets: Asset[] = [];
  for (const name of files) {
    const bytes = await readFile(join(DIST, name));
    assets.push({ name, bytes: bytes.length, gzipped: gzipSync(bytes).length });
  }
  return assets;
}

const ms = (values: number[], p: number) => `${percentile(values, p).toFixed(0)} ms`;
const kib = (bytes: number) => `${(bytes / KiB).toFixed(1)} KiB`;

function report(records: RecordSet, timing: Timing, assets: Asset[]): string {
  const words = Object.keys(SEARCH_WORDS).map(
    (word) => `\`${word}\` (${((records.wordShare[word] ?? 0) * 100).toFixed(1)}% of lines)`,
  );
  const gzipped = assets.reduce((sum, a) => sum + a.gzipped, 0);
  const script = assets.filter((a) => extname(a.name) === '.js').reduce((sum, a) => sum + a.gzipped, 0);
  const rows: [string, number[]][] = [
    ['page opened in a new browser context (nothing cached)', timing.cold],
    ['page asked for another word (bundle cached)', timing.typed],
    ['the page’s search request alone, from Node', timing.api],
  ];
  return [
    `Method: a \`lookout collector\` (auth off) over an embedded store of ${records.count.toLocaleString('en-US')} sidecar records spread over the last 24 hours (the collector benchmark's record set: six namespaces, logback lines through the sidecar's own pipeline), and Chromium driven by Playwright on the same machine. Each of ${QUERIES} queries (after ${WARM_UP} warm-up ones) opens \`/logs?q=<word>&from=now-24h&to=now\`, the word each of ${words.join(', ')} in turn; the time runs from asking for the address until the first line of the answer is on screen. The same search request the page sent (its first page of lines and the histogram) is then sent alone from Node, which is what the API takes without the browser.`,
    '',
    table(
      ['time to first result', 'p50', 'p95'],
      rows.map(([label, values]) => [label, ms(values, 50), ms(values, 95)]),
    ),
    '',
    `Every file of the built console (\`dashboards/web/dist\`), gzipped: ${kib(gzipped)} in all, ${kib(script)} of it JavaScript (target: under ${TARGET_BUNDLE_KIB} KB, ${gzipped < TARGET_BUNDLE_KIB * 1000 ? 'met' : '**not met**'}).`,
    '',
    table(
      ['file', 'bytes', 'gzipped'],
      assets.map((a) => [
        `\`${a.name.replace(/-[A-Za-z0-9_-]{8}\./, '-….')}\``,
        kib(a.bytes),
        kib(a.gzipped),
      ]),
    ),
  ].join('\n');
}
