// DaemonSet and StatefulSet decisions: eligible nodes, per-node plans, rolling updates and
// status; ordinals, ordered creation and deletion, partitioned updates and status.
import test from 'ava';
import type { Obj } from '../../agents/control-plane/apiserver/strategies/types.ts';
import {
  daemonSetStatus,
  daemonTolerations,
  nodeShouldRun,
  pinToNode,
  planNodes,
  rollingDeletes,
  targetNode,
} from '../../agents/control-plane/controllers/workloads/daemonset-rules.ts';
import { ordinalOf, planStatefulSet, podIdentity, statefulSetStatus } from '../../agents/control-plane/controllers/workloads/statefulset-rules.ts';

const node = (name: string, o: { labels?: Record<string, string>; taints?: unknown[] } = {}): Obj => ({
  metadata: { name, labels: o.labels ?? {} },
  spec: { taints: o.taints },
});
const ds = (o: { nodeSelector?: Record<string, string>; tolerations?: unknown[]; maxUnavailable?: number; type?: string } = {}): Obj => ({
  metadata: { name: 'agent', generation: 2 },
  spec: {
    selector: { matchLabels: { app: 'agent' } },
    updateStrategy: { type: o.type ?? 'RollingUpdate', rollingUpdate: { maxUnavailable: o.maxUnavailable ?? 1 } },
    template: {
      metadata: { labels: { app: 'agent' } },
      spec: { nodeSelector: o.nodeSelector, tolerations: o.tolerations, containers: [{ name: 'c', image: 'i' }] },
    },
  },
});
let seq = 0;
function dpod(nodeName: string, o: { hash?: string; phase?: string; ready?: boolean; deleting?: boolean; bound?: boolean } = {}): Obj {
  const spec: Record<string, any> = {};
  if (o.bound === false) pinToNode(spec, nodeName);
  else spec.nodeName = nodeName;
  return {
    metadata: {
      name: `p${seq++}`,
      creationTimestamp: new Date(seq * 1000).toISOString(),
      labels: { 'controller-revision-hash': o.hash ?? 'h1' },
      deletionTimestamp: o.deleting ? 'x' : undefined,
    },
    spec,
    status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}

test('daemon pods get the standard tolerations once, and are pinned through node affinity', (t) => {
  const tol = daemonTolerations({ hostNetwork: true, tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }] });
  t.is(tol.filter((x) => x.key === 'node.kubernetes.io/unreachable').length, 1);
  t.true(tol.some((x) => x.key === 'node.kubernetes.io/network-unavailable'));
  t.true(tol.some((x) => x.key === 'node.kubernetes.io/unschedulable' && x.effect === 'NoSchedule'));
  const spec: Record<string, any> = {
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] },
      },
    },
  };
  pinToNode(spec, 'n1');
  const term = spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0];
  t.deepEqual(term.matchFields, [{ key: 'metadata.name', operator: 'In', values: ['n1'] }]);
  t.is(term.matchExpressions.length, 1, 'the user terms keep their expressions');
  t.is(targetNode({ metadata: {}, spec }), 'n1');
  t.is(targetNode({ metadata: {}, spec: { nodeName: 'n2' } }), 'n2');
});

test('which nodes run a daemon: selectors, NoSchedule stops new pods, NoExecute evicts', (t) => {
  t.deepEqual(nodeShouldRun(ds(), node('a')), { run: true, stay: true });
  t.deepEqual(nodeShouldRun(ds({ nodeSelector: { disk: 'ssd' } }), node('a')), { run: false, stay: false });
  t.deepEqual(nodeShouldRun(ds({ nodeSelector: { disk: 'ssd' } }), node('a', { labels: { disk: 'ssd' } })), { run: true, stay: true });
  t.deepEqual(nodeShouldRun(ds(), node('a', { taints: [{ key: 'gpu', effect: 'NoSchedule' }] })), { run: false, stay: true });
  t.deepEqual(nodeShouldRun(ds(), node('a', { taints: [{ key: 'gpu', effect: 'NoExecute' }] })), { run: false, stay: false });
  t.deepEqual(nodeShouldRun(ds({ tolerations: [{ key: 'gpu', operator: 'Exists' }] }), node('a', { taints: [{ key: 'gpu', effect: 'NoExecute' }] })), {
    run: true,
    stay: true,
  });
  t.deepEqual(
    nodeShouldRun(
      ds(),
      node('a', {
        taints: [
          { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
          { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
        ],
      }),
    ),
    { run: true, stay: true },
  );
});

test('per-node plan: create where missing, delete duplicates, misplaced and finished pods', (t) => {
  const nodes = [node('a'), node('b'), node('c', { taints: [{ key: 'x', effect: 'NoExecute' }] }), node('d')];
  const pods = [dpod('a'), dpod('a'), dpod('c'), dpod('d', { phase: 'Failed' }), dpod('b', { deleting: true })];
  const plan = planNodes(ds(), nodes, pods);
  t.deepEqual(plan.create, ['b'], 'b has only a terminating pod; d waits one sync after its failed pod');
  t.deepEqual(plan.delete.map((p) => p.spec.nodeName).sort(), ['a', 'c', 'd']);
  t.is(plan.delete.find((p) => p.spec.nodeName === 'a')!.metadata.name, pods[1].metadata.name, 'the newer duplicate goes');
  t.deepEqual(planNodes(ds(), [node('e')], [dpod('e', { bound: false })]).create, [], 'an unbound pod pinned to the node counts');
});

test('rolling update replaces outdated pods within maxUnavailable; unavailable outdated pods go at once', (t) => {
  const nodes = [node('a'), node('b'), node('c')];
  const old = [dpod('a', { hash: 'old' }), dpod('b', { hash: 'old' }), dpod('c', { hash: 'old' })];
  t.is(rollingDeletes(ds(), nodes, old, 'new', 0).length, 1);
  t.is(rollingDeletes(ds({ maxUnavailable: 2 }), nodes, old, 'new', 0).length, 2);
  const inFlight = [dpod('a', { hash: 'new', ready: false }), dpod('b', { hash: 'old' }), dpod('c', { hash: 'old', ready: false })];
  t.deepEqual(
    rollingDeletes(ds(), nodes, inFlight, 'new', 0).map((p) => p.spec.nodeName),
    ['c'],
    'a new pod not ready yet uses the budget; a broken old one goes anyway',
  );
  t.deepEqual(rollingDeletes(ds({ type: 'OnDelete' }), nodes, old, 'new', 0), []);
});

test('DaemonSet status', (t) => {
  const nodes = [node('a'), node('b'), node('c', { taints: [{ key: 'x', effect: 'NoSchedule' }] })];
  const pods = [dpod('a', { hash: 'h2' }), dpod('b', { ready: false }), dpod('c')];
  t.deepEqual(daemonSetStatus(ds(), nodes, pods, 'h2', 0), {
    currentNumberScheduled: 2,
    numberMisscheduled: 1,
    desiredNumberScheduled: 2,
    numberReady: 1,
    observedGeneration: 2,
    updatedNumberScheduled: 1,
    numberAvailable: 1,
    numberUnavailable: 1,
  });
});

test("DaemonSet status keeps the conditions a client wrote (upstream's controller copies the status and sets only its counts)", (t) => {
  const withConds = { ...ds(), status: { conditions: [{ type: 'StatusUpdate', status: 'True', reason: 'E2E', message: 'Set from e2e test' }] } };
  t.deepEqual(daemonSetStatus(withConds, [node('a')], [dpod('a', { hash: 'h2' })], 'h2', 0).conditions, withConds.status.conditions);
});

const sts = (o: { replicas?: number; policy?: string; partition?: number; type?: string } = {}): Obj => ({
  metadata: { name: 'db', generation: 1 },
  spec: {
    replicas: o.replicas ?? 3,
    serviceName: 'db',
    podManagementPolicy: o.policy,
    updateStrategy: { type: o.type ?? 'RollingUpdate', rollingUpdate: { partition: o.partition ?? 0 } },
  },
});
const spod = (n: number, o: { rev?: string; ready?: boolean; deleting?: boolean; phase?: string } = {}): Obj => ({
  metadata: { name: `db-${n}`, labels: { 'controller-revision-hash': o.rev ?? 'db-r1' }, deletionTimestamp: o.deleting ? 'x' : undefined },
  status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
});

test("StatefulSet status keeps the conditions a client wrote, as upstream's controller does", (t) => {
  const conditions = [{ type: 'StatusPatched', status: 'True' }];
  t.deepEqual(statefulSetStatus({ ...sts({ replicas: 1 }), status: { conditions } }, [spod(0)], 'db-r1', 0).conditions, conditions);
});

test('ordinals come from <set>-<n> names only', (t) => {
  t.is(ordinalOf('db', spod(12)), 12);
  t.is(ordinalOf('db', { metadata: { name: 'db-x' } }), -1);
  t.is(ordinalOf('db', { metadata: { name: 'db-01' } }), -1);
  t.is(ordinalOf('d', spod(1)), -1);
  const id = podIdentity(sts(), 2, 'db-r1');
  const spec: Record<string, string> = {};
  id.spec(spec);
  t.deepEqual([id.name, spec.hostname, spec.subdomain, id.labels['apps.kubernetes.io/pod-index']], ['db-2', 'db-2', 'db', '2']);
});

test('OrderedReady creates one pod at a time after the previous is Ready; Parallel all at once', (t) => {
  t.deepEqual(planStatefulSet(sts(), [], 'db-r1'), { create: [0], delete: [] });
  t.deepEqual(planStatefulSet(sts(), [spod(0, { ready: false })], 'db-r1'), { create: [], delete: [] });
  t.deepEqual(planStatefulSet(sts(), [spod(0)], 'db-r1'), { create: [1], delete: [] });
  t.deepEqual(planStatefulSet(sts({ policy: 'Parallel' }), [spod(1)], 'db-r1'), { create: [0, 2], delete: [] });
  const failed = spod(1, { phase: 'Failed' });
  t.deepEqual(planStatefulSet(sts(), [spod(0), failed, spod(2)], 'db-r1'), { create: [], delete: [failed] });
});

test('scale-down removes the highest ordinal first, one at a time, waiting for it to go', (t) => {
  const pods = [spod(0), spod(1), spod(2), spod(3)];
  t.deepEqual(
    planStatefulSet(sts({ replicas: 2 }), pods, 'db-r1').delete.map((p) => p.metadata.name),
    ['db-3'],
  );
  t.deepEqual(planStatefulSet(sts({ replicas: 2 }), [spod(0), spod(1), spod(2), spod(3, { deleting: true })], 'db-r1').delete, []);
  t.deepEqual(
    planStatefulSet(sts({ replicas: 2, policy: 'Parallel' }), pods, 'db-r1').delete.map((p) => p.metadata.name),
    ['db-3', 'db-2'],
  );
  t.deepEqual(planStatefulSet(sts({ replicas: 2 }), [spod(0, { ready: false }), spod(1), spod(2)], 'db-r1').delete, [], 'an unhealthy pod holds scale-down');
});

test('rolling update goes from the highest ordinal down to the partition, one Ready pod at a time', (t) => {
  const pods = [spod(0), spod(1), spod(2)];
  t.deepEqual(
    planStatefulSet(sts(), pods, 'db-r2').delete.map((p) => p.metadata.name),
    ['db-2'],
  );
  t.deepEqual(planStatefulSet(sts(), [spod(0), spod(1), spod(2, { rev: 'db-r2', ready: false })], 'db-r2').delete, []);
  t.deepEqual(
    planStatefulSet(sts(), [spod(0), spod(1), spod(2, { rev: 'db-r2' })], 'db-r2').delete.map((p) => p.metadata.name),
    ['db-1'],
  );
  t.deepEqual(planStatefulSet(sts({ partition: 2 }), [spod(0), spod(1), spod(2, { rev: 'db-r2' })], 'db-r2').delete, [], 'below the partition nothing moves');
  t.deepEqual(planStatefulSet(sts({ type: 'OnDelete' }), pods, 'db-r2').delete, []);
});

test('StatefulSet status: revisions move to the update revision when every pod has it', (t) => {
  const set = { ...sts(), status: { currentRevision: 'db-r1' } };
  const mid = statefulSetStatus(set, [spod(0), spod(1), spod(2, { rev: 'db-r2', ready: false })], 'db-r2', 0);
  t.like(mid, { replicas: 3, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 1, currentRevision: 'db-r1', updateRevision: 'db-r2' });
  const done = statefulSetStatus(
    set,
    [0, 1, 2].map((n) => spod(n, { rev: 'db-r2' })),
    'db-r2',
    0,
  );
  t.like(done, { currentRevision: 'db-r2', currentReplicas: 3, updatedReplicas: 3, availableReplicas: 3 });
});
