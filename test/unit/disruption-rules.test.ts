// The disruption controller's pure decisions (controllers/disruption/rules.ts) against upstream's
// pkg/controller/disruption behaviour: selector rule, expected counts and rounding, pending
// evictions and their timeout, healthy counting, and the DisruptionAllowed condition.
import test from 'ava';
import type { Obj } from '../../agents/control-plane/apiserver/strategies/types.ts';
import {
  countHealthy,
  DELETION_TIMEOUT_MS,
  expectedCounts,
  failSafeStatus,
  pdbSelects,
  pdbStatus,
  pendingDisruptions,
} from '../../agents/control-plane/controllers/disruption/rules.ts';

const pod = (name: string, o: { ready?: boolean; owner?: string; deleting?: boolean; labels?: Record<string, string> } = {}): Obj => {
  const ownerReferences = o.owner ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.owner, uid: `uid-${o.owner}`, controller: true }] : undefined;
  return podWith(name, o, ownerReferences);
};
const podWith = (
  name: string,
  o: { ready?: boolean; deleting?: boolean; labels?: Record<string, string> },
  ownerReferences: Obj['metadata']['ownerReferences'],
): Obj => ({
  metadata: {
    name,
    namespace: 'ns',
    labels: o.labels ?? { app: 'a' },
    ...(ownerReferences ? { ownerReferences } : {}),
    ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
  },
  status: { conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
});
const budget = (spec: Record<string, unknown>, status: Record<string, unknown> = {}): Obj => ({
  metadata: { name: 'b', namespace: 'ns', generation: 1 },
  spec,
  status,
});
const rsOf = (replicas: Record<string, number>) => (ref: { uid: string; name: string }) =>
  ref.name in replicas ? { uid: ref.uid, replicas: replicas[ref.name] } : undefined;

test('an empty selector selects every pod, a missing one none, an invalid one none', (t) => {
  t.true(pdbSelects(budget({ selector: {} }), { x: 'y' }));
  t.false(pdbSelects(budget({}), { x: 'y' }));
  t.false(pdbSelects(budget({ selector: { matchExpressions: [{ key: 'a', operator: 'Near' }] } }), { a: 'b' }));
  t.true(pdbSelects(budget({ selector: { matchLabels: { app: 'a' } } }), { app: 'a' }));
});

test("integer minAvailable counts the selected pods; percentages round up against the owners' replicas", (t) => {
  const pods = [pod('p1', { owner: 'rs' }), pod('p2', { owner: 'rs' })];
  t.deepEqual(expectedCounts(budget({ minAvailable: 5 }), pods, rsOf({})), { expected: 2, desired: 5, unmanaged: [] });
  t.like(expectedCounts(budget({ minAvailable: '50%' }), pods, rsOf({ rs: 5 })), { expected: 5, desired: 3 });
  t.like(expectedCounts(budget({ maxUnavailable: '10%' }), pods, rsOf({ rs: 5 })), { expected: 5, desired: 4 });
  t.like(expectedCounts(budget({ maxUnavailable: 9 }), pods, rsOf({ rs: 5 })), { expected: 5, desired: 0 });
  t.deepEqual(expectedCounts(budget({ maxUnavailable: 1 }), [pod('solo')], rsOf({})), { expected: 0, desired: 0, unmanaged: ['solo'] });
  t.throws(() => expectedCounts(budget({ maxUnavailable: 1 }), pods, rsOf({})), { message: 'found no controllers for pod "p1"' });
});

test('a recorded eviction counts until the pod is deleted or two minutes pass; unready and deleting pods are not healthy', (t) => {
  const now = Date.parse('2026-01-01T00:10:00Z');
  const recent = new Date(now - 1000).toISOString();
  const old = new Date(now - DELETION_TIMEOUT_MS - 1000).toISOString();
  const pods = [pod('p1'), pod('p2'), pod('p3', { ready: false }), pod('p4', { deleting: true }), pod('p5')];
  const pdb = budget({ minAvailable: 1 }, { disruptedPods: { p1: recent, p2: old, p4: recent, gone: recent } });
  const d = pendingDisruptions(pdb, pods, now);
  t.deepEqual(d.pending, { p1: recent });
  t.deepEqual(d.overdue, ['p2']);
  t.is(d.recheckAt, Date.parse(recent) + DELETION_TIMEOUT_MS);
  t.is(countHealthy(pods, d.pending, now), 2, 'p2 and p5');
});

test('the status allows healthy - desired disruptions, none without expected pods, and says why in its condition', (t) => {
  const now = new Date('2026-01-01T00:00:00Z');
  const st = pdbStatus(budget({}), { currentHealthy: 3, desiredHealthy: 2, expected: 3, pending: {} }, now);
  t.like(st, { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, observedGeneration: 1 });
  t.deepEqual(st.conditions, [
    { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' },
  ]);
  t.is(pdbStatus(budget({}), { currentHealthy: 3, desiredHealthy: 0, expected: 0, pending: {} }, now).disruptionsAllowed, 0);
  const later = pdbStatus(
    budget({}, st as unknown as Record<string, unknown>),
    { currentHealthy: 4, desiredHealthy: 2, expected: 4, pending: {} },
    new Date('2026-01-01T01:00:00Z'),
  );
  t.is(later.conditions?.[0].lastTransitionTime, '2026-01-01T00:00:00Z', 'the transition time stays while the status does');
  const failed = failSafeStatus(budget({}, { disruptionsAllowed: 2 }), 'found no controllers for pod "x"', now);
  t.like(failed, { disruptionsAllowed: 0 });
  t.like(failed.conditions?.[0], { status: 'False', reason: 'SyncFailed', message: 'found no controllers for pod "x"' });
});
