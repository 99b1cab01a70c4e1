// hawser CNI daemon entry point (bundled to dist/cni/cnid.cjs): `node cnid.cjs` inside the network
// namespace whose plugins it should serve (the host's, or a lab node's via nsenter --net).
// Env: HAWSER_CNI_RUN_DIR (default /run/hawser/cni), HAWSER_CNID_IDLE_MS (default 0: run until stopped).
import { realpathSync } from 'node:fs';
import { useInProcess } from '../pkg/inprocess.ts';
import { CniDaemon, DEFAULT_RUN_DIR } from './server.ts';
import { ALL_PLUGINS } from './plugins.ts';

useInProcess(ALL_PLUGINS);
const daemon = new CniDaemon({
  runDir: process.env.HAWSER_CNI_RUN_DIR || DEFAULT_RUN_DIR,
  plugins: ALL_PLUGINS,
  idleMs: Number(process.env.HAWSER_CNID_IDLE_MS ?? 0),
  watchFile: process.argv[1] ? realpathSync(process.argv[1]) : undefined,
  log: (m) => process.stderr.write(`hawser-cnid: ${m}\n`),
});
if (!daemon.start()) {
  process.stderr.write(`hawser-cnid: another daemon already serves this network namespace (${daemon.dir})\n`);
  process.exit(0);
}
process.stderr.write(`hawser-cnid: serving ${daemon.dir}\n`);
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => daemon.stop());
