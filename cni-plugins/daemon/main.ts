// hawser CNI daemon entry point (bundled to dist/cni/cnid.cjs): `node cnid.cjs` inside the network
// namespace whose plugins it should serve (the host's, or a lab node's via nsenter --net).
// Env: HAWSER_CNI_RUN_DIR (default /run/hawser/cni), HAWSER_CNID_IDLE_MS (default 0: run until stopped),
// HAWSER_CNID_HEALTHZ_PORT (default 10263, 0: none): /livez, /readyz, /healthz on 127.0.0.1 of its
// network namespace; readiness "serving" = its spool dir's netns link is its own, so shims use it.
import { realpathSync } from 'node:fs';
import { logger } from '../../agents/api/log.ts';
import { useInProcess } from '../pkg/inprocess.ts';
import { enableBridgeCache } from '../bridge/host.ts';
import { releaseAllLocks, setLockLinger } from '../host-local/lock.ts';
import { startHealthServer, standardEndpoints } from '../../agents/api/health-server.ts';
import { CniDaemon, DEFAULT_RUN_DIR, liveDaemonAt } from './server.ts';
import { ALL_PLUGINS } from './plugins.ts';

const log = logger('cnid');
useInProcess(ALL_PLUGINS);
enableBridgeCache();
// keep a host-local lock for 200 ms after use: a burst of pod ADDs takes it once
setLockLinger(Number(process.env.HAWSER_CNID_LOCK_LINGER_MS ?? 200));
const daemon = new CniDaemon({
  runDir: process.env.HAWSER_CNI_RUN_DIR || DEFAULT_RUN_DIR,
  plugins: ALL_PLUGINS,
  idleMs: Number(process.env.HAWSER_CNID_IDLE_MS ?? 0),
  watchFile: process.argv[1] ? realpathSync(process.argv[1]) : undefined,
  log: (m) => log.warn(m),
});
if (!daemon.start()) {
  log.info({ dir: daemon.dir }, 'another daemon already serves this network namespace');
  log.flush();
  process.exit(0);
}
const serving = {
  name: 'serving',
  check() {
    if (!liveDaemonAt(daemon.dir)) throw new Error(`${daemon.dir}/netns is not this daemon's network namespace: shims cannot reach it`);
  },
};
// (no top-level await: this entry is bundled to CommonJS)
void startHealthServer(Number(process.env.HAWSER_CNID_HEALTHZ_PORT ?? 10263), standardEndpoints([], [serving]), log).then((healthz) => {
  void daemon.stopped.then(() => healthz?.close());
  log.info({ dir: daemon.dir, healthz: healthz?.port }, 'serving');
});
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    log.info({ served: daemon.served }, `stopping after ${daemon.served} requests`);
    daemon.stop();
    void releaseAllLocks();
  });
}
