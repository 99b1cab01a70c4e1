// The kubelet's resource stats: cgroup v1/v2 and /proc parsing, the CPU rate between two readings,
// the /stats/summary document from a fake runtime and a fake cgroup tree, the /metrics/resource
// text in upstream's names and format, and both routes behind the kubelet's authn/authz.
import { loopbackKubeletServer } from '../support/kubelet-server.ts';
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { issueCert, loadOrCreateCA, type KeyPair } from '../../agents/control-plane/pki.ts';
import type {
  Container__Output as Container,
  ContainerStats__Output as CriStats,
  PodSandbox__Output as PodSandbox,
} from '../../agents/kubelet/cri/api-types.ts';
import { v1Stats, v2Stats } from '../../agents/kubelet/pods/cgroup-stats.ts';
import type { ServerCri } from '../../agents/kubelet/server/server.ts';
import { CgroupReader } from '../../agents/kubelet/stats/cgroup-reader.ts';
import { CpuRates, nanoCores } from '../../agents/kubelet/stats/cpu-rate.ts';
import { parseMeminfo, parseNetDev, parseProcStatCpu } from '../../agents/kubelet/stats/proc.ts';
import { StatsProvider, summaryJson, type StatsCri } from '../../agents/kubelet/stats/provider.ts';
import { goFloat, renderResourceMetrics } from '../../agents/kubelet/stats/resource-metrics.ts';
import type { Summary } from '../../agents/kubelet/stats/types.ts';

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
  eth0:    5000      50    2    0    0     0          0         0     7000      70    3    0    0     0       0          0
`;

test('cgroup v1 files: working set is usage less total_inactive_file; an unlimited limit is no limit', (t) => {
  const s = v1Stats({
    'cpuacct.usage': '123456789\n',
    'memory.usage_in_bytes': '10000000\n',
    'memory.limit_in_bytes': '9223372036854771712\n',
    'memory.stat': 'cache 5\ninactive_file 1\ntotal_inactive_file 4000000\ntotal_rss 3000000\ntotal_pgfault 7\ntotal_pgmajfault 1\n',
  });
  t.deepEqual(s, {
    oomKills: 0,
    memoryUsageBytes: 10_000_000,
    memoryWorkingSetBytes: 6_000_000,
    memoryRssBytes: 3_000_000,
    pageFaults: 7,
    majorPageFaults: 1,
    cpuUsageCoreNanoSeconds: 123456789,
  });
  t.is(v1Stats({ 'memory.usage_in_bytes': '100', 'memory.limit_in_bytes': '4096' }).memoryLimitBytes, 4096);
});

test('cgroup v2 files: cpu.stat usage_usec in nanoseconds, memory.max, faults', (t) => {
  const s = v2Stats({
    'cpu.stat': 'usage_usec 2500\nuser_usec 2000\n',
    'memory.current': '9000',
    'memory.stat': 'anon 100\ninactive_file 1000\npgfault 3\npgmajfault 0\n',
    'memory.max': 'max\n',
  });
  t.like(s, { cpuUsageCoreNanoSeconds: 2_500_000, memoryWorkingSetBytes: 8000, memoryRssBytes: 100, pageFaults: 3, majorPageFaults: 0 });
  t.is(s.memoryLimitBytes, undefined);
});

test('/proc parsers: net/dev without lo, busy CPU time, meminfo in bytes', (t) => {
  t.deepEqual(parseNetDev(NET_DEV), [{ name: 'eth0', rxBytes: 5000, rxErrors: 2, txBytes: 7000, txErrors: 3 }]);
  // user nice system idle iowait irq softirq steal: busy = 100+0+50+0+1+2 = 153 ticks
  t.is(parseProcStatCpu('cpu  100 0 50 9000 77 1 2 0 0 0\ncpu0 1 1 1 1\n'), 1.53e9);
  t.deepEqual(parseMeminfo('MemTotal:       2048 kB\nInactive(file):  1 kB\nHugePages_Total:       0\n'), {
    MemTotal: 2_097_152,
    'Inactive(file)': 1024,
    HugePages_Total: 0,
  });
});

test('usageNanoCores needs two readings; a counter going back gives none; sweep forgets what a pass did not read', (t) => {
  t.is(nanoCores({ usageCoreNanoSeconds: 0, atNs: 0 }, { usageCoreNanoSeconds: 5e8, atNs: 1e9 }), 500_000_000);
  t.is(nanoCores({ usageCoreNanoSeconds: 9, atNs: 0 }, { usageCoreNanoSeconds: 1, atNs: 1e9 }), undefined);
  const r = new CpuRates();
  t.is(r.rate('a', { usageCoreNanoSeconds: 1e9, atNs: 10e9 }), undefined);
  r.rate('b', { usageCoreNanoSeconds: 0, atNs: 10e9 });
  r.sweep();
  t.is(r.rate('a', { usageCoreNanoSeconds: 3e9, atNs: 14e9 }), 500_000_000);
  r.sweep();
  t.is(r.size, 1, 'b was not read in the second pass');
});

test('goFloat writes numbers as Go strconv g -1 does', (t) => {
  t.deepEqual([12533760, 4.710169, 0, 1633252712.5, 0.00001, 123456].map(goFloat), ['1.253376e+07', '4.710169', '0', '1.6332527125e+09', '1e-05', '123456']);
});

const T1 = '2026-12-07T06:00:00.125Z';
const SUMMARY: Summary = {
  node: { nodeName: 'n1', startTime: T1, cpu: { time: T1, usageCoreNanoSeconds: 357_354_910_000 }, memory: { time: T1, workingSetBytes: 1_616_273_408 } },
  pods: [
    {
      podRef: { name: 'web', namespace: 'default', uid: 'u1' },
      startTime: T1,
      cpu: { time: T1, usageCoreNanoSeconds: 4_678_120_000 },
      memory: { time: T1, workingSetBytes: 12_627_968 },
      containers: [
        {
          name: 'app',
          startTime: '2026-12-07T05:00:00.500Z',
          cpu: { time: T1, usageCoreNanoSeconds: 4_710_169_000 },
          memory: { time: T1, workingSetBytes: 12_533_760 },
        },
      ],
    },
  ],
};

test('/metrics/resource text: upstream names, help, types, labels, order and timestamps', (t) => {
  const ms = Date.parse(T1);
  t.is(
    renderResourceMetrics(SUMMARY),
    [
      '# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds',
      '# TYPE container_cpu_usage_seconds_total counter',
      `container_cpu_usage_seconds_total{container="app",namespace="default",pod="web"} 4.710169 ${ms}`,
      '# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes',
      '# TYPE container_memory_working_set_bytes gauge',
      `container_memory_working_set_bytes{container="app",namespace="default",pod="web"} 1.253376e+07 ${ms}`,
      '# HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in seconds',
      '# TYPE container_start_time_seconds gauge',
      'container_start_time_seconds{container="app",namespace="default",pod="web"} 1.7966196005e+09',
      '# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds',
      '# TYPE node_cpu_usage_seconds_total counter',
      `node_cpu_usage_seconds_total 357.35491 ${ms}`,
      '# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes',
      '# TYPE node_memory_working_set_bytes gauge',
      `node_memory_working_set_bytes 1.616273408e+09 ${ms}`,
      '# HELP pod_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the pod in core-seconds',
      '# TYPE pod_cpu_usage_seconds_total counter',
      `pod_cpu_usage_seconds_total{namespace="default",pod="web"} 4.67812 ${ms}`,
      '# HELP pod_memory_working_set_bytes [STABLE] Current working set of the pod in bytes',
      '# TYPE pod_memory_working_set_bytes gauge',
      `pod_memory_working_set_bytes{namespace="default",pod="web"} 1.2627968e+07 ${ms}`,
      '# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise',
      '# TYPE resource_scrape_error gauge',
      'resource_scrape_error 0',
      '# HELP scrape_error [ALPHA] (Deprecated since 1.29.0) 1 if there was an error while getting container metrics, 0 otherwise',
      '# TYPE scrape_error gauge',
      'scrape_error 0',
      '',
    ].join('\n'),
  );
  t.is(
    renderResourceMetrics(undefined)
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join(','),
    'resource_scrape_error 1,scrape_error 1,',
  );
});

/** A v1 cgroup tree (cpuacct and memory hierarchies), /proc files and a fake runtime with one pod. */
function fakeNode(t: import('ava').ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-stats-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cg = join(dir, 'cgroup');
  const podPath = '/kubepods/besteffort/podu1';
  const cpu = (path: string, ns: number) => {
    mkdirSync(join(cg, 'cpuacct', path), { recursive: true });
    writeFileSync(join(cg, 'cpuacct', path, 'cpuacct.usage'), `${ns}\n`);
  };
  const mem = (path: string, usage: number, inactive: number, procs = '') => {
    mkdirSync(join(cg, 'memory', path), { recursive: true });
    writeFileSync(join(cg, 'memory', path, 'memory.usage_in_bytes'), `${usage}\n`);
    writeFileSync(join(cg, 'memory', path, 'memory.limit_in_bytes'), '9223372036854771712\n');
    writeFileSync(join(cg, 'memory', path, 'memory.stat'), `total_inactive_file ${inactive}\ntotal_rss ${usage - inactive}\n`);
    writeFileSync(join(cg, 'memory', path, 'cgroup.procs'), procs);
  };
  cpu('/', 50e9);
  mem('/', 4e9, 1e9);
  cpu(podPath, 2e9);
  mem(podPath, 3e6, 1e6);
  cpu(`${podPath}/c-app`, 1.5e9);
  mem(`${podPath}/c-app`, 2e6, 5e5, '4242\n');
  const proc = join(dir, 'proc');
  mkdirSync(join(proc, '4242/net'), { recursive: true });
  mkdirSync(join(proc, 'self/net'), { recursive: true });
  writeFileSync(join(proc, '4242/net/dev'), NET_DEV);
  writeFileSync(join(proc, 'self/net/dev'), NET_DEV);
  writeFileSync(join(proc, 'meminfo'), 'MemTotal:       8000000 kB\nMemFree:        1000000 kB\n');
  writeFileSync(join(proc, 'stat'), 'cpu  1 2 3 4\nbtime 1790000000\n');
  const rootDir = join(dir, 'kubelet');
  mkdirSync(join(rootDir, 'pods/u1/volumes/kubernetes.io~empty-dir/scratch'), { recursive: true });
  writeFileSync(join(rootDir, 'pods/u1/volumes/kubernetes.io~empty-dir/scratch/data'), 'x'.repeat(10_000));
  const podLogDir = join(dir, 'logs');
  mkdirSync(join(podLogDir, 'default_web_u1/app'), { recursive: true });
  writeFileSync(join(podLogDir, 'default_web_u1/app/0.log'), 'log line\n');
  const sandbox: PodSandbox = {
    id: 's1',
    metadata: { name: 'web', namespace: 'default', uid: 'u1', attempt: 0 },
    state: 'SANDBOX_READY',
    createdAt: 1.79e18,
    labels: {},
    annotations: {},
    runtimeHandler: '',
  };
  const container: Container = {
    id: 'c-app',
    podSandboxId: 's1',
    metadata: { name: 'app', attempt: 0 },
    image: null,
    imageRef: '',
    state: 'CONTAINER_RUNNING',
    createdAt: 1.7900001e18,
    labels: {},
    annotations: {},
    imageId: '',
  };
  const criStats: CriStats[] = [
    {
      attributes: { id: 'c-app', metadata: null, labels: {}, annotations: {} },
      cpu: null,
      memory: null,
      writableLayer: { timestamp: 0, fsId: null, usedBytes: { value: 4096 }, inodesUsed: { value: 3 } },
      swap: null,
    },
  ];
  const cri: StatsCri = {
    listPodSandbox: async () => [sandbox],
    listContainers: async () => [container],
    listContainerStats: async () => criStats,
    imageFsInfo: async () => ({
      imageFilesystems: [{ timestamp: 0, fsId: { mountpoint: dir }, usedBytes: { value: 1e6 }, inodesUsed: { value: 10 } }],
      containerFilesystems: [],
    }),
  };
  const pod: V1Pod = {
    metadata: { name: 'web', namespace: 'default', uid: 'u1' },
    spec: { containers: [{ name: 'app', image: 'i' }], volumes: [{ name: 'scratch', emptyDir: {} }] },
  };
  const provider = new StatsProvider({
    nodeName: 'n1',
    cri,
    cgroupRoot: '/kubepods',
    cgroupDriver: 'cgroupfs',
    rootDir,
    podLogDir,
    pods: () => [pod],
    reader: new CgroupReader(cg),
    procRoot: proc,
  });
  return { provider, cpu, cri, criStats };
}

test('/stats/summary from cgroups and the runtime: upstream fields; usageNanoCores from the second scrape', async (t) => {
  const { provider, cpu } = fakeNode(t);
  const first = await provider.summary();
  t.like(first.node, {
    nodeName: 'n1',
    startTime: '2026-09-21T14:13:20.000Z',
    cpu: { usageCoreNanoSeconds: 50e9 },
    memory: { workingSetBytes: 3e9, usageBytes: 4e9, rssBytes: 3e9, availableBytes: 8_192_000_000 - 3e9 },
  });
  t.is(first.node.cpu?.usageNanoCores, undefined, 'one reading gives no rate');
  t.like(first.node.network, { name: 'eth0', rxBytes: 5000, txBytes: 7000, interfaces: [{ name: 'eth0' }] });
  t.true((first.node.fs?.capacityBytes ?? 0) > 0);
  t.like(first.node.runtime?.imageFs, { usedBytes: 1e6, inodesUsed: 10 });
  const p = first.pods[0]!;
  t.like(p, {
    podRef: { name: 'web', namespace: 'default', uid: 'u1' },
    cpu: { usageCoreNanoSeconds: 2e9 },
    memory: { workingSetBytes: 2e6 },
    network: { name: 'eth0' },
    process_stats: { process_count: 1 },
  });
  t.like(p.containers[0], {
    name: 'app',
    cpu: { usageCoreNanoSeconds: 1.5e9 },
    memory: { workingSetBytes: 1.5e6 },
    rootfs: { usedBytes: 4096, inodesUsed: 3 },
  });
  t.true((p.containers[0]!.logs?.usedBytes ?? 0) > 0);
  t.is(p.volume?.[0]?.name, 'scratch');
  t.true((p.volume?.[0]?.usedBytes ?? 0) >= 10_000);
  t.true((p['ephemeral-storage']?.usedBytes ?? 0) >= 10_000 + 4096, 'rootfs, logs and the emptyDir');
  await new Promise((r) => setTimeout(r, 50));
  cpu('/kubepods/besteffort/podu1/c-app', 1.5e9 + 1e8);
  const second = await provider.summary(true);
  const rate = second.pods[0]!.containers[0]!.cpu!.usageNanoCores!;
  t.true(rate > 0 && rate <= ((1e8 / 0.05) * 1e9) / 1e9, `rate ${rate}`);
  t.is(second.pods[0]!.network, undefined, 'only_cpu_and_memory leaves the rest out');
  const json = JSON.parse(summaryJson(second)) as { node: { cpu: { time: string } } };
  t.regex(json.node.cpu.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'whole seconds, as metav1.Time');
});

test('/stats/summary prefers the runtime figures for a container when it gives them', async (t) => {
  const { provider, criStats } = fakeNode(t);
  criStats[0]!.cpu = { timestamp: 1.8e18, usageCoreNanoSeconds: { value: 77 }, usageNanoCores: null };
  criStats[0]!.memory = {
    timestamp: 1.8e18,
    workingSetBytes: { value: 99 },
    availableBytes: null,
    usageBytes: { value: 100 },
    rssBytes: null,
    pageFaults: null,
    majorPageFaults: null,
  };
  const s = await provider.summary();
  t.like(s.pods[0]!.containers[0], { cpu: { usageCoreNanoSeconds: 77 }, memory: { workingSetBytes: 99, usageBytes: 100 } });
});

function get(port: number, ca: string, path: string, who: KeyPair): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca, servername: 'node-1', cert: who.certPem, key: who.keyPem, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('/stats/summary, /metrics/resource and /metrics/cadvisor on the kubelet port: the API server passes, others are refused by subresource', async (t) => {
  const { provider } = fakeNode(t);
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-stats-http-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await loadOrCreateCA(join(dir, 'ca'));
  const cri = {} as ServerCri;
  const server = await loopbackKubeletServer(t, dir, ca.certPem, { cri, stats: provider });
  const serving = readFileSync(server.servingCertFile, 'utf8');
  const apiserver = await issueCert(ca, { cn: 'kube-apiserver-kubelet-client', usage: 'client' });
  const alice = await issueCert(ca, { cn: 'alice', usage: 'client' });
  const summary = await get(server.port, serving, '/stats/summary', apiserver);
  t.is(summary.status, 200);
  t.like(JSON.parse(summary.body), { node: { nodeName: 'n1' }, pods: [{ podRef: { name: 'web' } }] });
  const metrics = await get(server.port, serving, '/metrics/resource', apiserver);
  t.is(metrics.type, 'text/plain; version=0.0.4; charset=utf-8');
  t.regex(metrics.body, /^container_cpu_usage_seconds_total\{container="app",namespace="default",pod="web"\} 1\.5 \d+$/m);
  t.regex(metrics.body, /^resource_scrape_error 0$/m);
  t.like(JSON.parse((await get(server.port, serving, '/stats/summary', alice)).body), {
    code: 403,
    message: 'Forbidden (user=alice, verb=get, resource=nodes, subresource=stats)',
  });
  t.like(JSON.parse((await get(server.port, serving, '/metrics/resource', alice)).body), {
    code: 403,
    message: 'Forbidden (user=alice, verb=get, resource=nodes, subresource=metrics)',
  });
  const cadvisor = await get(server.port, serving, '/metrics/cadvisor', apiserver);
  t.is(cadvisor.type, 'text/plain; version=0.0.4; charset=utf-8');
  t.regex(
    cadvisor.body,
    /^container_memory_working_set_bytes\{container="app",id="\/kubepods\/besteffort\/podu1\/c-app",image="i",name="c-app",namespace="default",pod="web"\} 1\.5e\+06 \d+$/m,
  );
  t.like(JSON.parse((await get(server.port, serving, '/metrics/cadvisor', alice)).body), {
    code: 403,
    message: 'Forbidden (user=alice, verb=get, resource=nodes, subresource=metrics)',
  });
});
