// kube-proxy benchmark (issue 6), run as `node --import=tsx bench/kube-proxy.ts` (root). It re-runs
// itself inside a throwaway network namespace, so the host's tables are never touched, and prints
// side by side from one run:
//   - full sync of 1,000 and 5,000 Services x 10 endpoints in iptables mode, beside a plain
//     iptables-restore of exactly the same rules into empty tables (our overhead);
//   - the time from one EndpointSlice change at 5,000 Services to its rule being in the kernel, in
//     iptables and nftables modes, beside a full resync of the same table.
// It ends with: RESULT proxy-one-change-5k ours=<ms> full-resync=<ms> ratio=<r> (iptables mode).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { makeExec } from '../agents/kube-proxy/exec.ts';
import { ProxyHealth } from '../agents/kube-proxy/health.ts';
import { makeBackend } from '../agents/kube-proxy/index.ts';
import { composeTop } from '../agents/kube-proxy/iptables/plan.ts';
import { LARGE_CLUSTER_ENDPOINTS, TOP_CHAINS, renderService, type IptFragment } from '../agents/kube-proxy/iptables/render.ts';
import { CANARY, JUMPS, staticChains, topTails } from '../agents/kube-proxy/iptables/statics.ts';
import { ProxyMetrics } from '../agents/kube-proxy/metrics.ts';
import { Proxier } from '../agents/kube-proxy/proxier.ts';
import { ChangeTracker } from '../agents/kube-proxy/tracker.ts';

const ENDPOINTS = 10;
const CHANGES = 5;
const REPEATS = 3;
const ctx = { clusterCIDR: '10.244.0.0/16', masqueradeAll: false, nodePortIPs: [] as string[] };

function service(i: number): V1Service {
  return {
    metadata: { namespace: `ns${i % 50}`, name: `svc${i}` },
    spec: { clusterIP: `10.96.${i >> 8}.${i & 255}`, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  };
}

function slice(i: number, generation = 0): V1EndpointSlice {
  return {
    addressType: 'IPv4',
    metadata: { namespace: `ns${i % 50}`, name: `svc${i}-abcde`, labels: { 'kubernetes.io/service-name': `svc${i}` } },
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: Array.from({ length: ENDPOINTS }, (_, e) => ({
      addresses: [`10.${100 + (i >> 8)}.${i & 255}.${e === 0 ? 1 + generation : 20 + e}`],
      nodeName: `node${e % 3}`,
      conditions: { ready: true },
    })),
  };
}

function tracker(n: number): ChangeTracker {
  const t = new ChangeTracker('node0');
  for (let i = 0; i < n; i++) { t.setService(`ns${i % 50}/svc${i}`, service(i)); t.setSlice(slice(i)); }
  t.takeChanges();
  return t;
}

// system tools, never node_modules/.bin (which holds an unrelated `nft`)
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const sh = (cmd: string, args: string[], input?: string) =>
  execFileSync(cmd, args, { input, encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, PATH } });

function clean(): void {
  for (const t of ['nat', 'filter', 'mangle']) { sh('iptables', ['-t', t, '-F']); sh('iptables', ['-t', t, '-X']); }
  sh('nft', ['-f', '-'], 'add table ip kube-proxy\ndelete table ip kube-proxy\n');
}

/** Exactly the rules of our full sync, as one plain restore input. */
function rawRestore(t: ChangeTracker): string {
  let endpoints = 0;
  for (const p of t.all()) endpoints += p.endpoints.length;
  const rctx = { ...ctx, largeCluster: endpoints > LARGE_CLUSTER_ENDPOINTS };
  const frags: IptFragment[] = t.serviceNames().map((s) => renderService(t.service(s), rctx));
  const tails = topTails({ nodePortIPs: [] });
  const st = staticChains();
  const decl = (c: string) => `:${c} - [0:0]`;
  const nat = ['*nat', ...['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ', CANARY].map(decl)];
  for (const f of frags) nat.push(...[...f.chains.keys()].map(decl));
  for (const rules of st.nat.values()) nat.push(...rules);
  for (const f of frags) for (const rules of f.chains.values()) nat.push(...rules);
  const filter = ['*filter', ...['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL', CANARY].map(decl)];
  for (const rules of st.filter.values()) filter.push(...rules);
  for (const top of TOP_CHAINS) (top.startsWith('nat') ? nat : filter).push(...composeTop(frags, top, tails));
  // the jumps from the built-in chains are part of the same rules
  for (const j of JUMPS) (j.table === 'nat' ? nat : filter).push(`-A ${j.chain} ${j.args}`);
  return `${filter.join('\n')}\nCOMMIT\n${nat.join('\n')}\nCOMMIT\n*mangle\n${decl(CANARY)}\nCOMMIT\n`;
}

const ms = (t0: number) => performance.now() - t0;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x: number) => `${Math.round(x)} ms`.padStart(9);

function setup(mode: 'iptables' | 'nftables', t: ChangeTracker) {
  const exec = makeExec();
  const backend = makeBackend({ mode, tracker: t, exec, ...ctx });
  const proxier = new Proxier(t, backend, exec, new ProxyMetrics(), new ProxyHealth(60_000), undefined,
    { minSyncPeriodMs: 0, syncPeriodMs: 0 });
  return { backend, proxier };
}

/** Changes one endpoint of one Service CHANGES times; the time until the sync has returned. */
async function oneChange(mode: 'iptables' | 'nftables', t: ChangeTracker, proxier: Proxier, n: number, first: number): Promise<number[]> {
  const times: number[] = [];
  for (let k = first; k < first + CHANGES; k++) {
    const i = (k * 997) % n;
    const t0 = performance.now();
    t.setSlice(slice(i, k));
    proxier.changed();
    await proxier.runner.whenIdle();
    times.push(ms(t0));
    if (proxier.syncs.failed) throw new Error(`${mode}: sync failed`);
    // proof that the new endpoint is in the kernel, outside the timing
    const ip = `10.${100 + (i >> 8)}.${i & 255}.${1 + k}`;
    const probe = mode === 'iptables' ? sh('iptables-save', ['-t', 'nat']) : sh('nft', ['list', 'ruleset']);
    if (!probe.includes(`${ip}:8080`) && !probe.includes(`${ip} . 8080`)) throw new Error(`${mode}: ${ip} not in the kernel after the change`);
  }
  return times;
}

async function main(): Promise<void> {
  console.log(`kube-proxy benchmark in netns ${process.env.KP_BENCH_NETNS}; ${ENDPOINTS} endpoints per Service`);
  console.log(`iptables: ${sh('iptables', ['--version']).trim()}; nft: ${sh('nft', ['--version']).trim()}\n`);
  console.log(`full sync, iptables mode (median of ${REPEATS})  raw iptables-restore   ours (full sync)   overhead`);
  let t5k: ChangeTracker | undefined;
  const overhead: Record<number, number> = {};
  for (const n of [1000, 5000]) {
    const t = tracker(n);
    const raw = rawRestore(t);
    // alternate the two, REPEATS times each, and compare medians: this machine is shared and noisy
    const rawMs: number[] = [];
    const ours: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      clean();
      let t0 = performance.now();
      sh('iptables-restore', [], raw);
      rawMs.push(ms(t0));
      clean();
      const { backend } = setup('iptables', t);
      t0 = performance.now();
      await backend.sync(true);
      ours.push(ms(t0));
    }
    const lines = raw.split('\n').length;
    overhead[n] = median(ours) / median(rawMs);
    console.log(`  ${String(n).padStart(5)} Services (${lines} lines) ${fmt(median(rawMs))}            ${fmt(median(ours))}        ${overhead[n].toFixed(2)}x`);
    if (n === 5000) t5k = t;
  }
  const t = t5k!;

  console.log('\none EndpointSlice change at 5,000 Services (median of 5) vs full resync of the same table');
  const results: Record<string, { change: number; resync: number }> = {};
  for (const mode of ['iptables', 'nftables'] as const) {
    clean();
    const { backend, proxier } = setup(mode, t);
    let t0 = performance.now();
    proxier.changed();
    await proxier.runner.whenIdle();
    const first = ms(t0);
    const change = median(await oneChange(mode, t, proxier, 5000, mode === 'iptables' ? 1 : 1 + CHANGES));
    t0 = performance.now();
    await backend.sync(true);
    const resync = ms(t0);
    results[mode] = { change, resync };
    console.log(`  ${mode.padEnd(9)} first sync ${fmt(first)}   one change ${fmt(change)}   full resync ${fmt(resync)}   ratio ${(change / resync).toFixed(4)}`);
    proxier.stop();
  }
  clean();
  const r = results.iptables;
  const nf = results.nftables;
  console.log(`\ntargets: full sync <= 1.1x raw restore; one change <= 100 ms`);
  console.log(`nftables: one change ${Math.round(nf.change)} ms, full resync ${Math.round(nf.resync)} ms, ratio ${(nf.change / nf.resync).toFixed(4)}`);
  console.log(`RESULT proxy-one-change-5k ours=${Math.round(r.change)} full-resync=${Math.round(r.resync)} ratio=${(r.change / r.resync).toFixed(4)}`);
}

if (!process.env.KP_BENCH_NETNS) {
  const ns = `kpbench${randomBytes(2).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const r = spawnSync('nsenter', [`--net=/run/netns/${ns}`, '--', process.execPath, ...process.execArgv, ...process.argv.slice(1)],
      { stdio: 'inherit', env: { ...process.env, KP_BENCH_NETNS: ns }, timeout: 15 * 60_000 });
    process.exitCode = r.status ?? 1;
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
} else {
  await main();
}
