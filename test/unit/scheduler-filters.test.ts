import test from 'ava';
import { emptyUsage, schedule, unfitReason, unschedulableMessage } from '../../agents/control-plane/scheduler/filters.ts';
import { isPending } from '../../agents/control-plane/scheduler/scheduler.ts';

const node = (name: string, o: { ready?: boolean; labels?: Record<string, string>; taints?: any[]; unschedulable?: boolean; cpu?: string; pods?: string } = {}) => ({
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
  t.is(unfitReason(big, node('a'), { ...u, cpu: 1 }), 'Insufficient cpu');
  t.is(unfitReason(pod(), node('a', { pods: '1' }), { ...u, pods: 1 }), 'Too many pods');
  const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] }] } } };
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

test('which pods are the scheduler\'s to place', (t) => {
  t.true(isPending({ metadata: {}, spec: { containers: [] }, status: { phase: 'Pending' } }));
  t.false(isPending({ metadata: {}, spec: { nodeName: 'n' } }));
  t.false(isPending({ metadata: {}, spec: { schedulerName: 'other' } }));
  t.false(isPending({ metadata: { deletionTimestamp: 'x' }, spec: {} }));
  t.false(isPending({ metadata: {}, spec: { schedulingGates: [{ name: 'g' }] } }));
});
