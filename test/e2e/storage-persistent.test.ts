// [sig-storage] persistent storage on a two-node lab of its own (issue 18), with the real kubectl
// v1.35 and real kubelets: a StatefulSet's claims from the built-in local-path class keep each
// pod's data across pod deletion; deleting the claims removes the directories on the nodes; a
// WaitForFirstConsumer claim binds only once its pod is scheduled, on that node.
import test from 'ava';
import { existsSync } from 'node:fs';
import { Cluster, downLab, eventually, kubectlJson, namespace, upLab, type NodeLab } from './helpers/node-e2e.ts';

const LAB = ['pvs', '10.83.0.0/24'] as const;
let L: NodeLab;
test.before(async () => {
  L = await upLab(...LAB);
});
test.after.always(async () => {
  await downLab(...LAB);
});

const it = (name: string, body: (c: Cluster, t: import('ava').ExecutionContext) => Promise<void>) =>
  test.serial(name, async (t) => body(new Cluster(L.kc, await namespace(t, L.kc)), t));

it("[sig-storage] a StatefulSet with a claim template keeps each pod's data across pod deletion; deleting the claims removes the directories", async (c, t) => {
  await c.apply(
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: {
        replicas: 2,
        podManagementPolicy: 'Parallel',
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: {
          metadata: { labels: { app: 'db' } },
          spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: L.testapp, volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } } }],
      },
    }),
  );
  for (const i of [0, 1]) await c.waitRunning(`db-${i}`, 120_000);
  for (const i of [0, 1]) t.is((await c.exec(`db-${i}`, ['sh', '-c', `echo pod-${i} > /data/who && cat /data/who`])).stdout, `pod-${i}\n`);
  const before = await Promise.all([0, 1].map((i) => c.pod(`db-${i}`)));
  await c.ok(['delete', 'pod', 'db-0', 'db-1']);
  for (const i of [0, 1]) {
    const p = await c.waitPod(`db-${i}`, 'replaced and Running', (x) => x.metadata.uid !== before[i].metadata.uid && x.status?.phase === 'Running', 120_000);
    t.is(p.spec.nodeName, before[i].spec.nodeName, "the pod comes back on its volume's node");
    t.is((await c.exec(`db-${i}`, ['cat', '/data/who'])).stdout, `pod-${i}\n`);
  }
  const dirs = await Promise.all(
    [0, 1].map(async (i) => {
      const claim = await kubectlJson(L.kc, ['-n', c.ns, 'get', 'pvc', `data-db-${i}`]);
      return (await kubectlJson(L.kc, ['get', 'pv', claim.spec.volumeName])).spec.hostPath.path as string;
    }),
  );
  for (const d of dirs) t.true(existsSync(d), `${d} exists`);
  await c.ok(['delete', 'statefulset', 'db']);
  await eventually('pods gone', async () => (await kubectlJson(L.kc, ['-n', c.ns, 'get', 'pods'])).items.length === 0, 60_000);
  await c.ok(['delete', 'pvc', 'data-db-0', 'data-db-1']);
  await eventually('directories removed', async () => dirs.every((d) => !existsSync(d)), 60_000);
  await eventually('volumes gone', async () => (await kubectlJson(L.kc, ['get', 'pv'])).items.every((v: any) => !dirs.includes(v.spec.hostPath?.path)), 60_000);
});

it('[sig-storage] a WaitForFirstConsumer claim binds only once its pod is scheduled, on that node', async (c, t) => {
  await c.apply(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'late' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '8Mi' } } },
    }),
  );
  await new Promise((r) => setTimeout(r, 3000));
  const pending = await kubectlJson(L.kc, ['-n', c.ns, 'get', 'pvc', 'late']);
  t.is(pending.status.phase, 'Pending');
  t.is(pending.spec.storageClassName, 'local-path');
  const node = L.lab.nodes[1].name;
  await c.apply(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'user' },
      spec: {
        terminationGracePeriodSeconds: 1,
        nodeSelector: { 'kubernetes.io/hostname': node },
        containers: [{ name: 'c', image: L.testapp, volumeMounts: [{ name: 'd', mountPath: '/d' }] }],
        volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'late' } }],
      },
    }),
  );
  await c.waitRunning('user', 120_000);
  const bound = await kubectlJson(L.kc, ['-n', c.ns, 'get', 'pvc', 'late']);
  t.is(bound.status.phase, 'Bound');
  t.is(bound.metadata.annotations['volume.kubernetes.io/selected-node'], node);
  const pv = await kubectlJson(L.kc, ['get', 'pv', bound.spec.volumeName]);
  t.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values, [node]);
  t.is((await c.exec('user', ['sh', '-c', 'echo ok > /d/f && cat /d/f'])).stdout, 'ok\n');
  await c.ok(['delete', 'pod', 'user']);
  await c.ok(['delete', 'pvc', 'late']);
  await eventually('directory removed', async () => !existsSync(pv.spec.hostPath.path), 60_000);
});

// upstream test/e2e/storage/storageclass.go, driven through kubectl
test.serial('[sig-storage] StorageClasses CSI Conformance should run through the lifecycle of a StorageClass [Conformance]', async (t) => {
  const k = (args: string[], input?: string) => new Cluster(L.kc, 'default').ok(args, input);
  const sc = (generateName: string) =>
    JSON.stringify({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { generateName }, provisioner: 'e2e-fake-provisioner' });
  const created = JSON.parse(await k(['create', '-f', '-', '-o', 'json'], sc('e2e-')));
  t.regex(created.metadata.resourceVersion, /^\d+$/);
  const name = created.metadata.name;
  const got = await kubectlJson(L.kc, ['get', 'sc', name]);
  const patched = JSON.parse(
    await k(['patch', 'sc', name, '--type=strategic', '-p', JSON.stringify({ metadata: { labels: { [name]: 'patched' } } }), '-o', 'json']),
  );
  t.is(patched.metadata.labels[name], 'patched');
  t.true(BigInt(patched.metadata.resourceVersion) > BigInt(got.metadata.resourceVersion));
  await k(['delete', 'sc', name]);
  await eventually('deletion confirmed', async () => (await kubectlJson(L.kc, ['get', 'sc', '-l', `${name}=patched`])).items.length === 0, 30_000);
  const replacement = JSON.parse(await k(['create', '-f', '-', '-o', 'json'], sc('e2e-v2-')));
  const r = replacement.metadata.name;
  const updated = JSON.parse(
    await k(['replace', '-f', '-', '-o', 'json'], JSON.stringify({ ...replacement, metadata: { ...replacement.metadata, labels: { [r]: 'updated' } } })),
  );
  t.is(updated.metadata.labels[r], 'updated');
  t.is((await kubectlJson(L.kc, ['get', 'sc', '-l', `${r}=updated`])).items.length, 1);
  // DeleteCollection, as upstream calls it
  await k(['delete', '--raw', `/apis/storage.k8s.io/v1/storageclasses?labelSelector=${encodeURIComponent(`${r}=updated`)}`]);
  await eventually('deletion confirmed', async () => (await kubectlJson(L.kc, ['get', 'sc', '-l', `${r}=updated`])).items.length === 0, 30_000);
});
