// Static pods from manifests, and the mirror pods that show them in the API.
import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import { planMirrors } from '../../agents/kubelet/static/mirror-pods.ts';
import { CONFIG_HASH, CONFIG_MIRROR, isMirrorPod, mirrorPod, parseManifest, staticPod } from '../../agents/kubelet/static/static-pods.ts';

const manifest = `apiVersion: v1
kind: Pod
metadata: {name: web, labels: {tier: static}}
spec:
  containers:
  - name: c
    image: registry.example/app:1.0
    ports: [{containerPort: 80}]
    livenessProbe: {httpGet: {port: 80}}
`;

test('manifests: one Pod, several documents, or a List; anything else is refused', (t) => {
  t.is(parseManifest(manifest).length, 1);
  t.is(parseManifest(`${manifest}---\n${manifest}`).length, 2);
  t.is(parseManifest('{"kind":"List","items":[{"kind":"Pod","metadata":{"name":"a"}}]}').length, 1);
  t.throws(() => parseManifest('kind: Service\nmetadata: {name: s}\n'), { message: /expected kind Pod/ });
  t.throws(() => parseManifest('kind: [unclosed'));
});

test('a static pod: name suffixed with the node, default namespace, config annotations, defaults, NoExecute toleration', (t) => {
  const p = staticPod(parseManifest(manifest)[0], 'Node-1', '/etc/manifests/web.yaml', 'seen-time');
  t.is(p.metadata!.name, 'web-node-1');
  t.is(p.metadata!.namespace, 'default');
  t.is(p.spec!.nodeName, 'Node-1');
  t.is(p.metadata!.annotations!['kubernetes.io/config.source'], 'file');
  t.is(p.metadata!.annotations![CONFIG_HASH], p.metadata!.uid!);
  t.is(p.metadata!.annotations!['kubernetes.io/config.seen'], 'seen-time');
  t.regex(p.metadata!.uid!, /^[0-9a-f]{32}$/);
  t.is(p.spec!.restartPolicy, 'Always');
  t.is(p.spec!.containers[0].imagePullPolicy, 'IfNotPresent');
  t.is(p.spec!.containers[0].ports![0].protocol, 'TCP');
  t.is(p.spec!.containers[0].livenessProbe!.periodSeconds, 10);
  t.deepEqual(p.spec!.tolerations, [{ operator: 'Exists', effect: 'NoExecute' }]);
  t.is(p.status!.qosClass, 'BestEffort');
});

test('the UID is stable for the same manifest, node and file, and changes with any of them', (t) => {
  const raw = parseManifest(manifest)[0];
  const uid = (node: string, file: string, r: V1Pod = raw) => staticPod(r, node, file).metadata!.uid;
  t.is(uid('n1', '/f'), uid('n1', '/f'));
  t.not(uid('n1', '/f'), uid('n2', '/f'));
  t.not(uid('n1', '/f'), uid('n1', '/g'));
  t.not(uid('n1', '/f'), uid('n1', '/f', parseManifest(manifest.replace('app:1.0', 'app:2.0'))[0]));
});

test('mirror pods: created for new static pods, replaced when stale or being deleted, removed when orphaned', (t) => {
  const s1 = staticPod(parseManifest(manifest)[0], 'n1', '/f');
  const m1 = { ...mirrorPod(s1, { name: 'n1', uid: 'node-uid' }), metadata: { ...mirrorPod(s1, { name: 'n1' }).metadata, uid: 'm1' } } as V1Pod;
  t.true(isMirrorPod(m1));
  t.is(m1.metadata!.annotations![CONFIG_MIRROR], s1.metadata!.uid!);
  t.deepEqual(mirrorPod(s1, { name: 'n1', uid: 'node-uid' }).metadata!.ownerReferences, [
    { apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node-uid', controller: true },
  ]);
  t.deepEqual(planMirrors([s1], []), { create: [s1], remove: [] });
  t.deepEqual(planMirrors([s1], [m1]), { create: [], remove: [] });
  const stale = { ...m1, metadata: { ...m1.metadata, annotations: { ...m1.metadata!.annotations, [CONFIG_MIRROR]: 'old' } } };
  t.deepEqual(planMirrors([s1], [stale]), { create: [s1], remove: [stale] });
  const deleting = { ...m1, metadata: { ...m1.metadata, deletionTimestamp: new Date() } };
  t.deepEqual(planMirrors([s1], [deleting]), { create: [s1], remove: [deleting] });
  t.deepEqual(planMirrors([], [m1]), { create: [], remove: [m1] });
  const regular: V1Pod = { metadata: { name: s1.metadata!.name, namespace: 'default', uid: 'r' }, spec: { containers: [] } };
  t.deepEqual(planMirrors([s1], [regular]), { create: [], remove: [] }, 'a regular pod of that name is left alone');
});
