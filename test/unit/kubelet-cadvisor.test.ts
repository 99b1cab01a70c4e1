// /metrics/cadvisor: the kubelet's cAdvisor metrics from the same stats pass as the summary, over a
// fake v1 and a fake v2 cgroup tree and a fake runtime: the text exposition parsed back and checked
// against cAdvisor's names, types, help texts and the kubelet's labels, and every value against the
// cgroup files it came from (the route behind the kubelet's authn/authz is in kubelet-stats.test.ts).
import test, { type ExecutionContext } from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type {
  Container__Output as Container,
  ContainerStats__Output as CriStats,
  PodSandbox__Output as PodSandbox,
} from '../../agents/kubelet/cri/api-types.ts';
import { renderCadvisorMetrics } from '../../agents/kubelet/stats/cadvisor-metrics.ts';
import { CgroupReader } from '../../agents/kubelet/stats/cgroup-reader.ts';
import { mountDevice } from '../../agents/kubelet/stats/proc.ts';
import { StatsProvider, type StatsCri } from '../../agents/kubelet/stats/provider.ts';

const KUBELET = ['container', 'id', 'image', 'name', 'namespace', 'pod'];
const MACHINE = ['boot_id', 'machine_id', 'system_uuid'];
/** cAdvisor's families (lib/metrics/prometheus.go, prometheus_machine.go) as the kubelet labels them. */
const UPSTREAM: Record<string, { type: 'counter' | 'gauge'; help: string; labels: string[] }> = {
  container_cpu_cfs_periods_total: { type: 'counter', help: 'Number of elapsed enforcement period intervals.', labels: KUBELET },
  container_cpu_cfs_throttled_periods_total: { type: 'counter', help: 'Number of throttled period intervals.', labels: KUBELET },
  container_cpu_cfs_throttled_seconds_total: { type: 'counter', help: 'Total time duration the container has been throttled.', labels: KUBELET },
  container_cpu_usage_seconds_total: { type: 'counter', help: 'Cumulative cpu time consumed in seconds.', labels: [...KUBELET, 'cpu'] },
  container_fs_limit_bytes: {
    type: 'gauge',
    help: 'Number of bytes that can be consumed by the container on this filesystem.',
    labels: [...KUBELET, 'device'],
  },
  container_fs_usage_bytes: { type: 'gauge', help: 'Number of bytes that are consumed by the container on this filesystem.', labels: [...KUBELET, 'device'] },
  container_last_seen: { type: 'gauge', help: 'Last time a container was seen by the exporter', labels: KUBELET },
  container_memory_cache: { type: 'gauge', help: 'Number of bytes of page cache memory.', labels: KUBELET },
  container_memory_rss: { type: 'gauge', help: 'Size of RSS in bytes.', labels: KUBELET },
  container_memory_usage_bytes: {
    type: 'gauge',
    help: 'Current memory usage in bytes, including all memory regardless of when it was accessed',
    labels: KUBELET,
  },
  container_memory_working_set_bytes: { type: 'gauge', help: 'Current working set in bytes.', labels: KUBELET },
  container_network_receive_bytes_total: { type: 'counter', help: 'Cumulative count of bytes received', labels: [...KUBELET, 'interface'] },
  container_network_receive_errors_total: {
    type: 'counter',
    help: 'Cumulative count of errors encountered while receiving',
    labels: [...KUBELET, 'interface'],
  },
  container_network_transmit_bytes_total: { type: 'counter', help: 'Cumulative count of bytes transmitted', labels: [...KUBELET, 'interface'] },
  container_network_transmit_errors_total: {
    type: 'counter',
    help: 'Cumulative count of errors encountered while transmitting',
    labels: [...KUBELET, 'interface'],
  },
  container_oom_events_total: { type: 'counter', help: 'Count of out of memory events observed for the container', labels: KUBELET },
  container_scrape_error: { type: 'gauge', help: '1 if there was an error while getting container metrics, 0 otherwise', labels: [] },
  container_spec_cpu_period: { type: 'gauge', help: 'CPU period of the container.', labels: KUBELET },
  container_spec_cpu_quota: { type: 'gauge', help: 'CPU quota of the container.', labels: KUBELET },
  container_spec_cpu_shares: { type: 'gauge', help: 'CPU share of the container.', labels: KUBELET },
  container_spec_memory_limit_bytes: { type: 'gauge', help: 'Memory limit for the container.', labels: KUBELET },
  container_start_time_seconds: { type: 'gauge', help: 'Start time of the container since unix epoch in seconds.', labels: KUBELET },
  machine_cpu_cores: { type: 'gauge', help: 'Number of logical CPU cores.', labels: MACHINE },
  machine_memory_bytes: { type: 'gauge', help: 'Amount of memory installed on the machine.', labels: MACHINE },
  machine_scrape_error: { type: 'gauge', help: '1 if there was an error while getting machine metrics, 0 otherwise.', labels: [] },
};

interface Parsed {
  name: string;
  labels: Record<string, string>;
  value: number;
  ms?: number;
}

/** The text exposition parsed strictly: HELP then TYPE before each family's samples, families in name order, label names sorted. */
function parseExposition(t: ExecutionContext, text: string): { families: Map<string, { help: string; type: string }>; samples: Parsed[] } {
  const families = new Map<string, { help: string; type: string }>();
  const samples: Parsed[] = [];
  let current = '';
  for (const line of text.split('\n').filter(Boolean)) {
    const help = /^# HELP (\S+) (.*)$/.exec(line);
    const type = /^# TYPE (\S+) (counter|gauge)$/.exec(line);
    if (help) {
      t.true(help[1]! > current, `${help[1]} after ${current}`);
      current = help[1]!;
      families.set(current, { help: help[2]!, type: '' });
      continue;
    }
    if (type) {
      t.is(type[1], current);
      families.get(current)!.type = type[2]!;
      continue;
    }
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)(?: (\d+))?$/.exec(line);
    if (!m) {
      t.fail(`not an exposition line: ${line}`);
      continue;
    }
    t.is(m[1], current, line);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    t.deepEqual(Object.keys(labels), [...Object.keys(labels)].sort(), `label names sorted: ${line}`);
    samples.push({ name: m[1]!, labels, value: Number(m[3]), ms: m[4] === undefined ? undefined : Number(m[4]) });
  }
  return { families, samples };
}

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
  eth0:    5000      50    2    0    0     0          0         0     7000      70    3    0    0     0       0          0
`;
const POD = '/kubepods/burstable/podu1';
const CONTAINER = `${POD}/c-app`;

/** A cgroup tree (v1: cpu, cpuacct and memory hierarchies; v2: unified), /proc and a runtime with one pod of one container. */
function fakeNode(t: ExecutionContext, v2: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-cadvisor-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cg = join(dir, 'cgroup');
  const put = (controller: string, path: string, file: string, text: string) => {
    const p = v2 ? join(cg, path, file) : join(cg, controller, path, file);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  };
  if (v2) put('', '/', 'cgroup.controllers', 'cpu memory pids\n');
  const cgroup = (
    path: string,
    o: { cpuNs: number; usage: number; inactive: number; rss: number; cache: number; limit?: number; quotaUs?: number; procs?: string },
  ) => {
    if (v2) {
      put('', path, 'cpu.stat', `usage_usec ${o.cpuNs / 1000}\nuser_usec 1\nsystem_usec 1\nnr_periods 40\nnr_throttled 7\nthrottled_usec 1500000\n`);
      put('', path, 'cpu.max', `${o.quotaUs ?? 'max'} 100000\n`);
      put('', path, 'cpu.weight', '39\n');
      put('', path, 'memory.current', `${o.usage}\n`);
      put('', path, 'memory.max', o.limit === undefined ? 'max\n' : `${o.limit}\n`);
      put('', path, 'memory.stat', `anon ${o.rss}\nfile ${o.cache}\ninactive_file ${o.inactive}\n`);
      put('', path, 'memory.events', 'oom_kill 2\n');
    } else {
      put('cpuacct', path, 'cpuacct.usage', `${o.cpuNs}\n`);
      put('cpu', path, 'cpu.cfs_period_us', '100000\n');
      put('cpu', path, 'cpu.cfs_quota_us', `${o.quotaUs ?? -1}\n`);
      put('cpu', path, 'cpu.shares', '1024\n');
      put('cpu', path, 'cpu.stat', 'nr_periods 40\nnr_throttled 7\nthrottled_time 1500000000\n');
      put('memory', path, 'memory.usage_in_bytes', `${o.usage}\n`);
      put('memory', path, 'memory.limit_in_bytes', `${o.limit ?? '9223372036854771712'}\n`);
      put('memory', path, 'memory.stat', `total_rss ${o.rss}\ntotal_cache ${o.cache}\ntotal_inactive_file ${o.inactive}\n`);
      put('memory', path, 'memory.oom_control', 'oom_kill_disable 0\noom_kill 2\n');
    }
    put('memory', path, 'cgroup.procs', o.procs ?? '');
  };
  cgroup('/', { cpuNs: 50e9, usage: 4e9, inactive: 1e9, rss: 2e9, cache: 1.5e9 });
  cgroup(POD, { cpuNs: 2e9, usage: 3e6, inactive: 1e6, rss: 1e6, cache: 5e5 });
  cgroup(CONTAINER, { cpuNs: 1.5e9, usage: 2e6, inactive: 5e5, rss: 9e5, cache: 4e5, limit: 64 * 2 ** 20, quotaUs: 50000, procs: '4242\n' });
  const proc = join(dir, 'proc');
  for (const [file, text] of [
    ['4242/net/dev', NET_DEV],
    ['self/net/dev', NET_DEV],
    ['meminfo', 'MemTotal:       8000000 kB\nMemFree:        1000000 kB\n'],
    ['stat', 'cpu  1 2 3 4\nbtime 1790000000\n'],
    ['sys/kernel/random/boot_id', 'boot-1\n'],
    ['self/mountinfo', `22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n40 22 8:17 / ${dir} rw - ext4 /dev/sdb1 rw\n`],
  ] as const) {
    mkdirSync(dirname(join(proc, file)), { recursive: true });
    writeFileSync(join(proc, file), text);
  }
  writeFileSync(join(dir, 'machine-id'), 'm-1\n');
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
    image: { image: 'sha256:abc', annotations: {}, userSpecifiedImage: '', runtimeHandler: '' },
    imageRef: 'sha256:abc',
    state: 'CONTAINER_RUNNING',
    createdAt: 1.7900001e18,
    labels: {},
    annotations: {},
    imageId: '',
  };
  const criStats: CriStats[] = [
    {
      attributes: { id: 'c-app', metadata: null, labels: {}, annotations: {} },
      cpu: { timestamp: 1, usageCoreNanoSeconds: { value: 1.4e9 }, usageNanoCores: null },
      memory: {
        timestamp: 1,
        workingSetBytes: { value: 1.4e6 },
        availableBytes: null,
        usageBytes: null,
        rssBytes: null,
        pageFaults: null,
        majorPageFaults: null,
      },
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
    spec: { containers: [{ name: 'app', image: 'docker.io/library/nginx:1.27' }] },
  };
  const provider = new StatsProvider({
    nodeName: 'n1',
    cri,
    cgroupRoot: '/kubepods',
    cgroupDriver: 'cgroupfs',
    rootDir: dir,
    podLogDir: dir,
    pods: () => [pod],
    reader: new CgroupReader(cg),
    procRoot: proc,
    machineIdFile: join(dir, 'machine-id'),
    systemUuidFile: join(dir, 'none'),
  });
  const file = (controller: string, path: string, name: string) => readFileSync(v2 ? join(cg, path, name) : join(cg, controller, path, name), 'utf8');
  return { provider, file };
}

const flat = (text: string) =>
  Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .map(([k, v]) => [k!, Number(v)]),
  );

for (const v2 of [false, true]) {
  test(`/metrics/cadvisor over cgroup ${v2 ? 'v2' : 'v1'}: cAdvisor's families and the kubelet's labels, values from the cgroup files`, async (t) => {
    const { provider, file } = fakeNode(t, v2);
    const text = renderCadvisorMetrics(await provider.cadvisor());
    const { families, samples } = parseExposition(t, text);
    for (const [name, want] of Object.entries(UPSTREAM)) t.deepEqual(families.get(name), { help: want.help, type: want.type }, name);
    t.deepEqual(
      [...families.keys()].filter((n) => !UPSTREAM[n]),
      [],
      'no family cAdvisor does not have',
    );
    for (const s of samples) t.deepEqual(Object.keys(s.labels), [...UPSTREAM[s.name]!.labels].sort(), `${s.name} labels`);
    const one = (name: string, id: string, extra: Record<string, string> = {}) => {
      const found = samples.filter((s) => s.name === name && s.labels.id === id && Object.entries(extra).every(([k, v]) => s.labels[k] === v));
      t.is(found.length, 1, `${name}{id=${id}}`);
      return found[0]?.value;
    };
    // the container: its labels, and each value as the cgroup files say (not the runtime's 1.4 s)
    t.like(samples.find((s) => s.name === 'container_memory_rss' && s.labels.id === CONTAINER)?.labels, {
      container: 'app',
      image: 'docker.io/library/nginx:1.27',
      name: 'c-app',
      namespace: 'default',
      pod: 'web',
    });
    const cpuStat = flat(file('cpu', CONTAINER, 'cpu.stat'));
    const memStat = flat(file('memory', CONTAINER, 'memory.stat'));
    const usage = Number(file('memory', CONTAINER, v2 ? 'memory.current' : 'memory.usage_in_bytes'));
    t.is(
      one('container_cpu_usage_seconds_total', CONTAINER, { cpu: 'total' }),
      v2 ? flat(file('', CONTAINER, 'cpu.stat')).usage_usec! / 1e6 : Number(file('cpuacct', CONTAINER, 'cpuacct.usage')) / 1e9,
    );
    t.is(one('container_memory_usage_bytes', CONTAINER), usage);
    t.is(one('container_memory_working_set_bytes', CONTAINER), usage - memStat[v2 ? 'inactive_file' : 'total_inactive_file']!);
    t.is(one('container_memory_rss', CONTAINER), memStat[v2 ? 'anon' : 'total_rss']);
    t.is(one('container_memory_cache', CONTAINER), memStat[v2 ? 'file' : 'total_cache']);
    t.is(one('container_spec_memory_limit_bytes', CONTAINER), Number(file('memory', CONTAINER, v2 ? 'memory.max' : 'memory.limit_in_bytes')));
    t.is(
      one('container_spec_cpu_quota', CONTAINER),
      v2 ? Number(file('', CONTAINER, 'cpu.max').split(' ')[0]) : Number(file('cpu', CONTAINER, 'cpu.cfs_quota_us')),
    );
    t.is(one('container_spec_cpu_period', CONTAINER), 100000);
    t.is(
      one('container_spec_cpu_shares', CONTAINER),
      v2 ? 998 : Number(file('cpu', CONTAINER, 'cpu.shares')),
      "v2 weight 39 is shares 998 by cAdvisor's convertCPUWeightToCPULimit",
    );
    t.is(one('container_cpu_cfs_periods_total', CONTAINER), cpuStat.nr_periods);
    t.is(one('container_cpu_cfs_throttled_periods_total', CONTAINER), cpuStat.nr_throttled);
    t.is(one('container_cpu_cfs_throttled_seconds_total', CONTAINER), v2 ? cpuStat.throttled_usec! / 1e6 : cpuStat.throttled_time! / 1e9);
    t.is(one('container_oom_events_total', CONTAINER), 2);
    t.is(one('container_start_time_seconds', CONTAINER), 1_790_000_100);
    t.is(one('container_fs_usage_bytes', CONTAINER, { device: '/dev/sdb1' }), 4096, "the writable layer, on the image filesystem's device");
    t.true((one('container_fs_limit_bytes', CONTAINER, { device: '/dev/sdb1' }) ?? 0) > 0);
    // the pod's cgroup: no container labels, the pod's network by interface
    t.like(samples.find((s) => s.name === 'container_memory_usage_bytes' && s.labels.id === POD)?.labels, {
      container: '',
      image: '',
      name: '',
      namespace: 'default',
      pod: 'web',
    });
    t.is(one('container_memory_usage_bytes', POD), Number(file('memory', POD, v2 ? 'memory.current' : 'memory.usage_in_bytes')));
    t.is(one('container_network_receive_bytes_total', POD, { interface: 'eth0' }), 5000);
    t.is(one('container_network_transmit_bytes_total', POD, { interface: 'eth0' }), 7000);
    t.is(one('container_spec_memory_limit_bytes', POD), 0, 'no limit is 0, as cAdvisor');
    t.false(
      samples.some((s) => s.name.startsWith('container_cpu_cfs') && s.labels.id === POD),
      'no quota: no CFS counters',
    );
    // the root cgroup and the machine
    t.is(one('container_cpu_usage_seconds_total', '/', { cpu: 'total' }), 50);
    t.like(
      samples.find((s) => s.name === 'machine_memory_bytes'),
      { value: 8_192_000_000, labels: { boot_id: 'boot-1', machine_id: 'm-1', system_uuid: '' } },
    );
    t.true(
      samples
        .filter(
          (s) =>
            s.name.startsWith('container_') &&
            !s.name.startsWith('container_spec') &&
            s.name !== 'container_start_time_seconds' &&
            s.name !== 'container_scrape_error',
        )
        .every((s) => s.ms !== undefined),
      'stats samples carry their time',
    );
    t.true(
      samples.filter((s) => s.name.startsWith('container_spec') || s.name === 'container_start_time_seconds').every((s) => s.ms === undefined),
      'spec samples carry none',
    );
  });
}

test('/metrics/cadvisor when the stats fail: only the scrape errors, at 1', (t) => {
  t.is(
    renderCadvisorMetrics(undefined)
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .join(','),
    'container_scrape_error 1,machine_scrape_error 1',
  );
});

test('mountinfo: the device of the deepest mount holding a path', (t) => {
  const info = '22 1 8:1 / / rw - ext4 /dev/sda1 rw\n30 22 8:2 / /var/lib rw shared:1 - xfs /dev/sdb1 rw\n31 22 8:3 / /var/libx rw - xfs /dev/sdc1 rw\n';
  t.is(mountDevice(info, '/var/lib/containerd'), '/dev/sdb1');
  t.is(mountDevice(info, '/var/libxyz'), '/dev/sda1');
  t.is(mountDevice(info, '/var/libx'), '/dev/sdc1');
});
