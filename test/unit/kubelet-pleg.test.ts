// The PLEG's relist diff (agents/kubelet/pleg.ts): which pods a runtime relist sends back to the
// pod workers, from two successive listings of sandboxes and containers.
import test from 'ava';
import { podSignatures, relistEvents, type PlegEvent } from '../../agents/kubelet/pleg.ts';
import type { ContainerInfo, SandboxInfo } from '../../agents/kubelet/pods/runtime.ts';

const sb = (uid: string, id: string, ready = true): SandboxInfo => ({ id, uid, namespace: 'ns', name: uid, attempt: 0, ready, createdAt: 1 });
const ctr = (uid: string, id: string, state: string): ContainerInfo => ({
  id,
  sandboxId: `s-${uid}`,
  uid,
  name: 'c',
  attempt: 0,
  state,
  createdAt: 1,
  hash: 'h',
  imageRef: 'img',
});
const byUid = (events: PlegEvent[]) => Object.fromEntries(events.map((e) => [e.uid, e.reason]));
const known =
  (...uids: string[]) =>
  (uid: string) =>
    uids.includes(uid);

test('first relist: every pod the runtime has is changed', (t) => {
  const now = podSignatures([sb('a', 's1')], [ctr('a', 'c1', 'RUNNING'), ctr('b', 'c2', 'EXITED')]);
  t.deepEqual(byUid(relistEvents(new Map(), now, known('a', 'b'))), { a: 'changed', b: 'changed' });
});

test('nothing changed and every pod known: no events', (t) => {
  const list = () => podSignatures([sb('a', 's1')], [ctr('a', 'c1', 'RUNNING')]);
  t.deepEqual(relistEvents(list(), list(), known('a')), []);
});

test('a container that exits, a new container, a sandbox no longer ready: that pod changed', (t) => {
  const before = podSignatures([sb('a', 's1'), sb('b', 's2'), sb('c', 's3')], [ctr('a', 'c1', 'RUNNING'), ctr('b', 'c2', 'RUNNING')]);
  const after = podSignatures(
    [sb('a', 's1'), sb('b', 's2'), sb('c', 's3', false)],
    [ctr('a', 'c1', 'EXITED'), ctr('b', 'c2', 'RUNNING'), ctr('b', 'c3', 'CREATED')],
  );
  t.deepEqual(byUid(relistEvents(before, after, known('a', 'b', 'c'))), { a: 'changed', b: 'changed', c: 'changed' });
});

test('unchanged runtime state of a pod no source knows: requeued as unknown, every relist', (t) => {
  const list = () => podSignatures([sb('gone', 's1')], [ctr('gone', 'c1', 'EXITED')]);
  t.deepEqual(relistEvents(list(), list(), known()), [{ uid: 'gone', reason: 'unknown-pod' }]);
});

test('a pod whose sandboxes and containers all left the runtime: gone', (t) => {
  const before = podSignatures([sb('a', 's1'), sb('b', 's2')], []);
  const after = podSignatures([sb('a', 's1')], []);
  t.deepEqual(relistEvents(before, after, known('a', 'b')), [{ uid: 'b', reason: 'gone' }]);
});

test('signatures: one per uid, covering all of its sandboxes and containers', (t) => {
  const sig = podSignatures([sb('a', 's1'), sb('a', 's0', false)], [ctr('a', 'c1', 'RUNNING')]);
  t.deepEqual([...sig.keys()], ['a']);
  t.not(sig.get('a'), podSignatures([sb('a', 's1'), sb('a', 's0', true)], [ctr('a', 'c1', 'RUNNING')]).get('a'));
});

test('signatures do not depend on the order the runtime lists in', (t) => {
  const cs = [ctr('a', 'c1', 'RUNNING'), ctr('a', 'c2', 'EXITED')];
  t.is(podSignatures([sb('a', 's1')], cs).get('a'), podSignatures([sb('a', 's1')], [...cs].reverse()).get('a'));
});
