import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { seriesLine } from '../../alert-rules/probes/exposition.ts';
import type { Labels } from '../../alert-rules/types.ts';

interface Series {
  name: string;
  labels: Labels;
  value: number;
}

function seriesKey(name: string, labels: Labels): string {
  return JSON.stringify([name, Object.entries(labels).sort(([a], [b]) => a.localeCompare(b))]);
}

/**
 * A target whose metrics a test sets, served at /metrics in the Prometheus text
 * format (untyped), so a test can drive Prometheus through a timeline: set a
 * value, wait until it is scraped, set the next.
 */
export class ScriptedExporter {
  private readonly series = new Map<string, Series>();
  private readonly scrapeWaiters: (() => void)[] = [];
  private readonly server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(this.text());
    this.scrapes++;
    for (const resolve of this.scrapeWaiters.splice(0)) resolve();
  });
  /** Answered requests for /metrics. */
  scrapes = 0;
  /** http://127.0.0.1:port, set by start(). */
  url = '';

  static async start(): Promise<ScriptedExporter> {
    const exporter = new ScriptedExporter();
    exporter.server.listen(0, '127.0.0.1');
    await once(exporter.server, 'listening');
    exporter.url = `http://127.0.0.1:${(exporter.server.address() as AddressInfo).port}`;
    return exporter;
  }

  set(name: string, labels: Labels, value: number): void {
    this.series.set(seriesKey(name, labels), { name, labels, value });
  }

  /** The series is missing from the next scrape on (Prometheus marks it stale). */
  remove(name: string, labels: Labels): void {
    this.series.delete(seriesKey(name, labels));
  }

  /** Every series is missing from the next scrape on. */
  clear(): void {
    this.series.clear();
  }

  /** Resolves once /metrics has been served again, with what is set now or later. */
  nextScrape(): Promise<void> {
    return new Promise((resolve) => this.scrapeWaiters.push(resolve));
  }

  /** All series, each metric's lines together as the text format requires. */
  text(): string {
    const byName = [...this.series.values()].sort((a, b) => a.name.localeCompare(b.name));
    return byName.map(({ name, labels, value }) => seriesLine(name, labels, value)).join('');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
