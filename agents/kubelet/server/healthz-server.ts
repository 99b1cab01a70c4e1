// The kubelet's unauthenticated health endpoint, upstream's 127.0.0.1:10248/healthz (--healthz-port;
// 0 turns it off): checks ping, log and syncloop (the runtime relist ran lately). Plain HTTP on
// loopback only, as kubeadm-style probes and `curl localhost:10248/healthz` expect (the server is
// agents/api/health-server.ts, which podnet and the CNI daemon share).
import type { Logger } from '../../api/log.ts';
import { LOG, PING, type HealthCheck } from '../../api/healthz.ts';
import { startHealthServer, type HealthServer } from '../../api/health-server.ts';

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

/** The kubelet's: /healthz only, with ping, log and the given checks. */
export const startHealthzServer = (port: number, checks: HealthCheck[], log: Logger, host = '127.0.0.1'): Promise<HealthServer | undefined> =>
  startHealthServer(port, { healthz: [PING, LOG, ...checks] }, log, host);
