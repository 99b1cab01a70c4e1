// QoS classes, pod cgroup placement and the Linux resources the kubelet gives containers and pods.
import test from 'ava';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { cgroupPath, podComponents } from '../../agents/kubelet/pods/cgroup-plan.ts';
import { v1Files } from '../../agents/kubelet/pods/pod-cgroups.ts';
import { containerResources, milliToQuota, milliToShares, oomScoreAdj, podCgroupConfig, qosClass } from '../../agents/kubelet/pods/qos.ts';
import { milliCPU, parseQuantity } from '../../agents/api/quantity.ts';

const pod = (containers: Partial<V1Container>[], init: Partial<V1Container>[] = []): V1Pod => ({
  metadata: { name: 'p', namespace: 'd', uid: 'u1' },
  spec: { containers: containers.map((c, i) => ({ name: `c${i}`, ...c })), initContainers: init.map((c, i) => ({ name: `i${i}`, ...c })) },
});
const res = (requests?: Record<string, string>, limits?: Record<string, string>) => ({ resources: { requests, limits } });

test('quantities: suffixes, exponents, millicores rounded up', (t) => {
  t.is(parseQuantity('64Mi'), 64 * 1024 * 1024);
  t.is(parseQuantity('1G'), 1e9);
  t.is(parseQuantity('2e3'), 2000);
  t.is(parseQuantity('1.5'), 1.5);
  t.is(parseQuantity('12x'), undefined);
  t.is(milliCPU('250m'), 250);
  t.is(milliCPU('0.5'), 500);
  t.is(milliCPU('1'), 1000);
  t.is(milliCPU('100u'), 1, 'sub-millicore rounds up');
});

test('QoS class: Guaranteed only when every container has equal cpu and memory limits and requests', (t) => {
  t.is(qosClass(pod([{}])), 'BestEffort');
  t.is(qosClass(pod([res({ cpu: '100m', memory: '64Mi' }, { cpu: '100m', memory: '64Mi' })])), 'Guaranteed');
  t.is(qosClass(pod([res(undefined, { cpu: '1', memory: '1Gi' })])), 'Guaranteed', 'requests default to limits');
  t.is(qosClass(pod([res({ cpu: '100m' })])), 'Burstable');
  t.is(qosClass(pod([res({ cpu: '100m', memory: '64Mi' }, { cpu: '200m', memory: '64Mi' })])), 'Burstable');
  t.is(qosClass(pod([res({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' }), {}])), 'Burstable', 'one BestEffort container breaks Guaranteed');
  t.is(qosClass(pod([res({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })], [res({ cpu: '1' })])), 'Burstable', 'init containers count');
});

test('pod cgroups: Guaranteed under the root, the others under their class', (t) => {
  const parent = (root: string, p: V1Pod) => cgroupPath(podComponents(root, p), 'cgroupfs');
  t.is(parent('/kubepods', pod([res({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })])), '/kubepods/podu1');
  t.is(parent('/kubepods/', pod([res({ cpu: '1' })])), '/kubepods/burstable/podu1');
  t.is(parent('/hawser/n1', pod([{}])), '/hawser/n1/besteffort/podu1');
});

test("cpu shares and CFS quota with upstream's bounds", (t) => {
  t.is(milliToShares(0), 2);
  t.is(milliToShares(1), 2);
  t.is(milliToShares(100), 102);
  t.is(milliToShares(1000), 1024);
  t.is(milliToShares(1_000_000), 262144);
  t.is(milliToQuota(0), 0);
  t.is(milliToQuota(5), 1000, 'at least 1 ms per period');
  t.is(milliToQuota(250), 25000);
});

test('container resources: shares from requests, quota and memory from limits, OOM score by class', (t) => {
  const g = pod([res({ cpu: '500m', memory: '128Mi' }, { cpu: '500m', memory: '128Mi' })]);
  t.deepEqual(containerResources(g, g.spec!.containers[0], 8 * 1024 ** 3), {
    cpuShares: 512,
    cpuPeriod: 100000,
    cpuQuota: 50000,
    memoryLimitInBytes: 128 * 1024 ** 2,
    oomScoreAdj: -997,
  });
  const be = pod([{}]);
  t.deepEqual(containerResources(be, be.spec!.containers[0], 1024), { cpuShares: 2, oomScoreAdj: 1000 });
  const b = pod([res({ memory: '1Gi' })]);
  t.is(oomScoreAdj(b, b.spec!.containers[0], 4 * 1024 ** 3), 750, '1000 - 1000 * request / capacity');
  const tiny = pod([res({ cpu: '10m' })]);
  t.is(oomScoreAdj(tiny, tiny.spec!.containers[0], 4 * 1024 ** 3), 999, 'Burstable stays below BestEffort');
  const huge = pod([res({ memory: '4Gi' })]);
  t.is(oomScoreAdj(huge, huge.spec!.containers[0], 4 * 1024 ** 3), 3, 'and above Guaranteed');
});

test('pod cgroup config: summed requests, limits only when every container has one, init containers as a floor', (t) => {
  const p = pod([res({ cpu: '100m', memory: '64Mi' }, { cpu: '200m', memory: '64Mi' }), res({ cpu: '300m' }, { cpu: '300m' })]);
  t.deepEqual(podCgroupConfig(p), { cpuShares: milliToShares(400), cpuPeriod: 100000, cpuQuota: 50000 }, 'no memory limit: one container has none');
  const withInit = pod([res({ cpu: '100m' }, { cpu: '100m', memory: '10Mi' })], [res({ cpu: '2' }, { cpu: '2', memory: '1Gi' })]);
  t.deepEqual(podCgroupConfig(withInit), { cpuShares: 2048, cpuPeriod: 100000, cpuQuota: 200000, memoryLimitInBytes: 1024 ** 3 });
  t.deepEqual(podCgroupConfig(pod([{}])), { cpuShares: 2 });
});

test('cgroup files for v1', (t) => {
  t.deepEqual(v1Files({ cpuShares: 512, cpuPeriod: 100000, cpuQuota: 50000, memoryLimitInBytes: 1024 }), [
    { controller: 'cpu', file: 'cpu.shares', value: '512' },
    { controller: 'cpu', file: 'cpu.cfs_period_us', value: '100000' },
    { controller: 'cpu', file: 'cpu.cfs_quota_us', value: '50000' },
    { controller: 'memory', file: 'memory.limit_in_bytes', value: '1024' },
  ]);
});
