// The kubelet's pod sources merged (agents/kubelet/pod-sources.ts): API pods, static pods from the
// manifest directory, and mirror pods; which pod runs under a uid and what each API event requeues.
import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import { PodSources, statusEcho } from '../../agents/kubelet/pod-sources.ts';
import { CONFIG_MIRROR, CONFIG_SOURCE } from '../../agents/kubelet/static/static-pods.ts';

const pod = (uid: string, name: string, annotations?: Record<string, string>, image = 'api'): V1Pod => ({
  metadata: { uid, name, namespace: 'kube-system', annotations, resourceVersion: '1' },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image }] },
});
const staticP = (uid: string, name: string) => pod(uid, name, { [CONFIG_SOURCE]: 'file' }, 'file');
const mirrorOf = (s: V1Pod, uid: string) => pod(uid, s.metadata!.name!, { [CONFIG_MIRROR]: s.metadata!.uid!, [CONFIG_SOURCE]: 'file' }, 'mirror');

function world(...statics: V1Pod[]) {
  const files = new Map(statics.map((p) => [p.metadata!.uid!, p]));
  return { files, sources: new PodSources(() => files) };
}

test('a static pod wins over an API pod of the same uid; the API pod runs otherwise', (t) => {
  const { files, sources } = world(staticP('u1', 'etcd-n1'));
  sources.track(pod('u1', 'etcd-n1'));
  sources.track(pod('u2', 'web'));
  t.is(sources.podFor('u1')!.spec!.containers[0].image, 'file');
  t.is(sources.podFor('u2')!.spec!.containers[0].image, 'api');
  files.delete('u1'); // the manifest file removed: the static source no longer has it
  t.is(sources.podFor('u1')!.spec!.containers[0].image, 'api');
  t.is(sources.podFor('nope'), undefined);
});

test('all(): API pods then static pods; mirror pods are never run', (t) => {
  const s = staticP('s1', 'etcd-n1');
  const { sources } = world(s);
  sources.track(pod('a1', 'web'));
  sources.track(mirrorOf(s, 'm1'));
  t.deepEqual(
    sources.all().map((p) => p.metadata!.uid),
    ['a1', 's1'],
  );
  t.deepEqual(
    sources.mirrors().map((p) => p.metadata!.uid),
    ['m1'],
  );
  t.deepEqual(
    sources.statics().map((p) => p.metadata!.uid),
    ['s1'],
  );
});

test('an API pod event requeues that pod; a mirror pod event requeues its static pod and the mirrors', (t) => {
  const s = staticP('s1', 'etcd-n1');
  const { sources } = world(s);
  t.deepEqual(sources.track(pod('a1', 'web')), { requeue: 'a1', mirrorsChanged: false });
  t.deepEqual(sources.forget(pod('a1', 'web')), { requeue: 'a1', mirrorsChanged: false });
  t.is(sources.podFor('a1'), undefined);
  // a new mirror object: the static pod's status must be written to it again
  t.deepEqual(sources.track(mirrorOf(s, 'm1')), { requeue: 's1', statusStale: 's1', mirrorsChanged: true });
  // the same mirror object updated: no status rewrite
  t.deepEqual(sources.track(mirrorOf(s, 'm1')), { requeue: 's1', statusStale: undefined, mirrorsChanged: true });
  // recreated under a new uid: rewrite again
  t.is(sources.track(mirrorOf(s, 'm2')).statusStale, 's1');
  t.deepEqual(sources.forget(mirrorOf(s, 'm2')), { mirrorsChanged: true });
  t.deepEqual(sources.mirrors(), []);
});

test('status goes to an API pod always, to a static pod only through a live mirror', (t) => {
  const s = staticP('s1', 'etcd-n1');
  const { sources } = world(s);
  t.true(sources.statusWritable(pod('a1', 'web')));
  t.false(sources.statusWritable(s));
  const m = mirrorOf(s, 'm1');
  sources.track(m);
  t.true(sources.statusWritable(s));
  sources.track({ ...m, metadata: { ...m.metadata, deletionTimestamp: new Date() } });
  t.false(sources.statusWritable(s));
});

test("statusEcho: an update that only carries the kubelet's own status is not a change", (t) => {
  const old = pod('a1', 'web');
  const echo: V1Pod = { ...old, metadata: { ...old.metadata, resourceVersion: '2' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
  t.true(statusEcho(echo, old));
  t.false(statusEcho({ ...echo, metadata: { ...echo.metadata, labels: { a: 'b' } } }, old));
  t.false(statusEcho({ ...echo, status: { conditions: [{ type: 'DisruptionTarget', status: 'True' }] } }, old));
  t.false(statusEcho({ ...echo, status: { phase: 'Failed' } }, old));
});

test("statusEcho: the kubelet's own status that moved the phase to Running is no change; its own terminal phase is", (t) => {
  const old: V1Pod = { ...pod('a1', 'web'), status: { phase: 'Pending' } };
  const running: V1Pod = { ...old, metadata: { ...old.metadata, resourceVersion: '3' }, status: { phase: 'Running', podIP: '10.244.0.5' } };
  t.false(statusEcho(running, old), 'a phase change of unknown origin is a change');
  t.true(statusEcho(running, old, true));
  t.false(statusEcho({ ...running, status: { phase: 'Succeeded' } }, old, true));
  t.false(statusEcho({ ...running, metadata: { ...running.metadata, labels: { a: 'b' } } }, old, true));
});
