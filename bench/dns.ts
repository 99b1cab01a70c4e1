// Cluster DNS benchmark: `node --import=tsx bench/dns.ts` (make bench-dns).
// A real control plane with 1,000 Services, hawser's DNS server on loopback, and 1,000 queries per
// row over UDP (one at a time and 50 in flight), TCP, and forwarded upstream. The anchor, side by
// side, is dnsmasq (Debian's dnsmasq-base) answering the same names from a hosts file; it is also
// the upstream for the forwarded row. Loss = no right answer within 2 s.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { ApiClient } from '../agents/api/client.ts';
import { loadKubeconfig } from '../agents/api/kubeconfig.ts';
import { startControlPlane } from '../agents/control-plane/index.ts';
import { startClusterDNS } from '../agents/control-plane/dns/index.ts';
import { answerData, dnsQuery } from '../agents/control-plane/dns/client.ts';
import { buildIndex } from '../agents/control-plane/dns/records.ts';

process.env.HAWSER_LOG_LEVEL ??= 'warn';
const SERVICES = 1000;
const QUERIES = 1000;
const DNSMASQ = '/usr/sbin/dnsmasq';

interface Server {
  host: string;
  port: number;
}
interface Row {
  what: string;
  lost: number;
  p50: number;
  p99: number;
  max: number;
  qps: number;
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(what: string, server: Server, pick: (i: number) => [string, string], o: { tcp?: boolean; inflight?: number } = {}): Promise<Row> {
  const lat: number[] = [];
  let lost = 0;
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < QUERIES) {
      const i = next++;
      const [name, want] = pick(i);
      const q0 = performance.now();
      const r = await dnsQuery(server, name, 'A', { tcp: o.tcp, timeoutMs: 2000 });
      lat.push(performance.now() - q0);
      if (answerData(r, 'A')[0] !== want) lost++;
    }
  };
  await Promise.all(Array.from({ length: o.inflight ?? 1 }, worker));
  const wall = performance.now() - t0;
  lat.sort((a, b) => a - b);
  return { what, lost, p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1], qps: (QUERIES / wall) * 1000 };
}

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(r));
  return port;
}

async function startDnsmasq(hostsFile: string): Promise<{ server: Server; proc: ChildProcess } | undefined> {
  if (!existsSync(DNSMASQ)) return undefined;
  const port = await freePort();
  const proc = spawn(
    DNSMASQ,
    [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      `--addn-hosts=${hostsFile}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      `--port=${port}`,
      '--user=root',
      '--pid-file=',
      '--cache-size=10000',
    ],
    { stdio: 'ignore' },
  );
  const server = { host: '127.0.0.1', port };
  for (let i = 0; i < 50; i++) {
    if (await dnsQuery(server, 'www0.example.test', 'A', { timeoutMs: 200 })) return { server, proc };
    await sleep(100);
  }
  proc.kill('SIGKILL');
  return undefined;
}

async function pool<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

/** Rebuild cost of the index alone, from synthetic objects (what a burst of changes costs). */
function rebuildMs(services: number): number {
  const svcs: V1Service[] = [];
  const slices: V1EndpointSlice[] = [];
  const pods: V1Pod[] = [];
  for (let i = 0; i < services; i++) {
    const headless = i % 10 === 0;
    svcs.push({
      metadata: { name: `s${i}`, namespace: `ns${i % 50}` },
      spec: { clusterIP: headless ? 'None' : `10.96.${i >> 8}.${i & 255}`, ports: [{ name: 'http', port: 80 }] },
    });
    if (headless) {
      slices.push({
        metadata: { name: `s${i}-x`, namespace: `ns${i % 50}`, labels: { 'kubernetes.io/service-name': `s${i}` } },
        addressType: 'IPv4',
        endpoints: Array.from({ length: 10 }, (_, k) => ({ addresses: [`10.244.${i >> 8}.${(i + k) & 255}`], conditions: { ready: true } })),
        ports: [{ name: 'http', port: 8080 }],
      });
    }
    pods.push({ metadata: { name: `p${i}`, namespace: `ns${i % 50}` }, status: { phase: 'Running', podIP: `10.245.${i >> 8}.${i & 255}` } });
  }
  const t0 = performance.now();
  buildIndex({ zone: 'cluster.local', serial: 1, services: svcs, slices, pods });
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-bench-dns-'));
  const stops: (() => Promise<unknown> | unknown)[] = [];
  try {
    const cp = await startControlPlane({
      dataDir: dir,
      bindAddress: '127.0.0.1',
      port: 0,
      advertiseAddress: '127.0.0.1',
      clusterCIDR: '10.244.0.0/16',
      nodeCIDRMaskSize: 24,
      serviceCIDR: '10.96.0.0/12',
    });
    stops.push(() => cp.close());
    const api = new ApiClient(loadKubeconfig(join(dir, 'admin.kubeconfig')));
    await api.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    const c0 = performance.now();
    const ips = await pool(
      SERVICES,
      16,
      async (i) =>
        (
          await api.create<V1Service>('/api/v1/namespaces/bench/services', {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: `web-${i}` },
            spec: { ports: [{ name: 'http', port: 80 }] },
          })
        ).spec!.clusterIP!,
    );
    console.log(`created ${SERVICES} Services through the API in ${((performance.now() - c0) / 1000).toFixed(1)} s`);

    const hosts = [...ips.map((ip, i) => `${ip} web-${i}.bench.svc.cluster.local`), ...ips.map((_, i) => `192.0.2.${i % 250} www${i}.example.test`)];
    writeFileSync(join(dir, 'hosts'), `${hosts.join('\n')}\n`, { mode: 0o644 });
    const anchor = await startDnsmasq(join(dir, 'hosts'));
    if (anchor) stops.push(() => anchor.proc.kill('SIGTERM'));
    writeFileSync(join(dir, 'resolv.conf'), anchor ? `nameserver 127.0.0.1:${anchor.server.port}\n` : '');

    const s0 = performance.now();
    const dns = await startClusterDNS({ api, bindAddress: '127.0.0.1', port: 0, clusterDomain: 'cluster.local', resolvConf: join(dir, 'resolv.conf') });
    stops.unshift(() => dns.close());
    const ours = { host: '127.0.0.1', port: dns.port };
    console.log(`cluster DNS started and synced with ${SERVICES} Services in ${(performance.now() - s0).toFixed(0)} ms`);

    const svcName = (i: number): [string, string] => {
      const k = (i * 7919) % SERVICES;
      return [`web-${k}.bench.svc.cluster.local`, ips[k]];
    };
    const extName = (i: number): [string, string] => {
      const k = (i * 7919) % SERVICES;
      return [`www${k}.example.test`, `192.0.2.${k % 250}`];
    };
    await measure('warm-up', ours, svcName, { inflight: 10 });
    const rows: Row[] = [
      await measure('hawser UDP, 1 in flight', ours, svcName),
      await measure('hawser UDP, 50 in flight', ours, svcName, { inflight: 50 }),
      await measure('hawser TCP, 1 in flight (new connection each)', ours, svcName, { tcp: true }),
    ];
    if (anchor) {
      rows.push(
        await measure('anchor dnsmasq UDP, 1 in flight', anchor.server, svcName),
        await measure('anchor dnsmasq UDP, 50 in flight', anchor.server, svcName, { inflight: 50 }),
        await measure('anchor dnsmasq TCP, 1 in flight', anchor.server, svcName, { tcp: true }),
        await measure('hawser forwarded to dnsmasq, UDP, 1 in flight', ours, extName),
        await measure('hawser forwarded to dnsmasq, UDP, 50 in flight', ours, extName, { inflight: 50 }),
      );
    } else {
      console.log(`(no anchor: ${DNSMASQ} is not installed; apt-get install dnsmasq-base)`);
    }

    // propagation at this size: a new Service resolvable, a deleted one gone
    const p0 = performance.now();
    const fresh = await api.create<V1Service>('/api/v1/namespaces/bench/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'fresh' },
      spec: { ports: [{ name: 'http', port: 80 }] },
    });
    while (answerData(await dnsQuery(ours, 'fresh.bench.svc.cluster.local', 'A'), 'A')[0] !== fresh.spec!.clusterIP && performance.now() - p0 < 10_000)
      await sleep(5);
    const created = performance.now() - p0;
    const d0 = performance.now();
    await api.delete('/api/v1/namespaces/bench/services/fresh');
    while ((await dnsQuery(ours, 'fresh.bench.svc.cluster.local', 'A'))?.rcode !== 'NXDOMAIN' && performance.now() - d0 < 10_000) await sleep(5);
    const deleted = performance.now() - d0;

    const w = Math.max(...rows.map((r) => r.what.length));
    console.log(`\n${QUERIES} A queries per row, ${SERVICES} Services in the zone`);
    console.log(`${'row'.padEnd(w)}  lost   p50 ms   p99 ms   max ms   queries/s`);
    for (const r of rows) {
      console.log(
        `${r.what.padEnd(w)}  ${String(r.lost).padStart(4)}  ${r.p50.toFixed(2).padStart(7)}  ${r.p99.toFixed(2).padStart(7)}  ${r.max.toFixed(2).padStart(7)}  ${r.qps.toFixed(0).padStart(10)}`,
      );
    }
    console.log(`\nService created -> resolvable: ${created.toFixed(0)} ms; deleted -> NXDOMAIN: ${deleted.toFixed(0)} ms`);
    console.log(
      `index rebuild (synthetic; 10% headless with 10 endpoints, one pod per Service): 1,000 Services ${rebuildMs(1000).toFixed(1)} ms, 10,000 Services ${rebuildMs(10_000).toFixed(1)} ms`,
    );
    const hawserUdp = rows[0];
    console.log(
      `\ncluster DNS p99 (UDP, 1 in flight): ${hawserUdp.p99.toFixed(2)} ms, lost ${rows.filter((r) => r.what.startsWith('hawser')).reduce((n, r) => n + r.lost, 0)} of ${rows.filter((r) => r.what.startsWith('hawser')).length * QUERIES}`,
    );
    if (rows.some((r) => r.lost > 0)) process.exitCode = 1;
  } finally {
    for (const s of stops)
      await Promise.resolve()
        .then(s)
        .catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
