// The kubelet's unauthenticated health endpoint, upstream's 127.0.0.1:10248/healthz (--healthz-port;
// 0 turns it off): checks ping, log and syncloop (the runtime relist ran lately). Plain HTTP on
// loopback only, as kubeadm-style probes and `curl localhost:10248/healthz` expect. A port in use
// is logged, not fatal, as upstream's kubelet keeps running without it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../api/log.ts';
import { healthReply, LOG, PING, type HealthCheck } from '../../api/healthz.ts';

/** The sync loop counts as stuck after this long without a relist (upstream's 5 minute floor). */
export const SYNC_LOOP_STALE_MS = 5 * 60_000;

export function syncLoopCheck(lastRelist: () => number, now: () => number = Date.now): HealthCheck {
  return {
    name: 'syncloop',
    check() {
      const age = now() - lastRelist();
      if (age > SYNC_LOOP_STALE_MS) throw new Error(`sync loop took too long: last ran ${Math.round(age / 1000)}s ago`);
    },
  };
}

export interface HealthzServer { port: number; close(): Promise<void> }

export async function startHealthzServer(port: number, checks: HealthCheck[], log: Logger, host = '127.0.0.1'): Promise<HealthzServer | undefined> {
  if (!port) return undefined;
  const all = [PING, LOG, ...checks];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    const m = /^\/healthz(?:\/(.+))?$/.exec(url.pathname);
    const reply = m ? healthReply('healthz', all, m[1] ?? '', url.searchParams, (failed) => log.warn({ failed }, 'healthz check failed')) : Promise.resolve(undefined);
    void reply.then((r) => {
      if (!r) res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      else res.writeHead(r.status, r.headers).end(r.body);
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => { server.off('error', reject); resolve(); });
    });
  } catch (err) {
    log.error({ err: String(err), port }, 'failed to start the healthz server');
    return undefined;
  }
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
