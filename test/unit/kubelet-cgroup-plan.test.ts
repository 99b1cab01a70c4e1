// The kubelet's cgroup v2 and systemd-driver planning (agents/kubelet/pods/cgroup-plan.ts), the v2
// stats parsers (cgroup-stats.ts), the runtime driver check (cri/cgroup-driver.ts), and PodCgroups
// writing a fake v2 tree with a fake systemd bus. Values are upstream's kubelet's for the same pods.
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { logger } from '../../agents/api/log.ts';
import { cgroupDriverMismatch, runtimeCgroupDriver } from '../../agents/kubelet/cri/cgroup-driver.ts';
import {
  cgroupPath,
  criCgroupParent,
  parseCgroupDriver,
  podComponents,
  podV2Files,
  sharesToWeight,
  sliceName,
  sliceProperties,
  setSliceArgs,
  startSliceArgs,
  subtreeControlPlan,
} from '../../agents/kubelet/pods/cgroup-plan.ts';
import { parsePressure, parseSingle, v2Stats } from '../../agents/kubelet/pods/cgroup-stats.ts';
import { PodCgroups } from '../../agents/kubelet/pods/pod-cgroups.ts';
import { ExecError } from '../../agents/api/exec.ts';
import { podCgroupConfig } from '../../agents/kubelet/pods/qos.ts';

const UID = '3f2a1b4c-5d6e-7f80-9a0b-1c2d3e4f5a6b';
const pod = (containers: Partial<V1Container>[]): V1Pod => ({
  metadata: { name: 'p', namespace: 'default', uid: UID },
  spec: { containers: containers.map((c, i) => ({ name: `c${i}`, ...c })) },
});
const res = (requests?: Record<string, string>, limits?: Record<string, string>): Partial<V1Container> => ({ resources: { requests, limits } });
const burstable = pod([res({ cpu: '250m', memory: '64Mi' }, { cpu: '500m', memory: '128Mi' })]);
const guaranteed = pod([res(undefined, { cpu: '1', memory: '256Mi' })]);
const bestEffort = pod([{}]);

test('cgroupfs paths and the CRI parent are the QoS path', (t) => {
  t.is(cgroupPath(podComponents('/kubepods', burstable), 'cgroupfs'), `/kubepods/burstable/pod${UID}`);
  t.is(criCgroupParent(podComponents('/kubepods', guaranteed), 'cgroupfs'), `/kubepods/pod${UID}`);
});

test('systemd driver: nested slices with - escaped to _ in each component, the CRI parent is the leaf slice', (t) => {
  const esc = UID.replaceAll('-', '_');
  t.is(cgroupPath(podComponents('/kubepods', burstable), 'systemd'), `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${esc}.slice`);
  t.is(cgroupPath(podComponents('/kubepods', guaranteed), 'systemd'), `/kubepods.slice/kubepods-pod${esc}.slice`);
  t.is(criCgroupParent(podComponents('/kubepods', bestEffort), 'systemd'), `kubepods-besteffort-pod${esc}.slice`);
  t.is(sliceName(['kubepods']), 'kubepods.slice');
  t.is(sliceName(['my-root', 'burstable']), 'my_root-burstable.slice');
});

test("cpu.weight from shares by the kubelet's linear conversion", (t) => {
  t.deepEqual([2, 102, 256, 1024, 262144].map(sharesToWeight), [1, 4, 10, 39, 10000]);
});

test('pod v2 files: cpu.weight, cpu.max, memory.max, pids.max; memory.min only with MemoryQoS', (t) => {
  const show = (fs: { file: string; value: string }[]) => fs.map((f) => `${f.file}=${f.value}`);
  t.deepEqual(show(podV2Files(podCgroupConfig(burstable))), ['cpu.weight=10', 'cpu.max=50000 100000', `memory.max=${128 << 20}`, 'pids.max=max']);
  t.deepEqual(show(podV2Files(podCgroupConfig(bestEffort))), ['cpu.weight=1', 'cpu.max=max 100000', 'memory.max=max', 'pids.max=max']);
  t.deepEqual(show(podV2Files(podCgroupConfig(guaranteed), { podPidsLimit: 1024, memoryQoS: true }, 256 << 20)), [
    'cpu.weight=39',
    'cpu.max=100000 100000',
    `memory.max=${256 << 20}`,
    'pids.max=1024',
    `memory.min=${256 << 20}`,
  ]);
});

test('controllers are enabled in cgroup.subtree_control of every ancestor, only those the root has', (t) => {
  const plan = subtreeControlPlan('/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podx.slice', ['cpuset', 'cpu', 'io', 'memory', 'pids']);
  t.deepEqual(plan, [
    { dir: '/', value: '+cpu +cpuset +memory +pids' },
    { dir: '/kubepods.slice', value: '+cpu +cpuset +memory +pids' },
    { dir: '/kubepods.slice/kubepods-burstable.slice', value: '+cpu +cpuset +memory +pids' },
  ]);
  t.deepEqual(subtreeControlPlan('/kubepods/podx', []), []);
});

test("the root slice wants -.slice, which comes after busctl's end of options (it read it as an option before)", (t) => {
  const name = ['kubepods'];
  for (const args of [startSliceArgs(sliceName(name), sliceProperties(name)), setSliceArgs(sliceName(name), sliceProperties(name))]) {
    const end = args.indexOf('--');
    t.true(end >= 0, args.join(' '));
    t.true(args.indexOf('-.slice') > end, args.join(' '));
    t.true(
      args.slice(0, end).every((a) => !a.startsWith('-')),
      'no argument before -- looks like an option',
    );
  }
});

test("a pod slice is created with StartTransientUnit and runc's systemd properties", (t) => {
  const name = podComponents('/kubepods', burstable);
  const args = startSliceArgs(sliceName(name), sliceProperties(name, podCgroupConfig(burstable)));
  const esc = UID.replaceAll('-', '_');
  t.deepEqual(args, [
    'call',
    '--',
    'org.freedesktop.systemd1',
    '/org/freedesktop/systemd1',
    'org.freedesktop.systemd1.Manager',
    'StartTransientUnit',
    'ssa(sv)a(sa(sv))',
    `kubepods-burstable-pod${esc}.slice`,
    'replace',
    '11',
    'Description',
    's',
    `hawser kubelet: kubepods-burstable-pod${esc}.slice`,
    'Wants',
    'as',
    '1',
    'kubepods-burstable.slice',
    'DefaultDependencies',
    'b',
    'false',
    'MemoryAccounting',
    'b',
    'true',
    'CPUAccounting',
    'b',
    'true',
    'TasksAccounting',
    'b',
    'true',
    'CPUWeight',
    't',
    '10',
    'CPUQuotaPerSecUSec',
    't',
    '500000',
    'CPUQuotaPeriodUSec',
    't',
    '100000',
    'MemoryMax',
    't',
    String(128 << 20),
    'TasksMax',
    't',
    '18446744073709551615',
    '0',
  ]);
  const tiny = sliceProperties(name, { cpuShares: 2, cpuQuota: 1500, cpuPeriod: 100000 });
  t.deepEqual(
    tiny.find(([p]) => p === 'CPUQuotaPerSecUSec'),
    ['CPUQuotaPerSecUSec', 't', 20000],
    'rounded up to 10 ms steps as runc does',
  );
});

test('--cgroup-driver takes cgroupfs or systemd only', (t) => {
  t.is(parseCgroupDriver('systemd'), 'systemd');
  t.is(parseCgroupDriver(undefined), 'cgroupfs');
  t.throws(() => parseCgroupDriver('cgroupv2'), { message: 'invalid configuration: --cgroup-driver "cgroupv2": must be one of "cgroupfs", "systemd"' });
});

test('v2 stats: usage, working set, rss, cpu time and OOM kills from the files', (t) => {
  const s = v2Stats({
    'memory.current': '10485760\n',
    'memory.stat': 'anon 4194304\nfile 6291456\ninactive_file 2097152\n',
    'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n',
    'memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n',
  });
  t.deepEqual(s, {
    oomKills: 1,
    memoryUsageBytes: 10485760,
    memoryWorkingSetBytes: 8388608,
    memoryRssBytes: 4194304,
    memoryCacheBytes: 6291456,
    cpuUsageCoreNanoSeconds: 1_500_000,
  });
  t.is(parseSingle('max\n'), Infinity);
  t.is(parseSingle('garbage'), undefined);
  t.deepEqual(parsePressure('some avg10=1.50 avg60=0.20 avg300=0.00 total=12345\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=10\n').some, {
    avg10: 1.5,
    avg60: 0.2,
    avg300: 0,
    total: 12345,
  });
});

const criInfo = (systemd: boolean | undefined) => ({
  config: JSON.stringify({
    containerd: {
      defaultRuntimeName: 'runc',
      runtimes: { runc: { runtimeType: 'io.containerd.runc.v2', options: systemd === undefined ? null : { SystemdCgroup: systemd } } },
    },
    systemdCgroup: false,
  }),
});

test("containerd's driver from its verbose status, and a mismatch refused with what to change", (t) => {
  t.is(runtimeCgroupDriver(criInfo(true)), 'systemd');
  t.is(runtimeCgroupDriver(criInfo(false)), 'cgroupfs');
  t.is(runtimeCgroupDriver(criInfo(undefined)), 'cgroupfs', "no runc options: containerd's default, cgroupfs");
  t.is(runtimeCgroupDriver({}), undefined);
  t.is(cgroupDriverMismatch('systemd', 'systemd'), undefined);
  t.is(cgroupDriverMismatch('systemd', undefined), undefined);
  t.regex(
    cgroupDriverMismatch('systemd', 'cgroupfs')!,
    /^misconfiguration: kubelet cgroup driver: "systemd" is different from the container runtime's cgroup driver: "cgroupfs".*SystemdCgroup = true in containerd's config/,
  );
});

function fakeV2(t: { teardown(fn: () => void): void }): string {
  const root = mkdtempSync(join(tmpdir(), 'hawser-cgv2-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
  return root;
}

test('PodCgroups on v2 with cgroupfs: QoS and pod directories with their files and controllers enabled', async (t) => {
  const root = fakeV2(t);
  const pc = new PodCgroups({ cgroupRoot: '/kubepods', driver: 'cgroupfs' }, logger('test', 'silent'), root, async () => t.fail('no bus for cgroupfs'));
  await pc.ensureQosRoots();
  await pc.ensure(burstable);
  const dir = join(root, `kubepods/burstable/pod${UID}`);
  t.is(readFileSync(join(dir, 'memory.max'), 'utf8'), String(128 << 20));
  t.is(readFileSync(join(dir, 'cpu.max'), 'utf8'), '50000 100000');
  t.is(readFileSync(join(root, 'kubepods/besteffort/cpu.weight'), 'utf8'), '1');
  t.is(readFileSync(join(root, 'kubepods/burstable/cgroup.subtree_control'), 'utf8'), '+cpu +cpuset +memory +pids');
});

test('PodCgroups with the systemd driver: slices through the bus, limits in the slice directories, stopped at removal', async (t) => {
  const root = fakeV2(t);
  const calls: string[][] = [];
  let exists = false;
  const pc = new PodCgroups({ cgroupRoot: '/kubepods', driver: 'systemd' }, logger('test', 'silent'), root, async (args) => {
    calls.push(args);
    if (exists && args[5] === 'StartTransientUnit')
      throw new ExecError('busctl', args, {
        code: 1,
        signal: null,
        timedOut: false,
        stdout: '',
        stderr: `Call failed: Unit ${args[7]} was already loaded or has a fragment file.\n`,
      });
  });
  await pc.ensureQosRoots();
  t.deepEqual(
    calls.map((c) => `${c[5]} ${c[7]}`),
    ['StartTransientUnit kubepods.slice', 'StartTransientUnit kubepods-burstable.slice', 'StartTransientUnit kubepods-besteffort.slice'],
  );
  await pc.ensure(burstable);
  const esc = UID.replaceAll('-', '_');
  t.is(calls.at(-1)![7], `kubepods-burstable-pod${esc}.slice`);
  const dir = join(root, `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${esc}.slice`);
  t.is(readFileSync(join(dir, 'memory.max'), 'utf8'), String(128 << 20));
  t.is(readFileSync(join(dir, 'cpu.weight'), 'utf8'), '10');
  exists = true; // a kubelet restart: the slice is there, its limits are updated instead
  await pc.ensure(burstable);
  t.deepEqual(
    calls.slice(-2).map((c) => c[5]),
    ['StartTransientUnit', 'SetUnitProperties'],
  );
  t.true(calls.at(-1)!.includes('MemoryMax'));
  mkdirSync(dir, { recursive: true });
  await pc.remove(UID);
  t.deepEqual(
    calls.slice(-3).map((c) => `${c[5]} ${c[7]}`),
    [`StopUnit kubepods-pod${esc}.slice`, `StopUnit kubepods-burstable-pod${esc}.slice`, `StopUnit kubepods-besteffort-pod${esc}.slice`],
  );
});
