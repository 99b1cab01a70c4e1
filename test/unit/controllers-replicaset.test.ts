// Shared workload helpers and the ReplicaSet decisions: selectors, availability, template hash,
// int-or-percent, pod templates, slow-start batches, expectations, scale-down order, status.
import test from 'ava';
import type { Obj } from '../../agents/control-plane/apiserver/strategies/types.ts';
import { Expectations } from '../../agents/control-plane/controllers/workloads/expectations.ts';
import { fnv32a, isAvailable, sameTemplate, scaledValue, selectorMatcher, templateHash } from '../../agents/control-plane/controllers/workloads/meta.ts';
import { createInBatches, podFromTemplate, slowStartBatches } from '../../agents/control-plane/controllers/workloads/pod-template.ts';
import {
  deletionOrder,
  nextAvailability,
  podsToDelete,
  replicaDiff,
  replicaSetStatus,
} from '../../agents/control-plane/controllers/workloads/replicaset-rules.ts';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function pod(
  name: string,
  o: {
    node?: string;
    phase?: string;
    ready?: boolean;
    readySince?: number;
    created?: number;
    restarts?: number;
    cost?: string;
    labels?: Record<string, string>;
  } = {},
): Obj {
  return {
    metadata: {
      name,
      uid: name,
      creationTimestamp: at(o.created ?? 0),
      labels: o.labels ?? { app: 'x' },
      annotations: o.cost ? { 'controller.kubernetes.io/pod-deletion-cost': o.cost } : undefined,
    },
    spec: { nodeName: o.node },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: at(o.readySince ?? 0) }],
      containerStatuses: [{ restartCount: o.restarts ?? 0 }],
    },
  };
}

test('selectorMatcher: matchLabels and expressions; empty selectors match nothing', (t) => {
  const m = selectorMatcher({ matchLabels: { app: 'a' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['x', 'y'] }] });
  t.true(m({ app: 'a', tier: 'y' }));
  t.false(m({ app: 'a', tier: 'z' }));
  t.false(selectorMatcher({})({ app: 'a' }));
  t.false(selectorMatcher(undefined)({ app: 'a' }));
  t.false(selectorMatcher({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] })({ a: '1' }));
});

test('isAvailable honours minReadySeconds', (t) => {
  const p = pod('p', { readySince: 10 });
  t.true(isAvailable(p, 0, T0));
  t.false(isAvailable(p, 5, T0 + 14_000));
  t.true(isAvailable(p, 5, T0 + 15_000));
  t.false(isAvailable(pod('q', { ready: false }), 0, T0));
});

test('templateHash: stable, label-safe, sensitive to the template and the collision count', (t) => {
  const tpl = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i:1' }] } };
  const h = templateHash(tpl);
  t.regex(h, /^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
  t.is(templateHash(structuredClone(tpl)), h);
  t.is(templateHash({ spec: { containers: [{ image: 'i:1', name: 'c' }] }, metadata: { labels: { app: 'a' } } }), h, 'key order does not matter');
  t.not(templateHash({ ...tpl, spec: { containers: [{ name: 'c', image: 'i:2' }] } }), h);
  t.not(templateHash(tpl, 1), h);
  t.is(fnv32a(''), 0x811c9dc5);
  t.is(fnv32a('a'), 0xe40c292c);
});

test('sameTemplate ignores pod-template-hash only', (t) => {
  const a = { metadata: { labels: { app: 'a', 'pod-template-hash': 'x1' } }, spec: { containers: [{ image: 'i' }] } };
  t.true(sameTemplate(a, { metadata: { labels: { app: 'a' } }, spec: { containers: [{ image: 'i' }] } }, 'pod-template-hash'));
  t.false(sameTemplate(a, { metadata: { labels: { app: 'b' } }, spec: { containers: [{ image: 'i' }] } }, 'pod-template-hash'));
  t.true(sameTemplate({ metadata: { labels: { 'pod-template-hash': 'q' } }, spec: {} }, { spec: {} }, 'pod-template-hash'));
});

test('scaledValue: ints, percents rounded up or down, strings of ints, bad input', (t) => {
  t.is(scaledValue(2, 10, true, '25%'), 2);
  t.is(scaledValue('25%', 10, true, 0), 3);
  t.is(scaledValue('25%', 10, false, 0), 2);
  t.is(scaledValue(undefined, 4, true, '25%'), 1);
  t.is(scaledValue('3', 10, true, 0), 3);
  t.throws(() => scaledValue('abc', 10, true, 0));
});

test('podFromTemplate: labels, annotations, finalizers, owner, generateName or name, spec hook', (t) => {
  const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u', controller: true, blockOwnerDeletion: true };
  const tpl = { metadata: { labels: { app: 'a' }, annotations: { n: '1' } }, spec: { containers: [{ name: 'c', image: 'i' }] } };
  const p = podFromTemplate(tpl, { namespace: 'ns', owner, labels: { extra: 'y' }, finalizers: ['f/x'], spec: (s) => (s.hostname = 'h') });
  t.is(p.metadata.generateName, 'rs-');
  t.is(p.metadata.name, undefined);
  t.deepEqual(p.metadata.labels, { app: 'a', extra: 'y' });
  t.deepEqual(p.metadata.annotations, { n: '1' });
  t.deepEqual(p.metadata.finalizers, ['f/x']);
  t.deepEqual(p.metadata.ownerReferences, [owner]);
  t.is(p.spec.hostname, 'h');
  t.is(tpl.spec.containers.length, 1);
  t.false('hostname' in tpl.spec, 'the template is not modified');
  t.is(podFromTemplate(tpl, { namespace: 'ns', owner, name: 'db-0' }).metadata.name, 'db-0');
});

test('slow start: 1, 2, 4 ... and it stops after a failing batch', async (t) => {
  t.deepEqual(slowStartBatches(10), [1, 2, 4, 3]);
  t.deepEqual(slowStartBatches(0), []);
  let calls = 0;
  const r = await createInBatches(10, async (i) => {
    calls++;
    if (i === 2) throw new Error('quota');
  });
  t.is(calls, 3, 'batches of 1 and 2, then stop');
  t.is(r.done, 2);
  t.is(r.skipped, 7);
  t.is((r.error as Error).message, 'quota');
  t.deepEqual(await createInBatches(3, async () => undefined), { done: 3, skipped: 0 });
});

test('expectations: satisfied once every expected create and delete is seen, or after the TTL', (t) => {
  let now = 0;
  const e = new Expectations(1000, () => now);
  t.true(e.satisfied('k'));
  e.expect('k', 2, ['ns/p1']);
  t.false(e.satisfied('k'));
  e.creationObserved('k');
  e.creationObserved('k');
  t.false(e.satisfied('k'));
  e.deletionObserved('k', 'ns/p1');
  t.true(e.satisfied('k'));
  e.expect('k', 1);
  now = 1500;
  t.true(e.satisfied('k'), 'lapsed');
});

test('replicaDiff caps at the burst size', (t) => {
  t.is(replicaDiff(10, 3), 7);
  t.is(replicaDiff(2, 10), -8);
  t.is(replicaDiff(1000, 0, 500), 500);
  t.is(replicaDiff(3, 3), 0);
});

test('scale-down order: unscheduled, pending, not ready, low cost, doubled-up, recently ready, restarts, newer', (t) => {
  const pods = [
    pod('old-ready', { node: 'a', readySince: 1, created: 1 }),
    pod('unscheduled', { phase: 'Pending', ready: false }),
    pod('pending', { node: 'b', phase: 'Pending', ready: false }),
    pod('not-ready', { node: 'c', ready: false }),
    pod('cheap', { node: 'd', readySince: 1, cost: '-5' }),
  ];
  t.deepEqual(
    deletionOrder(pods).map((p) => p.metadata.name),
    ['unscheduled', 'pending', 'not-ready', 'cheap', 'old-ready'],
  );
  const doubled = [pod('alone', { node: 'x' }), pod('pair1', { node: 'y', created: 1 }), pod('pair2', { node: 'y', created: 2 })];
  t.deepEqual(
    podsToDelete(doubled, 1).map((p) => p.metadata.name),
    ['pair2'],
    'doubled-up first, then newer',
  );
  const ready = [pod('long', { node: 'a', readySince: 1 }), pod('recent', { node: 'b', readySince: 50 })];
  t.is(podsToDelete(ready, 1)[0].metadata.name, 'recent');
  const restarts = [pod('calm', { node: 'a' }), pod('flappy', { node: 'b', restarts: 4 })];
  t.is(podsToDelete(restarts, 1)[0].metadata.name, 'flappy');
  t.deepEqual(podsToDelete(pods, 0), []);
});

test('ReplicaSet status counts replicas, fully labeled, ready and available pods, and ReplicaFailure', (t) => {
  const rs = { metadata: { name: 'rs', generation: 3 }, spec: { minReadySeconds: 10, template: { metadata: { labels: { app: 'x', v: '1' } } } } } as Obj;
  const pods = [pod('a', { readySince: 0, labels: { app: 'x', v: '1' } }), pod('b', { readySince: 95 }), pod('c', { ready: false })];
  const s = replicaSetStatus(rs, pods, T0 + 100_000);
  t.deepEqual(s, { replicas: 3, fullyLabeledReplicas: 1, readyReplicas: 2, availableReplicas: 1, observedGeneration: 3 });
  const failed = replicaSetStatus(rs, pods, T0, { reason: 'FailedCreate', message: 'quota' });
  t.like(failed.conditions[0], { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota' });
  const cleared = replicaSetStatus({ ...rs, status: failed }, pods, T0);
  t.is(cleared.conditions, undefined, 'the condition goes once creation works again');
  t.is(nextAvailability(pods, 10, T0 + 100_000), T0 + 105_000);
  t.is(nextAvailability(pods, 0, T0), undefined);
});
