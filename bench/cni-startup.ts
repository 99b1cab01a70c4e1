// What bounds a Node.js CNI plugin's exec: process start-up figures, side by side, one run.
// `node --import=tsx bench/cni-startup.ts` (no root needed). Used to choose the shim + daemon design
// (cni-plugins/README.md).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlugins } from '../test/support/cni/build.ts';

const RUNS = 15;

function p50(label: string, cmd: string, args: string[], env: Record<string, string> = {}): void {
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
    xs.push(performance.now() - t0);
  }
  xs.sort((a, b) => a - b);
  console.log(`${label.padEnd(52)} p50 ${xs[Math.floor(RUNS / 2)].toFixed(1).padStart(6)} ms`);
}

const dir = mkdtempSync(join(tmpdir(), 'hawser-cni-startup-'));
try {
  const bin = await buildPlugins(join(dir, 'bin'), { shim: true });
  writeFileSync(join(dir, 'empty.js'), '');
  spawnSync(process.execPath, ['--snapshot-blob', join(dir, 'snap.blob'), '--build-snapshot', join(dir, 'empty.js')], { stdio: 'ignore' });
  console.log(`process start-up, ${RUNS} runs each`);
  p50('/bin/sh -c true', 'sh', ['-c', 'true']);
  p50('ip -j link show lo', 'ip', ['-j', 'link', 'show', 'lo']);
  p50('reference bridge, VERSION (Go)', '/usr/lib/cni/bridge', [], { CNI_COMMAND: 'VERSION' });
  p50('node -e 0', process.execPath, ['-e', '0']);
  p50('node with a user-land startup snapshot (empty)', process.execPath, ['--snapshot-blob', join(dir, 'snap.blob'), join(dir, 'empty.js')]);
  p50('node bridge.cjs, VERSION (one-file bundle)', process.execPath, [join(bin, 'bridge.cjs')], { CNI_COMMAND: 'VERSION' });
  p50('shim with no daemon -> node bridge.cjs, VERSION', join(bin, 'bridge'), [], { CNI_COMMAND: 'VERSION', HAWSER_CNI_RUN_DIR: join(dir, 'none') });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
