// Pod startup latency benchmark: `node --import=tsx bench/pods.ts` (make bench-pods).
// A fresh two-node lab, the test image already pulled on both nodes, then 30 pods created at once
// through the API. Latency per pod: from the moment its create request is sent to the moment a
// watch shows it Running with every container started, which is upstream's pod startup SLI
// (image pulls excluded; SLO: p99 at most 5 s). Also the kubelets' resident memory.
import { readFileSync } from 'node:fs';
import type { V1Pod } from '@kubernetes/client-node';
import { ApiClient } from '../agents/api/client.ts';
import { loadKubeconfig } from '../agents/api/kubeconfig.ts';
import { core } from '../agents/api/paths.ts';
import { nodeProc } from '../agents/cli/lab/components.ts';
import { labDown } from '../agents/cli/lab/down.ts';
import { pidOf } from '../agents/cli/lab/procs.ts';
import { imageRef, labUp, repoFromBin } from '../agents/cli/lab/up.ts';
import type { Lab } from '../agents/cli/lab/topology.ts';
import { resolve } from 'node:path';

const PODS = Number(process.env.BENCH_PODS ?? 30);
const SLO_MS = 5000;
const CREATE_CONCURRENCY = 10;
const LAB = { name: 'bench', subnet: '10.85.0.0/24', workers: 2, stateRoot: '/var/lib/hawser-lab' };
const bin = resolve(process.env.HAWSER_BIN ?? 'dist/hawser.cjs');

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.ceil((xs.length * p) / 100) - 1)];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const podObject = (name: string, image: string, node?: string): V1Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, labels: { app: 'bench' } },
  spec: {
    terminationGracePeriodSeconds: 1,
    ...(node ? { nodeSelector: { 'kubernetes.io/hostname': node } } : {}),
    containers: [{ name: 'c', image, imagePullPolicy: 'IfNotPresent', ports: [{ containerPort: 8080 }] }],
  },
});

const started = (p: V1Pod) => p.status?.phase === 'Running'
  && (p.status.containerStatuses ?? []).length === (p.spec?.containers ?? []).length
  && (p.status.containerStatuses ?? []).every((s) => s.state?.running);

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat (clock ticks of 1/100 s). */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch { return 0; }
}

const agentPids = (lab: Lab) => lab.nodes.flatMap((n) => (['kubelet', 'containerd'] as const).map((c) => ({ what: `${n.name} ${c}`, pid: pidOf(nodeProc(lab, n, c, bin).pidFile) })));

function rssKiB(lab: Lab): { node: string; kib: number }[] {
  return lab.nodes.map((n) => {
    const pid = pidOf(nodeProc(lab, n, 'kubelet', bin).pidFile);
    const status = pid ? readFileSync(`/proc/${pid}/status`, 'utf8') : '';
    return { node: n.name, kib: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) };
  });
}

async function waitAll(api: ApiClient, ns: string, n: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const list = await api.list<V1Pod>(core('pods', ns));
    if (list.items.filter(started).length >= n) return;
    await sleep(250);
  }
  throw new Error(`pods in ${ns} did not all start within ${timeoutMs} ms`);
}

async function main(): Promise<void> {
  process.env.HAWSER_LOG_LEVEL ??= 'warn';
  await labDown(LAB);
  console.log(`bringing up lab "${LAB.name}" (${LAB.workers} workers on ${LAB.subnet})`);
  const lab = await labUp({ ...LAB, bin, repo: repoFromBin(bin), demo: false, quiet: true });
  const api = new ApiClient(loadKubeconfig(lab.adminKubeconfig), 'hawser-bench');
  const image = imageRef(lab, 'testapp', '1.0');
  try {
    // images present on every node first: pulls are outside the SLI
    await api.create(core('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'warmup' } });
    for (const n of lab.nodes) await api.create(core('pods', 'warmup'), podObject(`warm-${n.name}`, image, n.name));
    await waitAll(api, 'warmup', lab.nodes.length, 120_000);
    await api.delete(core('namespaces', undefined, 'warmup'));
    const rssBefore = rssKiB(lab);

    const pids = agentPids(lab);
    const cpuBefore = pids.map((p) => cpuSeconds(p.pid));
    const ns = 'bench';
    await api.create(core('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const sentAt = new Map<string, number>();
    const startedAt = new Map<string, number>();
    const abort = new AbortController();
    const list = await api.list<V1Pod>(core('pods', ns));
    const watching = api.watch<V1Pod>(core('pods', ns), { resourceVersion: list.metadata.resourceVersion }, (e) => {
      const name = e.object.metadata?.name ?? '';
      if ((e.type === 'ADDED' || e.type === 'MODIFIED') && started(e.object) && !startedAt.has(name)) startedAt.set(name, performance.now());
    }, abort.signal).catch(() => undefined);
    await sleep(200);

    console.log(`creating ${PODS} pods (${CREATE_CONCURRENCY} requests in flight)`);
    const names = Array.from({ length: PODS }, (_, i) => `bench-${String(i).padStart(3, '0')}`);
    const t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, async () => {
      while (next < names.length) {
        const name = names[next++];
        sentAt.set(name, performance.now());
        await api.create(core('pods', ns), podObject(name, image));
      }
    }));
    const created = performance.now() - t0;
    const end = Date.now() + 120_000;
    while (startedAt.size < PODS && Date.now() < end) await sleep(50);
    const all = performance.now() - t0;
    abort.abort();
    await watching;
    if (startedAt.size < PODS) throw new Error(`only ${startedAt.size} of ${PODS} pods started within 120 s`);
    const lat = names.map((n) => startedAt.get(n)! - sentAt.get(n)!).sort((a, b) => a - b);
    const rssAfter = rssKiB(lab);
    const cpuUsed = pids.map((p, i) => ({ what: p.what, s: cpuSeconds(p.pid) - cpuBefore[i] }));

    const ms = (x: number) => `${Math.round(x)} ms`;
    console.log('');
    console.log(`pods created in ${ms(created)}; all ${PODS} running after ${ms(all)}`);
    console.log('pod startup latency (create request sent -> Running with every container started, seen by a watch)');
    console.log(`  p50 ${ms(pct(lat, 50))}   p90 ${ms(pct(lat, 90))}   p99 ${ms(pct(lat, 99))}   max ${ms(lat[lat.length - 1])}`);
    console.log(`  upstream SLO: p99 <= ${SLO_MS} ms (image pulls excluded); target here: p99 <= 1000 ms`);
    console.log('kubelet resident memory (VmRSS)');
    for (const r of rssAfter) {
      const b = rssBefore.find((x) => x.node === r.node)?.kib ?? 0;
      console.log(`  ${r.node}: ${(b / 1024).toFixed(1)} MiB idle, ${(r.kib / 1024).toFixed(1)} MiB with ${PODS / lab.nodes.length} pods`);
    }
    console.log(`CPU used while the pods started (${(all / 1000).toFixed(1)} s wall, 2 cores shared by everything on this host)`);
    console.log(`  ${cpuUsed.map((c) => `${c.what} ${c.s.toFixed(2)} s`).join(', ')}`);
    await api.delete(core('namespaces', undefined, ns));
    const p99 = Math.round(pct(lat, 99));
    console.log(`RESULT pod-startup-p99 ours=${p99} slo=${SLO_MS} ratio=${(p99 / SLO_MS).toFixed(3)}`);
  } finally {
    if (!process.env.BENCH_KEEP_LAB) await labDown(LAB);
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
