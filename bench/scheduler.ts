// Scheduler throughput: `node --import=tsx bench/scheduler.ts` (make bench-scheduler).
// A real control plane on loopback; 300 nodes and 3,000 pods (100m CPU, 128Mi each) created
// through the HTTPS API by 32 concurrent clients; no kubelets. A watch records when each pod is
// bound. Two runs on fresh stores: A creates pods while the control plane's scheduler works (what
// a user sees; bounded by how fast the API takes creates in the same process), B starts a
// scheduler on 3,000 pods already pending (the scheduler alone). The RESULT line is B, with A
// beside it; the anchor is the target of 300 pods/s. Beside B, the store's own fsynced
// write rate (measured just before and after) says what the shared disk allowed at the time.
// BENCH_ONLY=A or B runs one half (for profiling with --cpu-prof).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../agents/api/client.ts';
import { loadKubeconfig } from '../agents/api/kubeconfig.ts';
import { logger } from '../agents/api/log.ts';
import { ApiHandler } from '../agents/control-plane/apiserver/handler.ts';
import { Registry } from '../agents/control-plane/apiserver/registry.ts';
import type { Obj } from '../agents/control-plane/apiserver/strategies/types.ts';
import { bootstrap } from '../agents/control-plane/bootstrap.ts';
import { LoopbackClient } from '../agents/control-plane/client/loopback.ts';
import { startControlPlane } from '../agents/control-plane/index.ts';
import { Scheduler } from '../agents/control-plane/scheduler/scheduler.ts';
import { SqliteStore } from '../agents/control-plane/storage/sqlite.ts';

process.env.HAWSER_LOG_LEVEL ??= 'warn';
const NODES = Number(process.env.BENCH_NODES ?? 300);
const PODS = Number(process.env.BENCH_PODS ?? 3000);
const CLIENTS = 32;
const TARGET = 300;
const TIMEOUT_MS = 180_000;

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];

async function pool(n: number, clients: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

function node(i: number) {
  const name = `bench-node-${String(i).padStart(3, '0')}`;
  const now = new Date().toISOString();
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': `zone-${i % 3}` } },
    status: {
      capacity: { cpu: '4', memory: '16Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '16Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: now, lastTransitionTime: now }],
    },
  };
}

function pod(i: number) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `bench-pod-${i}`, namespace: 'default', labels: { app: 'bench' } },
    spec: { containers: [{ name: 'c', image: 'registry.local/app:1', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
  };
}

interface Run {
  throughput: number;
  steady: number;
  createRate: number;
  p50: number;
  p99: number;
  minPerNode: number;
  maxPerNode: number;
  nodesUsed: number;
  /** Scheduled events already written when the last pod was bound (they are written in the background) */
  events: number;
  /** B only: the store's own write rate just before and just after the run (each write is fsynced) */
  storeWrites?: [number, number];
}

/**
 * The ceiling B works under: each binding and each Scheduled event is one fsynced SQLite write,
 * and on this shared disk their cost swings with other processes' I/O, so measure it beside B.
 */
async function storeWritesPerSecond(store: SqliteStore, tag: string, n = 300): Promise<number> {
  const value = JSON.stringify(pod(0)).padEnd(1500, ' ');
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await store.create(`/bench/probe/${tag}/${i}`, value);
  return n / ((performance.now() - t0) / 1000);
}

const scheduledEvents = (items: Obj[]) => items.filter((e) => e.reason === 'Scheduled').length;

/**
 * A: a fresh control plane (startControlPlane, HTTPS); pods are created while its scheduler runs;
 * the clock runs from the first create to the last binding.
 */
async function live(): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-bench-sched-'));
  const cp = await startControlPlane({
    dataDir: dir,
    bindAddress: '127.0.0.1',
    port: 0,
    advertiseAddress: '127.0.0.1',
    clusterCIDR: '10.128.0.0/9',
    nodeCIDRMaskSize: 24,
    serviceCIDR: '10.96.0.0/12',
    nodeMonitorGracePeriodSeconds: 3600,
  });
  const api = new ApiClient(loadKubeconfig(join(dir, 'admin.kubeconfig')), 'bench-scheduler');
  const abort = new AbortController();
  try {
    await pool(NODES, CLIENTS, (i) => api.create('/api/v1/nodes', node(i)));
    const bound = new Bindings();
    const { metadata } = await api.list('/api/v1/namespaces/default/pods', { limit: 1 });
    const watching = api
      .watch<Obj>('/api/v1/namespaces/default/pods', { resourceVersion: metadata.resourceVersion }, (e) => bound.see(e.object), abort.signal)
      .catch((e) => console.error('watch failed:', e));
    const createdAt = new Map<string, number>();
    const start = performance.now();
    await pool(PODS, CLIENTS, async (i) => {
      createdAt.set(`bench-pod-${i}`, performance.now());
      await api.create('/api/v1/namespaces/default/pods', pod(i));
    });
    const createRate = PODS / ((performance.now() - start) / 1000);
    await bound.all();
    const events = scheduledEvents((await api.list<Obj>('/api/v1/namespaces/default/events')).items);
    abort.abort();
    await watching;
    return { ...bound.figures(start, (n) => createdAt.get(n)!, createRate), events };
  } finally {
    abort.abort();
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * B: the same API handler and store without the network; nodes and pods are created through it
 * first, then a Scheduler starts against the backlog: the scheduler alone, clock from its start.
 */
async function backlog(): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-bench-sched-'));
  const store = new SqliteStore(join(dir, 'state.db'));
  const handler = new ApiHandler({ store, registry: new Registry(), serverAddress: '127.0.0.1:6443', serviceCIDR: '10.96.0.0/12' });
  const api = new LoopbackClient(handler, { name: 'admin', groups: ['system:masters', 'system:authenticated'] });
  const abort = new AbortController();
  let scheduler: Scheduler | undefined;
  try {
    await bootstrap(api, { serviceCIDR: '10.96.0.0/12', advertiseAddress: '127.0.0.1', port: 6443 });
    await pool(NODES, CLIENTS, (i) => api.create('/api/v1/nodes', node(i)));
    await pool(PODS, CLIENTS, (i) => api.create('/api/v1/namespaces/default/pods', pod(i)));
    const bound = new Bindings();
    const { metadata } = await api.list('/api/v1/namespaces/default/pods', { limit: '1' });
    const watching = (async () => {
      for await (const e of api.watch('/api/v1/namespaces/default/pods', { resourceVersion: metadata.resourceVersion }, abort.signal)) bound.see(e.object);
    })().catch(() => undefined);
    scheduler = new Scheduler(new LoopbackClient(handler, { name: 'system:kube-scheduler', groups: ['system:authenticated'] }), logger('scheduler'));
    const before = await storeWritesPerSecond(store, 'before');
    const start = performance.now();
    await scheduler.start();
    await bound.all();
    const events = scheduledEvents((await api.list('/api/v1/namespaces/default/events')).items);
    const after = await storeWritesPerSecond(store, 'after');
    abort.abort();
    await watching;
    return { ...bound.figures(start, () => start, NaN), events, storeWrites: [before, after] };
  } finally {
    abort.abort();
    scheduler?.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Binding times seen on a pod watch. */
class Bindings {
  readonly at = new Map<string, number>();
  readonly perNode = new Map<string, number>();
  private resolve: () => void = () => undefined;
  private readonly done = new Promise<void>((r) => (this.resolve = r));

  see(p: Obj): void {
    const node = p?.spec?.nodeName;
    if (!node || this.at.has(p.metadata.name!)) return;
    this.at.set(p.metadata.name!, performance.now());
    this.perNode.set(node, (this.perNode.get(node) ?? 0) + 1);
    if (this.at.size === PODS) this.resolve();
  }

  all(): Promise<void> {
    const timeout = new Promise<void>((_, rej) =>
      setTimeout(() => rej(new Error(`only ${this.at.size}/${PODS} pods bound after ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS).unref(),
    );
    return Promise.race([this.done, timeout]);
  }

  figures(start: number, from: (pod: string) => number, createRate: number): Omit<Run, 'events'> {
    const times = [...this.at.values()].sort((a, b) => a - b);
    const lat = [...this.at.entries()].map(([n, b]) => b - from(n)).sort((a, b) => a - b);
    const counts = [...this.perNode.values()];
    return {
      throughput: PODS / ((times[times.length - 1] - start) / 1000),
      steady: (PODS * 0.8) / ((times[Math.floor(PODS * 0.9)] - times[Math.floor(PODS * 0.1)]) / 1000),
      createRate,
      p50: pct(lat, 50),
      p99: pct(lat, 99),
      minPerNode: Math.min(...counts),
      maxPerNode: Math.max(...counts),
      nodesUsed: this.perNode.size,
    };
  }
}

async function main(): Promise<void> {
  console.log(`${PODS} pods onto ${NODES} nodes registered through the HTTPS API, ${CLIENTS} concurrent clients, no kubelets`);
  // BENCH_ONLY=A or B runs one half (for profiling); the other prints as NaN
  const only = process.env.BENCH_ONLY;
  const skipped: Run = { throughput: NaN, steady: NaN, createRate: NaN, p50: NaN, p99: NaN, minPerNode: NaN, maxPerNode: NaN, nodesUsed: NaN, events: NaN };
  const a = only === 'B' ? skipped : await live();
  const b = only === 'A' ? skipped : await backlog();
  const row = (what: string, ours: string, anchor = '-') => console.log(`${what.padEnd(52)}${ours.padStart(14)}${anchor.padStart(14)}`);
  console.log('');
  row('figure', 'ours', 'anchor');
  row('A. pods created while scheduling: pods bound / s', a.throughput.toFixed(0), `target ${TARGET}`);
  row('   pods created / s (the API ceiling for A)', a.createRate.toFixed(0));
  row('   create -> bound p50 / p99 (ms)', `${a.p50.toFixed(0)} / ${a.p99.toFixed(0)}`);
  row('B. scheduler started on 3,000 pending pods: pods / s', b.throughput.toFixed(0), `target ${TARGET}`);
  row('   10th-90th percentile binding rate (pods / s)', b.steady.toFixed(0), `target ${TARGET}`);
  row('   start -> bound p50 / p99 (ms)', `${b.p50.toFixed(0)} / ${b.p99.toFixed(0)}`);
  const [w0, w1] = b.storeWrites ?? [NaN, NaN];
  row('   store: fsynced writes / s before / after B', `${w0.toFixed(0)} / ${w1.toFixed(0)}`);
  row('   B ceiling at 2 writes per pod (binding + event)', `${(Math.min(w0, w1) / 2).toFixed(0)}-${(Math.max(w0, w1) / 2).toFixed(0)}`);
  row('Scheduled events written by the last binding (A, B)', `${a.events}, ${b.events}`, `${PODS}`);
  row('pods per node min / max (A, B)', `${a.minPerNode}/${a.maxPerNode}, ${b.minPerNode}/${b.maxPerNode}`, `${PODS / NODES} even`);
  console.log('');
  console.log(
    `RESULT scheduler-throughput ours=${b.throughput.toFixed(0)} target=${TARGET} ratio=${(b.throughput / TARGET).toFixed(2)} with-concurrent-creates=${a.throughput.toFixed(0)}`,
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
