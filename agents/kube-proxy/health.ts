// HTTP endpoints: /healthz (is the proxy keeping the kernel up to date?), /metrics, and one
// health-check server per healthCheckNodePort, which tells an external load balancer whether this
// node has local endpoints for an externalTrafficPolicy=Local Service.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../api/log.ts';
import type { ProxyMetrics } from './metrics.ts';

export function splitHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  if (i < 0) throw new Error(`bind address "${addr}" needs host:port`);
  return { host: addr.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0', port: Number(addr.slice(i + 1)) };
}

function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

const closeServer = (s: http.Server): Promise<void> =>
  new Promise((r) => {
    s.closeAllConnections?.();
    s.close(() => r());
  });

/**
 * Healthy unless an update was queued and not applied within the timeout (upstream's rule). A
 * proxy that has nothing to do stays healthy.
 */
export class ProxyHealth {
  private queuedAt = 0;
  lastUpdated = 0;
  constructor(
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  queued(): void {
    if (!this.queuedAt) this.queuedAt = this.now();
  }
  updated(): void {
    this.lastUpdated = this.now();
    this.queuedAt = 0;
  }

  status(): { healthy: boolean; body: Record<string, unknown> } {
    const now = this.now();
    const healthy = this.lastUpdated > 0 && (!this.queuedAt || now - this.queuedAt < this.timeoutMs);
    return {
      healthy,
      body: { lastUpdated: new Date(this.lastUpdated).toISOString(), currentTime: new Date(now).toISOString(), nodeEligible: true },
    };
  }
}

export interface Servers {
  healthzPort: number;
  metricsPort: number;
  close(): Promise<void>;
}

export async function startServers(o: {
  healthz: string;
  metrics: string;
  health: ProxyHealth;
  metricsRegistry: ProxyMetrics;
  mode: string;
}): Promise<Servers> {
  const healthz = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/healthz' && path !== '/livez') {
      res.writeHead(404).end();
      return;
    }
    const s = o.health.status();
    res.writeHead(s.healthy ? 200 : 503, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' });
    res.end(JSON.stringify(s.body));
  });
  const metrics = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      o.metricsRegistry.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': o.metricsRegistry.registry.contentType }).end(text);
        },
        (err) => res.writeHead(500).end(String(err)),
      );
    } else if (path === '/proxyMode') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(o.mode);
    } else if (path === '/healthz') {
      res.writeHead(200).end('ok');
    } else res.writeHead(404).end();
  });
  const h = splitHostPort(o.healthz);
  const m = splitHostPort(o.metrics);
  const healthzPort = await listen(healthz, h.host, h.port);
  const metricsPort = await listen(metrics, m.host, m.port);
  return {
    healthzPort,
    metricsPort,
    close: async () => {
      await closeServer(healthz);
      await closeServer(metrics);
    },
  };
}

export interface HealthCheckService {
  service: string;
  localEndpoints: number;
}

/** One HTTP server per healthCheckNodePort: 200 with local endpoints, 503 without. */
export class ServiceHealthServers {
  private servers = new Map<number, { server: http.Server; state: HealthCheckService }>();
  constructor(
    private readonly host: string,
    private readonly log?: Logger,
  ) {}

  async sync(want: Map<number, HealthCheckService>): Promise<void> {
    for (const [port, s] of this.servers) {
      if (!want.has(port)) {
        this.servers.delete(port);
        await closeServer(s.server);
      }
    }
    for (const [port, state] of want) {
      const have = this.servers.get(port);
      if (have) {
        have.state = state;
        continue;
      }
      const entry = {
        state,
        server: http.createServer((_req, res) => {
          const [namespace, name] = entry.state.service.split('/');
          const n = entry.state.localEndpoints;
          res.writeHead(n > 0 ? 200 : 503, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' });
          res.end(JSON.stringify({ service: { namespace, name }, localEndpoints: n, serviceProxyHealthy: true }));
        }),
      };
      try {
        await listen(entry.server, this.host, port);
        this.servers.set(port, entry);
      } catch (err) {
        this.log?.error({ err: String(err), port }, 'cannot serve health check node port');
      }
    }
  }

  ports(): number[] {
    return [...this.servers.keys()];
  }

  async close(): Promise<void> {
    await this.sync(new Map());
  }
}
