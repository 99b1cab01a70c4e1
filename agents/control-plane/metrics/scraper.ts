// Built-in metrics-server: every resolution period, each Ready node's kubelet is asked for
// /metrics/resource with the API server's kubelet-client certificate (the kubelet must present a
// serving certificate of the cluster CA for the address dialled), and its points go into the
// MetricsStore. Nodes are scraped in parallel, each bounded in time and size; a failure leaves that
// node's older points, which age out of usage as metrics-server's do once newer ones arrive.
// Each kubelet's TLS connection is kept between scrapes (the kubelet keeps an idle one for a minute): a new
// handshake per scrape was 4 of the 22 ms an idle kubelet spent on each, on both ends.
import { Agent } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../../api/log.ts';
import { kubeletGet, type KubeletCredentials } from '../apiserver/kubelet-proxy.ts';
import { preferredNodeAddress } from '../apiserver/kubelet-target.ts';
import type { Obj } from '../apiserver/strategies/types.ts';
import { parseResourceMetrics } from './parse.ts';
import type { MetricsStore } from './store.ts';

/** metrics-server's --metric-resolution default */
export const DEFAULT_RESOLUTION_MS = 15_000;
const MAX_BODY = 16 << 20;

const isReady = (node: Obj) => (node.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');

function readBody(res: IncomingMessage, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      res.destroy();
      reject(new Error('timed out reading the metrics'));
    }, timeoutMs);
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        clearTimeout(timer);
        res.destroy();
        reject(new Error('metrics too large'));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    res.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export interface ScraperOptions {
  store: MetricsStore;
  creds: KubeletCredentials;
  /** the current Nodes */
  nodes(): Promise<Obj[]>;
  log: Logger;
  resolutionMs?: number;
}

/** How long an idle connection to a kubelet is kept: past the resolution, short of the kubelet's own limit. */
export const SCRAPE_IDLE_MS = 45_000;

export class MetricsScraper {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  // keepAliveMsecs is also the TCP keepalive delay the agent sets on each socket, and libuv then probes
  // every second: Node's 1 s default sent a probe a second to every kubelet (ss: timer:(keepalive,1s))
  private readonly agent = new Agent({ keepAlive: true, keepAliveMsecs: 2 * SCRAPE_IDLE_MS, maxSockets: 1, timeout: SCRAPE_IDLE_MS });

  constructor(private o: ScraperOptions) {}

  start(): void {
    const period = this.o.resolutionMs ?? DEFAULT_RESOLUTION_MS;
    this.timer = setInterval(() => void this.scrapeOnce(), period);
    this.timer.unref();
    void this.scrapeOnce();
  }

  stop(): void {
    clearInterval(this.timer);
    this.agent.destroy();
  }

  /** One round over the Ready nodes (skipped while the previous one still runs). */
  async scrapeOnce(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const nodes = (await this.o.nodes()).filter(isReady);
      const timeoutMs = Math.max(1000, Math.min(10_000, (this.o.resolutionMs ?? DEFAULT_RESOLUTION_MS) * 0.8));
      await Promise.all(nodes.map((n) => this.scrapeNode(n, timeoutMs)));
      this.o.store.retain(new Set(nodes.map((n) => n.metadata.name as string)));
    } catch (err) {
      this.o.log.warn({ err: String(err) }, 'metrics scrape failed');
    } finally {
      this.running = false;
    }
  }

  private async scrapeNode(node: Obj, timeoutMs: number): Promise<void> {
    const name = node.metadata.name as string;
    try {
      const port = Number(node.status?.daemonEndpoints?.kubeletEndpoint?.Port) || 10250;
      const res = await kubeletGet({ host: preferredNodeAddress(node), port, path: '/metrics/resource' }, this.o.creds, this.agent);
      const text = await readBody(res, timeoutMs);
      this.o.store.update(name, parseResourceMetrics(text, Date.now()));
    } catch (err) {
      this.o.log.warn({ node: name, err: String(err) }, 'failed to scrape node');
    }
  }
}
