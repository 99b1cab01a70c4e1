import test from 'ava';
import { emptyUsage, nodeInfo, podRequests, schedule, unfitReason, unschedulableMessage } from '../../agents/control-plane/scheduler/filters.ts';
import { isPending, queueOrder } from '../../agents/control-plane/scheduler/scheduler.ts';

const node = (
  name: string,
  o: { ready?: boolean; labels?: Record<string, string>; taints?: any[]; unschedulable?: boolean; cpu?: string; pods?: string } = {},
) =>
  nodeInfo({
    metadata: { name, labels: o.labels ?? {} },
    spec: { taints: o.taints, unschedulable: o.unschedulable },
    status: {
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
      allocatable: { cpu: o.cpu ?? '2', memory: '4Gi', pods: o.pods ?? '110' },
    },
  });
const pod = (spec: Record<string, unknown> = {}) => ({ metadata: { name: 'p', namespace: 'd' }, spec: { containers: [{ name: 'c', image: 'i' }], ...spec } });

test('filters: ready, unschedulable, selector, taints, resources', (t) => {
  const u = emptyUsage();
  t.is(unfitReason(pod(), node('a'), u), undefined);
  t.is(unfitReason(pod(), node('a', { ready: false }), u), 'node(s) were not ready');
  t.is(unfitReason(pod(), node('a', { unschedulable: true }), u), 'node(s) were unschedulable');
  t.is(unfitReason(pod({ nodeSelector: { disk: 'ssd' } }), node('a'), u), "node(s) didn't match Pod's node affinity/selector");
  t.is(unfitReason(pod({ nodeSelector: { disk: 'ssd' } }), node('a', { labels: { disk: 'ssd' } }), u), undefined);
  const tainted = node('a', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
  t.is(unfitReason(pod(), tainted, u), 'node(s) had untolerated taint {dedicated: gpu}');
  t.is(unfitReason(pod({ tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }), tainted, u), undefined);
  t.is(unfitReason(pod({ tolerations: [{ operator: 'Exists' }] }), tainted, u), undefined);
  t.is(unfitReason(pod(), node('a', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] }), u), undefined, 'soft taints do not filter');
  const big = pod({ containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '1500m' } } }] });
  t.is(unfitReason(big, node('a'), { ...u, milliCPU: 1000 }), 'Insufficient cpu');
  t.is(unfitReason(pod(), node('a', { pods: '1' }), { ...u, pods: 1 }), 'Too many pods');
  const affinity = {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] }] },
    },
  };
  t.truthy(unfitReason(pod({ affinity }), node('a', { labels: { zone: 'z2' } }), u));
  t.is(unfitReason(pod({ affinity }), node('a', { labels: { zone: 'z1' } }), u), undefined);
});

test('score: fewest pods wins, ties by name', (t) => {
  const usage: Record<string, number> = { a: 3, b: 1, c: 1 };
  const d = schedule(pod(), [node('a'), node('c'), node('b')], (n) => ({ ...emptyUsage(), pods: usage[n] }));
  t.is(d.node, 'b');
});

test('unschedulable message counts reasons like upstream', (t) => {
  const d = schedule(pod(), [node('a', { ready: false }), node('b', { ready: false }), node('c', { unschedulable: true })], () => emptyUsage());
  t.is(d.node, undefined);
  t.is(d.message, '0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) were not ready.');
  t.is(unschedulableMessage(0, []), 'no nodes available to schedule pods');
});

test("which pods are the scheduler's to place", (t) => {
  t.true(isPending({ metadata: {}, spec: { containers: [] }, status: { phase: 'Pending' } }));
  t.false(isPending({ metadata: {}, spec: { nodeName: 'n' } }));
  t.false(isPending({ metadata: {}, spec: { schedulerName: 'other' } }));
  t.false(isPending({ metadata: { deletionTimestamp: 'x' }, spec: {} }));
  t.false(isPending({ metadata: {}, spec: { schedulingGates: [{ name: 'g' }] } }));
});

test('requests: integer milli-CPU and bytes, init containers as upstream', (t) => {
  const p = pod({
    containers: [
      { name: 'a', image: 'i', resources: { requests: { cpu: '100m', memory: '64Mi' } } },
      { name: 'b', image: 'i', resources: { requests: { cpu: '0.2' } } },
    ],
    initContainers: [{ name: 'i', image: 'i', resources: { requests: { cpu: '500m', memory: '1Mi' } } }],
  });
  t.deepEqual(podRequests(p), { milliCPU: 500, memory: 64 * 1024 * 1024 });
  t.deepEqual(podRequests(pod()), { milliCPU: 0, memory: 0 });
  t.is(
    unfitReason(pod({ containers: [{ name: 'c', image: 'i', resources: { requests: { memory: '1Gi' } } }] }), node('a'), {
      pods: 0,
      milliCPU: 0,
      memory: 3.5 * 1024 ** 3,
    }),
    'Insufficient memory',
  );
  t.is(
    unfitReason(pod({ containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '1' } } }] }), node('a'), { pods: 0, milliCPU: 1000, memory: 0 }),
    undefined,
    'exactly full fits',
  );
});

test('queue order: higher priority first, then older first', (t) => {
  const q = (name: string, priority: number | undefined, ts: string) => ({ metadata: { name, creationTimestamp: ts }, spec: { priority } });
  const sorted = [q('late', 0, '2026-01-02'), q('early', undefined, '2026-01-01'), q('urgent', 1000, '2026-01-03')].sort(queueOrder);
  t.deepEqual(
    sorted.map((p) => p.metadata.name),
    ['urgent', 'early', 'late'],
  );
});
