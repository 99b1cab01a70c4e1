// Deployment decisions: fenceposts, how far new and old ReplicaSets move in a rolling update,
// proportional scaling, Recreate, revisions and history, status and conditions.
import test from 'ava';
import type { Obj } from '../../agents/control-plane/apiserver/strategies/types.ts';
import {
  activeOrLatest,
  fenceposts,
  isScalingEvent,
  maxSurge,
  maxUnavailable,
  newSetTarget,
  oldPodsRunning,
  oldSetTargets,
  scaleTargets,
} from '../../agents/control-plane/controllers/workloads/deployment-rules.ts';
import {
  findNewSet,
  historyVictims,
  newSetFor,
  nextRevision,
  syncedAnnotations,
} from '../../agents/control-plane/controllers/workloads/deployment-revisions.ts';
import {
  calculateStatus,
  getCondition,
  isComplete,
  madeProgress,
  pauseCondition,
  rolloutStatus,
  setCondition,
} from '../../agents/control-plane/controllers/workloads/deployment-status.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;
const T0 = Date.parse('2025-01-01T00:00:00Z');
const iso = (s: number) => new Date(T0 + s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function dep(
  replicas: number,
  o: {
    surge?: number | string;
    unavailable?: number | string;
    type?: string;
    annotations?: Record<string, string>;
    paused?: boolean;
    status?: Obj['status'];
  } = {},
): Obj {
  return {
    metadata: { name: 'web', namespace: 'ns', uid: 'd-uid', generation: 2, annotations: o.annotations },
    spec: {
      replicas,
      paused: o.paused,
      progressDeadlineSeconds: 600,
      revisionHistoryLimit: 1,
      selector: { matchLabels: { app: 'web' } },
      strategy:
        o.type === 'Recreate' ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxSurge: o.surge ?? 1, maxUnavailable: o.unavailable ?? 1 } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'img:2' }] } },
    },
    status: o.status ?? {},
  };
}

function rs(
  name: string,
  replicas: number,
  available: number,
  o: { created?: number; revision?: number; ann?: Record<string, string>; statusReplicas?: number; image?: string } = {},
): Obj {
  return {
    metadata: {
      name,
      uid: name,
      creationTimestamp: iso(o.created ?? 0),
      generation: 1,
      annotations: { ...(o.revision ? { 'deployment.kubernetes.io/revision': String(o.revision) } : {}), ...(o.ann ?? {}) },
    },
    spec: {
      replicas,
      template: { metadata: { labels: { app: 'web', 'pod-template-hash': name } }, spec: { containers: [{ name: 'c', image: o.image ?? 'img:1' }] } },
    },
    status: { replicas: o.statusReplicas ?? replicas, readyReplicas: available, availableReplicas: available, observedGeneration: 1 },
  };
}

test('fenceposts: surge rounds up, unavailable down, and both zero means one unavailable', (t) => {
  t.deepEqual(fenceposts(dep(10, { surge: '25%', unavailable: '25%' })), { surge: 3, unavailable: 2 });
  t.deepEqual(fenceposts(dep(3, { surge: 0, unavailable: '10%' })), { surge: 0, unavailable: 1 });
  t.is(maxUnavailable(dep(2, { unavailable: 5 })), 2, 'never more than replicas');
  t.is(maxUnavailable(dep(3, { type: 'Recreate' })), 0);
  t.is(maxSurge(dep(3, { type: 'Recreate' })), 0);
});

test('the new set grows up to replicas + maxSurge in total', (t) => {
  const d = dep(4);
  t.is(newSetTarget(d, [rs('old', 4, 4)], undefined), 1);
  t.is(newSetTarget(d, [rs('old', 4, 4), rs('new', 1, 0)], rs('new', 1, 0)), 1, 'at the surge limit');
  t.is(newSetTarget(d, [rs('old', 2, 2), rs('new', 1, 1)], rs('new', 1, 1)), 3);
  t.is(newSetTarget(dep(4, { type: 'Recreate' }), [], undefined), 4);
});

test('old sets shrink only while replicas - maxUnavailable stay available', (t) => {
  const d = dep(4); // surge 1, unavailable 1: at least 3 available
  const old = rs('old', 4, 4, { created: 0 });
  t.deepEqual([...oldSetTargets(d, [old, rs('new', 1, 0)], [old], rs('new', 1, 0))], [['old', 3]]);
  // no room: the new pod is not available yet and the old set was already cut
  const old3 = rs('old', 3, 3);
  t.deepEqual([...oldSetTargets(d, [old3, rs('new', 1, 0)], [old3], rs('new', 1, 0))], []);
  // a set just scaled down still reports its old availability: it is not counted above its spec
  const stale = rs('old', 3, 4);
  t.deepEqual([...oldSetTargets(d, [stale, rs('new', 1, 1)], [stale], rs('new', 1, 1))], [['old', 2]]);
  // unhealthy old pods go first, within the budget
  const sick = rs('old', 4, 2);
  t.deepEqual([...oldSetTargets(d, [sick, rs('new', 1, 0)], [sick], rs('new', 1, 0))], [['old', 3]]);
  // oldest sets shrink first
  const a = rs('a', 2, 2, { created: 0 });
  const b = rs('b', 2, 2, { created: 10 });
  const n = rs('new', 2, 2, { created: 20 });
  t.deepEqual(
    [...oldSetTargets(dep(4, { surge: 2, unavailable: 1 }), [a, b, n], [a, b], n)],
    [
      ['a', 0],
      ['b', 1],
    ],
  );
});

test('scaling a Deployment mid-rollout spreads the change in proportion, leftovers to the largest set', (t) => {
  const d = dep(15, { surge: 3 });
  const ann = { 'deployment.kubernetes.io/desired-replicas': '10', 'deployment.kubernetes.io/max-replicas': '13' };
  const old = rs('old', 8, 8, { created: 0, ann });
  const nw = rs('new', 5, 0, { created: 10, ann });
  t.true(isScalingEvent(d, [old, nw]));
  t.deepEqual(Object.fromEntries(scaleTargets(d, nw, [old])), { old: 11, new: 7 });
  // one active set takes the new size whole
  t.deepEqual([...scaleTargets(dep(6), rs('new', 3, 3), [rs('old', 0, 0)])], [['new', 6]]);
  t.is(activeOrLatest(undefined, [rs('a', 0, 0, { created: 0 }), rs('b', 0, 0, { created: 5 })])!.metadata.name, 'b');
  // a saturated new set: the old ones go to zero
  const full = rs('new', 5, 5, { ann: { 'deployment.kubernetes.io/desired-replicas': '5' } });
  t.deepEqual([...scaleTargets(dep(5), full, [rs('old', 2, 2)])], [['old', 0]]);
  t.false(isScalingEvent(dep(10), [rs('x', 10, 10, { ann })]));
});

test('Recreate waits for every old pod to finish, terminating ones included', (t) => {
  const old = rs('old', 0, 0, { statusReplicas: 0 });
  const pods = (phase: string) => () => [{ metadata: { name: 'p', deletionTimestamp: iso(1) }, status: { phase } } as Obj];
  t.true(oldPodsRunning([old], pods('Running')));
  t.false(oldPodsRunning([old], pods('Succeeded')));
  t.false(oldPodsRunning([old], () => []));
  t.true(oldPodsRunning([rs('old', 0, 0, { statusReplicas: 1 })], () => []));
});

test('revisions: the new set is the oldest with the template; a new set gets hash, selector, annotations, owner', (t) => {
  const d = dep(3, { annotations: { 'kubernetes.io/change-cause': 'v2', 'kubectl.kubernetes.io/last-applied-configuration': '{}' } });
  const same1 = rs('x', 1, 1, { created: 5, image: 'img:2' });
  const same2 = rs('y', 1, 1, { created: 1, image: 'img:2' });
  t.is(findNewSet(d, [rs('o', 1, 1), same1, same2])!.metadata.name, 'y');
  t.is(findNewSet(d, [rs('o', 1, 1)]), undefined);
  t.is(nextRevision([rs('a', 0, 0, { revision: 3 }), rs('b', 0, 0, { revision: 7 })]), 8n);
  t.is(nextRevision([]), 1n);
  const n = newSetFor(d, 4n, 1) as Loose;
  const hash = n.metadata.labels['pod-template-hash'];
  t.is(n.metadata.name, `web-${hash}`);
  t.is(n.spec.selector.matchLabels['pod-template-hash'], hash);
  t.is(n.spec.template.metadata.labels['pod-template-hash'], hash);
  t.is(n.spec.replicas, 1);
  t.like(n.metadata.annotations, {
    'deployment.kubernetes.io/revision': '4',
    'kubernetes.io/change-cause': 'v2',
    'deployment.kubernetes.io/desired-replicas': '3',
    'deployment.kubernetes.io/max-replicas': '4',
  });
  t.false('kubectl.kubernetes.io/last-applied-configuration' in n.metadata.annotations);
  t.like(n.metadata.ownerReferences[0], { kind: 'Deployment', uid: 'd-uid', controller: true, blockOwnerDeletion: true });
  t.is(d.spec.template.metadata.labels['pod-template-hash'], undefined, 'the Deployment template is untouched');
});

test('revisions are int64 as upstream: an adopted set of revision 3546343826724305832 is followed by ...833, not a float', (t) => {
  const adopted = rs('adopted', 1, 1, { ann: { 'deployment.kubernetes.io/revision': '3546343826724305832' } });
  t.is(String(nextRevision([adopted])), '3546343826724305833');
  t.is((newSetFor(dep(1), nextRevision([adopted]), 1) as Loose).metadata.annotations['deployment.kubernetes.io/revision'], '3546343826724305833');
  t.like(syncedAnnotations(dep(1), rs('n', 1, 1, { revision: 2 }), nextRevision([adopted])), {
    'deployment.kubernetes.io/revision': '3546343826724305833',
    'deployment.kubernetes.io/revision-history': '2',
  });
});

test('a rolled-back-to set takes the next revision and remembers its old one', (t) => {
  const d = dep(3);
  const back = rs('old', 0, 0, { revision: 1, ann: { 'deployment.kubernetes.io/desired-replicas': '3' } });
  t.like(syncedAnnotations(d, back, 3n), { 'deployment.kubernetes.io/revision': '3', 'deployment.kubernetes.io/revision-history': '1' });
  const again = { ...back, metadata: { ...back.metadata, annotations: syncedAnnotations(d, back, 3n) } };
  t.like(syncedAnnotations(d, again, 5n), { 'deployment.kubernetes.io/revision': '5', 'deployment.kubernetes.io/revision-history': '1,3' });
  t.is(syncedAnnotations(d, again, 3n), undefined, 'nothing to change');
});

test('history keeps revisionHistoryLimit old sets, deleting only empty settled ones, oldest revision first', (t) => {
  const d = dep(3); // limit 1
  const olds = [rs('r3', 0, 0, { revision: 3 }), rs('r1', 0, 0, { revision: 1 }), rs('r2', 1, 1, { revision: 2 })];
  t.deepEqual(
    historyVictims(d, olds).map((r) => r.metadata.name),
    ['r1'],
    'r2 still has a pod',
  );
  t.deepEqual(historyVictims({ ...d, spec: { ...d.spec, revisionHistoryLimit: undefined } }, olds), []);
});

test('status: counts from the sets and the Available condition', (t) => {
  const d = dep(4);
  const s = calculateStatus(d, [rs('old', 1, 1), rs('new', 3, 2)], rs('new', 3, 2), T0);
  t.like(s, { observedGeneration: 2, replicas: 4, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: 1 });
  t.like(getCondition(s, 'Available'), { status: 'True', reason: 'MinimumReplicasAvailable' });
  const low = calculateStatus(d, [rs('new', 4, 1)], rs('new', 4, 1), T0);
  t.like(getCondition(low, 'Available'), { status: 'False', reason: 'MinimumReplicasUnavailable' });
  t.false(isComplete(d, s));
  t.true(isComplete(d, { updatedReplicas: 4, replicas: 4, availableReplicas: 4, observedGeneration: 2 }));
  t.false(isComplete(d, { updatedReplicas: 4, replicas: 4, availableReplicas: 4, observedGeneration: 1 }), 'a newer spec is not observed yet');
});

test('Progressing: updated on progress, NewReplicaSetAvailable when complete, timed out past the deadline', (t) => {
  const prev = {
    replicas: 4,
    updatedReplicas: 1,
    readyReplicas: 3,
    availableReplicas: 3,
    conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: '', lastUpdateTime: iso(0), lastTransitionTime: iso(0) }],
  };
  t.true(madeProgress(prev, { replicas: 4, updatedReplicas: 2, readyReplicas: 3, availableReplicas: 3 }));
  t.false(madeProgress(prev, { ...prev }));
  const moving = rolloutStatus(dep(4, { status: prev }), [rs('old', 2, 2), rs('new', 2, 2)], rs('new', 2, 2), T0 + 10_000);
  t.like(getCondition(moving, 'Progressing'), { status: 'True', reason: 'ReplicaSetUpdated', lastUpdateTime: iso(10), lastTransitionTime: iso(0) });
  const done = rolloutStatus(dep(4, { status: prev }), [rs('new', 4, 4)], rs('new', 4, 4), T0 + 20_000);
  t.like(getCondition(done, 'Progressing'), { status: 'True', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet "new" has successfully progressed.' });
  const stuck = rolloutStatus(dep(4, { status: prev }), [rs('old', 3, 3), rs('new', 1, 0)], rs('new', 1, 0), T0 + 601_000);
  t.like(getCondition(stuck, 'Progressing'), { status: 'False', reason: 'ProgressDeadlineExceeded' });
  const notYet = rolloutStatus(dep(4, { status: prev }), [rs('old', 3, 3), rs('new', 1, 0)], rs('new', 1, 0), T0 + 599_000);
  t.is(getCondition(notYet, 'Progressing')!.reason, 'ReplicaSetUpdated');
});

test('pause and resume show in Progressing; conditions keep their transition time', (t) => {
  t.like(pauseCondition(dep(1, { paused: true })), { status: 'Unknown', reason: 'DeploymentPaused' });
  const paused = { conditions: [{ type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused' }] };
  t.is(pauseCondition(dep(1, { paused: true, status: paused })), undefined);
  t.like(pauseCondition(dep(1, { status: paused })), { reason: 'DeploymentResumed' });
  t.is(
    pauseCondition(dep(1, { paused: true, status: { conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] } })),
    undefined,
  );
  const s: Record<string, any> = {};
  setCondition(s, { type: 'Available', status: 'True', reason: 'R', message: 'a' }, T0);
  setCondition(s, { type: 'Available', status: 'True', reason: 'R', message: 'b' }, T0 + 5000);
  t.like(s.conditions[0], { lastTransitionTime: iso(0), lastUpdateTime: iso(5), message: 'b' });
  setCondition(s, { type: 'Available', status: 'False', reason: 'X', message: 'c' }, T0 + 9000);
  t.like(s.conditions[0], { lastTransitionTime: iso(9), status: 'False' });
});
