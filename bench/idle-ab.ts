// Idle kubelet CPU, A/B: `node --import=tsx bench/idle-ab.ts [--pods 10] [--seconds 60] [--rounds 3]
// [--restart kubelet,control-plane] <label>=<bundle> ...` on a lab already up (BENCH_LAB_NAME,
// BENCH_LAB_SUBNET; `hawser lab up`). It starts --pods idle pods on every node, then for each round
// and each bundle in turn restarts the named components on that bundle, lets them settle, and reads
// each kubelet's CPU-seconds (its own and its reaped children's, /proc/<pid>/stat) and the control
// plane's over --seconds. Builds alternate within a round, so a loaded machine weighs on each alike
// (make bench-pods' idle section gives the figure of record; this is the faster loop, about 2 minutes
// a build and round).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { ApiClient, isNotFound } from '../agents/api/client.ts';
import { loadKubeconfig } from '../agents/api/kubeconfig.ts';
import { core } from '../agents/api/paths.ts';
import { controlPlaneProc, nodeProc } from '../agents/cli/lab/components.ts';
import { pidOf, startProc, stopProc, type ProcSpec, waitFor } from '../agents/cli/lab/procs.ts';
import { imageRef } from '../agents/cli/lab/up.ts';
import { topology } from '../agents/cli/lab/topology.ts';
import { cpuTotal, procStat } from './cpu-budget.ts';
import { podObject, started, waitPods } from './pod-objects.ts';

const flag = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const PODS = Number(flag('pods', '10'));
const SECONDS = Number(flag('seconds', '60'));
const ROUNDS = Number(flag('rounds', '3'));
// past the memory reducer's full collections some 40 s after a (re)start (see bench/pods.ts IDLE_SETTLE_MS)
const SETTLE_MS = Number(flag('settle', '45')) * 1000;
const RESTART = flag('restart', 'kubelet').split(',');
const builds = process.argv
  .slice(2)
  .filter((a, i, all) => /^[\w.-]+=/.test(a) && !all[i - 1]?.startsWith('--'))
  .map((a) => ({ label: a.slice(0, a.indexOf('=')), bin: resolve(a.slice(a.indexOf('=') + 1)) }));
if (!builds.length) throw new Error('name at least one build: <label>=<path to hawser.cjs>');

const lab = topology({
  name: process.env.BENCH_LAB_NAME ?? 'hawser',
  subnet: process.env.BENCH_LAB_SUBNET ?? '10.77.0.0/24',
  workers: 2,
  stateRoot: '/var/lib/hawser-lab',
});
const NS = 'idle-ab';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cpuOf = (pid: number | undefined) => {
  const s = pid ? procStat(pid) : undefined;
  return s ? cpuTotal(s.self) + cpuTotal(s.children) : Number.NaN;
};
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];

async function restart(p: ProcSpec): Promise<void> {
  await stopProc(p.pidFile);
  startProc(p);
}

async function main(): Promise<void> {
  const api = new ApiClient(loadKubeconfig(lab.adminKubeconfig), 'idle-ab');
  await api.create(core('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }).catch(() => undefined);
  const image = imageRef(lab, 'testapp', '1.0');
  for (const n of lab.nodes) {
    for (let i = 0; i < PODS; i++) {
      const name = `${n.name}-${i}`;
      await api.get(core('pods', NS, name)).catch(async (e) => {
        if (!isNotFound(e)) throw e;
        await api.create(core('pods', NS), { ...podObject(name, image, n.name), metadata: { name, labels: { app: 'idle-ab' } } });
      });
    }
  }
  await waitPods(api, NS, (ps: V1Pod[]) => ps.length === PODS * lab.nodes.length && ps.every(started), 180_000);
  console.log(`${PODS} pods on each of ${lab.nodes.map((n) => n.name).join(', ')}; ${SECONDS} s windows, restarting ${RESTART.join('+')}`);
  const rows: Record<string, number[][]> = {};
  for (let round = 1; round <= ROUNDS; round++) {
    for (const b of builds) {
      if (RESTART.includes('control-plane')) {
        await restart(controlPlaneProc(lab, b.bin));
        // a kubelet that starts before the API server answers exits
        await waitFor(
          'the API server',
          () =>
            api.list(core('nodes')).then(
              () => true,
              () => false,
            ),
          60_000,
        );
      }
      if (RESTART.includes('kubelet')) for (const n of lab.nodes) await restart(nodeProc(lab, n, 'kubelet', b.bin));
      await sleep(SETTLE_MS);
      const pids = [...lab.nodes.map((n) => pidOf(nodeProc(lab, n, 'kubelet', b.bin).pidFile)), pidOf(controlPlaneProc(lab, b.bin).pidFile)];
      const load0 = loadavg();
      const before = pids.map(cpuOf);
      const t0 = performance.now();
      await sleep(SECONDS * 1000);
      const after = pids.map(cpuOf);
      const window = (performance.now() - t0) / 1000;
      // % of a core per 10 pods for each kubelet; the control plane's as % of a core
      const pct = after.map((a, i) => (100 * (a - before[i])) / window);
      const perNode = pct.slice(0, -1).map((p) => (p * 10) / PODS);
      (rows[b.label] ??= []).push([...perNode, pct.at(-1)!]);
      console.log(
        `round ${round} ${b.label.padEnd(8)} load ${load0}: ${lab.nodes.map((n, i) => `${n.name} ${perNode[i].toFixed(3)}%`).join('  ')}  (per 10 pods)  control plane ${pct.at(-1)!.toFixed(3)}%`,
      );
    }
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  for (const [label, rs] of Object.entries(rows)) {
    const cols = rs[0].map((_, i) => mean(rs.map((r) => r[i])));
    console.log(
      `mean ${label.padEnd(8)}: ${lab.nodes.map((n, i) => `${n.name} ${cols[i].toFixed(3)}%`).join('  ')}  control plane ${cols.at(-1)!.toFixed(3)}%`,
    );
  }
}

await main();
