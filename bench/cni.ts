// CNI ADD/DEL latency, ours against the reference plugins (/usr/lib/cni) in the same run.
// 50 pods per flavour, ADDs interleaved ours/reference so machine noise hits both alike, each flavour
// in its own throwaway "host" namespace with its own cni0. Ours runs as installed for speed: the exec
// shim in front of a resident daemon; the one-shot Node.js plugins are measured too, for context.
// Ends with: RESULT cni-add ours=<ms> reference=<ms> ratio=<r>
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlugins } from '../test/support/cni/build.ts';
import { startDaemon } from '../test/support/cni/daemon.ts';
import { invoke, REFERENCE_BIN, type Outcome } from '../test/support/cni/invoke.ts';
import { Sandbox } from '../test/support/cni/netns.ts';
import { bridgeConf } from '../test/support/cni/cases.ts';

const PODS = Number(process.env.CNI_BENCH_PODS ?? 50);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

interface Flavour {
  label: string;
  bin: string;
  host: string;
  env?: Record<string, string>;
  dataDir: string;
  add: number[];
  del: number[];
}

function conf(dataDir: string): string {
  return JSON.stringify(bridgeConf({ name: 'bench' }, { dataDir }));
}

function check(o: Outcome, what: string): void {
  if (o.exitCode !== 0) throw new Error(`${what} failed: ${o.stdout} ${o.stderr}`);
}

async function main(): Promise<void> {
  const sb = new Sandbox();
  const shimBin = join(sb.dir, 'shim-bin');
  const oneShotBin = join(sb.dir, 'oneshot-bin');
  const runDir = mkdtempSync(join(tmpdir(), 'hawser-cnid-'));
  let daemon: Awaited<ReturnType<typeof startDaemon>> | undefined;
  try {
    await buildPlugins(shimBin, { shim: true });
    await buildPlugins(oneShotBin, { shim: false });
    const mk = async (label: string, bin: string, env?: Record<string, string>): Promise<Flavour> => ({
      label,
      bin,
      env,
      host: await sb.netns(`bh${label.length}`),
      dataDir: join(sb.dir, label, 'ipam'),
      add: [],
      del: [],
    });
    const ours = await mk('ours', shimBin, { HAWSER_CNI_RUN_DIR: runDir });
    const ref = await mk('reference', REFERENCE_BIN);
    const oneShot = await mk('ours-oneshot', oneShotBin);
    daemon = await startDaemon(shimBin, ours.host, runDir);
    const flavours = [ours, ref];
    const pods: Record<string, string[]> = {};
    for (const f of [...flavours, oneShot]) pods[f.label] = [];
    const oneShotPods = Math.min(PODS, 10);

    const step = async (f: Flavour, cmd: 'ADD' | 'DEL', i: number, list: number[]): Promise<void> => {
      if (cmd === 'ADD') pods[f.label][i] = await sb.netns(`${f.label.slice(0, 1)}${f.label.length}p${i}`);
      const o = await invoke(f.bin, 'bridge', f.host, { command: cmd, containerId: `pod${i}`, netns: sb.path(pods[f.label][i]), env: f.env }, conf(f.dataDir));
      check(o, `${f.label} ${cmd} pod${i}`);
      list.push(o.ms);
    };
    // one warm-up pod each (first bridge creation, daemon JIT), not counted
    for (const f of flavours) {
      await step(f, 'ADD', PODS, []);
      await step(f, 'DEL', PODS, []);
    }
    for (let i = 0; i < PODS; i++) for (const f of i % 2 ? flavours : [...flavours].reverse()) await step(f, 'ADD', i, f.add);
    for (let i = 0; i < PODS; i++) for (const f of i % 2 ? flavours : [...flavours].reverse()) await step(f, 'DEL', i, f.del);
    for (let i = 0; i < oneShotPods; i++) await step(oneShot, 'ADD', i, oneShot.add);
    for (let i = 0; i < oneShotPods; i++) await step(oneShot, 'DEL', i, oneShot.del);

    const row = (f: Flavour) =>
      `${f.label.padEnd(14)} ADD p50 ${pct(f.add, 50).toFixed(1).padStart(6)} ms  p95 ${pct(f.add, 95).toFixed(1).padStart(6)} ms   ` +
      `DEL p50 ${pct(f.del, 50).toFixed(1).padStart(6)} ms  p95 ${pct(f.del, 95).toFixed(1).padStart(6)} ms   (${f.add.length} pods)`;
    console.log(`CNI bridge+host-local latency, ${PODS} pods, one run`);
    for (const f of [ours, ref, oneShot]) console.log(row(f));
    const o = pct(ours.add, 50);
    const r = pct(ref.add, 50);
    console.log(
      `RESULT cni-del ours=${pct(ours.del, 50).toFixed(1)} reference=${pct(ref.del, 50).toFixed(1)} ratio=${(pct(ours.del, 50) / pct(ref.del, 50)).toFixed(2)}`,
    );
    console.log(`RESULT cni-add ours=${o.toFixed(1)} reference=${r.toFixed(1)} ratio=${(o / r).toFixed(2)}`);
  } finally {
    if (process.env.HAWSER_CNI_TRACE) console.error(daemon?.log());
    await daemon?.stop();
    await sb.cleanup();
    rmSync(runDir, { recursive: true, force: true });
  }
}

await main();
