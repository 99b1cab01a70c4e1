// ServiceAccount admission on pod create against the real API server: the default
// ServiceAccount, upstream's kube-api-access-<5> projected volume mounted in every container,
// automountServiceAccountToken on the pod and the ServiceAccount, a path already mounted, a
// missing ServiceAccount (403 with upstream's message, nothing stored), mirror pods, and the
// kube-root-ca.crt ConfigMap the volume projects (recreated, set back).
import test from 'ava';
import { type Cluster, readyNode, until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';

let c: Cluster;
const PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

fileCluster(async (cluster) => {
  c = cluster;
  await until('the default ServiceAccount', async () => (await c.kubectl(['get', 'sa', 'default'])).code === 0);
});

async function create(pod: Record<string, unknown>, kubeconfig?: string) {
  const r = await c.kubectl(['create', '-f', '-', '-o', 'json'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', ...pod }), kubeconfig });
  return { ...r, pod: r.code === 0 ? JSON.parse(r.stdout) : undefined };
}
const containers = (...names: string[]) => names.map((name) => ({ name, image: 'busybox' }));

test.serial('a pod gets the default ServiceAccount and the kube-api-access volume in every container', async (t) => {
  const { pod, stderr } = await create({ metadata: { name: 'plain' }, spec: { initContainers: containers('init'), containers: containers('a', 'b') } });
  t.truthy(pod, stderr);
  t.is(pod.spec.serviceAccountName, 'default');
  t.is(pod.spec.serviceAccount, 'default');
  const vols = pod.spec.volumes.filter((v: { name: string }) => v.name.startsWith('kube-api-access-'));
  t.is(vols.length, 1);
  t.regex(vols[0].name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  t.deepEqual(vols[0].projected, {
    sources: [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
    defaultMode: 420,
  });
  for (const ctr of [...pod.spec.initContainers, ...pod.spec.containers])
    t.deepEqual(ctr.volumeMounts, [{ name: vols[0].name, readOnly: true, mountPath: PATH }]);
});

test.serial('automountServiceAccountToken: the pod decides, else the ServiceAccount', async (t) => {
  const hasVolume = (p: { spec: { volumes?: { name: string }[] } }) => (p.spec.volumes ?? []).some((v) => v.name.startsWith('kube-api-access-'));
  const off = await create({ metadata: { name: 'off' }, spec: { automountServiceAccountToken: false, containers: containers('a') } });
  t.false(hasVolume(off.pod));
  t.is(off.pod.spec.containers[0].volumeMounts, undefined);
  await c.ok(['create', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'quiet' }, automountServiceAccountToken: false }),
  });
  const saOff = await create({ metadata: { name: 'sa-off' }, spec: { serviceAccountName: 'quiet', containers: containers('a') } });
  t.false(hasVolume(saOff.pod));
  const podOn = await create({
    metadata: { name: 'pod-on' },
    spec: { serviceAccountName: 'quiet', automountServiceAccountToken: true, containers: containers('a') },
  });
  t.true(hasVolume(podOn.pod));
  const legacy = await create({ metadata: { name: 'legacy' }, spec: { serviceAccount: 'quiet', containers: containers('a') } });
  t.is(legacy.pod.spec.serviceAccountName, 'quiet');
});

test.serial('a container with something mounted at the token path keeps it', async (t) => {
  const { pod } = await create({
    metadata: { name: 'own-mount' },
    spec: {
      volumes: [{ name: 'mine', emptyDir: {} }],
      containers: [
        { name: 'a', image: 'busybox', volumeMounts: [{ name: 'mine', mountPath: PATH }] },
        { name: 'b', image: 'busybox' },
      ],
    },
  });
  t.deepEqual(pod.spec.containers[0].volumeMounts, [{ name: 'mine', mountPath: PATH }]);
  t.is(pod.spec.containers[1].volumeMounts[0].mountPath, PATH);
  t.is(pod.spec.volumes.length, 2);
});

test.serial('a pod naming a missing ServiceAccount is refused and not stored', async (t) => {
  const r = await create({ metadata: { name: 'orphan' }, spec: { serviceAccountName: 'ghost', containers: containers('a') } });
  t.is(r.code, 1);
  t.regex(r.stderr, /pods "orphan" is forbidden: error looking up service account default\/ghost: serviceaccount "ghost" not found/);
  t.is((await c.kubectl(['get', 'pod', 'orphan'])).code, 1);
});

test.serial('a mirror pod needs no ServiceAccount and gets no token', async (t) => {
  await c.ok(['create', '-f', '-'], { input: JSON.stringify(readyNode('n1', '10.0.0.1')) });
  const n1 = await c.identity('system:node:n1', ['system:nodes']);
  await c.ok(['create', 'namespace', 'static']);
  await c.ok(['delete', 'sa', 'default', '-n', 'static']).catch(() => undefined);
  const r = await create(
    {
      metadata: { name: 'mirror', namespace: 'static', annotations: { 'kubernetes.io/config.mirror': 'abc' } },
      spec: { nodeName: 'n1', containers: containers('a') },
    },
    n1,
  );
  t.is(r.code, 0, r.stderr);
  t.is(r.pod.spec.volumes, undefined);
});

test.serial('kube-root-ca.crt comes back when deleted and is set back when changed', async (t) => {
  await c.ok(['create', 'namespace', 'ca-check']);
  const ca = await until('the root CA ConfigMap', async () => {
    const r = await c.kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'ca-check', '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout).data['ca.crt'] as string) : undefined;
  });
  t.regex(ca, /BEGIN CERTIFICATE/);
  await c.ok(['delete', 'configmap', 'kube-root-ca.crt', '-n', 'ca-check']);
  await until('the ConfigMap recreated', async () => (await c.kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'ca-check'])).code === 0);
  await c.ok(['patch', 'configmap', 'kube-root-ca.crt', '-n', 'ca-check', '--type=merge', '-p', '{"data":{"ca.crt":"fake"}}']);
  const back = await until('the CA set back', async () => {
    const cm = JSON.parse(await c.ok(['get', 'configmap', 'kube-root-ca.crt', '-n', 'ca-check', '-o', 'json']));
    return cm.data['ca.crt'] === ca ? cm : undefined;
  });
  t.is(back.data['ca.crt'], ca);
});

test.serial('a pod created by server-side apply gets the same admission: its ServiceAccount checked, the token volume added', async (t) => {
  const apply = (name: string, sa?: string) =>
    c.kubectl(['apply', '--server-side', '-f', '-', '-o', 'json'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: { ...(sa ? { serviceAccountName: sa } : {}), containers: containers('a') },
      }),
    });
  const r = await apply('applied');
  t.is(r.code, 0, r.stderr);
  const pod = JSON.parse(r.stdout);
  t.is(pod.spec.serviceAccountName, 'default');
  const vol = pod.spec.volumes?.find((v: { name: string }) => v.name.startsWith('kube-api-access-'));
  t.truthy(vol, JSON.stringify(pod.spec));
  t.deepEqual(pod.spec.containers[0].volumeMounts, [{ name: vol.name, readOnly: true, mountPath: PATH }]);
  // a second apply of the same configuration changes nothing
  const again = await apply('applied');
  t.is(again.code, 0, again.stderr);
  t.deepEqual(JSON.parse(again.stdout).spec.volumes, pod.spec.volumes);
  const missing = await apply('applied-missing', 'nobody');
  t.is(missing.code, 1);
  t.regex(missing.stderr, /pods "applied-missing" is forbidden: error looking up service account default\/nobody: serviceaccount "nobody" not found/);
  t.is((await c.kubectl(['get', 'pod', 'applied-missing'])).code, 1, 'nothing stored');
});
