// The plain-HTTP loopback health server every node component shares (the kubelet's :10248,
// podnet's :10262, the CNI daemon's :10263): /livez, /readyz and /healthz with named checks in
// upstream's shape (healthz.ts: ?verbose, ?exclude=, /<endpoint>/<check>), each endpoint only if
// given. As upstream, livez holds ping, log and the liveness checks, readyz and healthz those and the
// readiness checks. A port in use is logged, not fatal: the component keeps running without it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { healthReply, LOG, PING, type HealthCheck } from './healthz.ts';
import type { Logger } from './log.ts';

export type HealthEndpoint = 'healthz' | 'livez' | 'readyz';
export type HealthEndpoints = Partial<Record<HealthEndpoint, HealthCheck[]>>;

/** upstream's split: liveness checks on every endpoint, readiness checks on readyz and healthz */
export const standardEndpoints = (live: HealthCheck[], ready: HealthCheck[]): HealthEndpoints => ({
  livez: [PING, LOG, ...live],
  readyz: [PING, LOG, ...live, ...ready],
  healthz: [PING, LOG, ...live, ...ready],
});

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/** Listens on host:port (0 as port: no server, undefined); undefined as well when the port cannot be had. */
export async function startHealthServer(port: number, endpoints: HealthEndpoints, log: Logger, host = '127.0.0.1'): Promise<HealthServer | undefined> {
  if (!port) return undefined;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://health');
    const m = /^\/(healthz|livez|readyz)(?:\/(.+))?$/.exec(url.pathname);
    const checks = m ? endpoints[m[1] as HealthEndpoint] : undefined;
    const reply =
      m && checks
        ? healthReply(m[1]!, checks, m[2] ?? '', url.searchParams, (failed) => log.warn({ failed }, `${m[1]} check failed`))
        : Promise.resolve(undefined);
    void reply.then((r) => {
      if (!r) res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      else res.writeHead(r.status, r.headers).end(r.body);
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    log.error({ err: String(err), port }, 'failed to start the health server');
    return undefined;
  }
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
