// Persistent storage through the real API server and kubectl v1.35 (issue 18): PersistentVolumes,
// PersistentVolumeClaims and storage.k8s.io served with upstream's validation, defaulting, tables
// and protection finalizers; the PV controller binding claims to volumes.
import test from 'ava';
import { type Cluster, readyNode, until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { rawClient, type Send } from './_raw-client.ts';

let c: Cluster;
let send: Send & { close(): void };
fileCluster((cluster, own) => {
  c = cluster;
  send = own(rawClient(c.admin));
});

const json = async (args: string[]) => JSON.parse(await c.ok([...args, '-o', 'json']));
const post = (path: string, body: unknown) => send({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const claim = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec });
const volume = (name: string, spec: Record<string, unknown>, labels?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name, labels },
  spec,
});
const causes = (r: { json?: Record<string, any> }) =>
  (r.json?.details?.causes ?? []).map((x: { field: string; message: string }) => `${x.field}: ${x.message}`);

test.serial('a PVC without access modes or size is a 422 naming the fields, and nothing is stored', async (t) => {
  const r = await post('/api/v1/namespaces/default/persistentvolumeclaims', claim('bad', { resources: { requests: {} } }));
  t.is(r.status, 422);
  t.is(r.json?.reason, 'Invalid');
  t.deepEqual(causes(r), ['spec.accessModes: Required value: at least 1 access mode is required', 'spec.resources[storage]: Required value']);
  const zero = await post(
    '/api/v1/namespaces/default/persistentvolumeclaims',
    claim('bad', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '0' } } }),
  );
  t.is(zero.status, 422);
  t.deepEqual(causes(zero), ['spec.resources[storage]: Invalid value: "0": must be greater than zero']);
  const mode = await post(
    '/api/v1/namespaces/default/persistentvolumeclaims',
    claim('bad', { accessModes: ['ReadWriteSometimes'], resources: { requests: { storage: '1Gi' } } }),
  );
  t.deepEqual(causes(mode), [
    'spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
  ]);
  t.is((await send({ path: '/api/v1/namespaces/default/persistentvolumeclaims/bad' })).status, 404);
});

test.serial('a PV needs capacity, access modes and exactly one volume source; a local volume needs node affinity', async (t) => {
  const none = await post('/api/v1/persistentvolumes', volume('bad', {}));
  t.is(none.status, 422);
  t.deepEqual(causes(none), [
    'spec.accessModes: Required value',
    'spec.capacity: Required value',
    'spec.capacity: Unsupported value: {}: supported values: "storage"',
    'spec: Required value: must specify a volume type',
  ]);
  const two = await post(
    '/api/v1/persistentvolumes',
    volume('bad', { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/x' }, local: { path: '/tmp/y' } }),
  );
  t.deepEqual(causes(two), ['spec.local: Forbidden: may not specify more than 1 volume type']);
  const local = await post(
    '/api/v1/persistentvolumes',
    volume('bad', { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], local: { path: '/tmp/y' } }),
  );
  t.deepEqual(causes(local), ['spec.nodeAffinity: Required value: Local volume requires node affinity']);
  t.is((await send({ path: '/api/v1/persistentvolumes/bad' })).status, 404);
});

test.serial('PV and PVC are defaulted, get their protection finalizers and print upstream columns', async (t) => {
  await c.ok(['create', '-f', '-'], {
    input: JSON.stringify(
      volume('pv-table', {
        capacity: { storage: '2048Mi' },
        accessModes: ['ReadWriteOnce', 'ReadOnlyMany'],
        hostPath: { path: '/tmp/pv-table' },
        storageClassName: 'manual',
      }),
    ),
  });
  const pv = await json(['get', 'pv', 'pv-table']);
  t.is(pv.spec.persistentVolumeReclaimPolicy, 'Retain');
  t.is(pv.spec.volumeMode, 'Filesystem');
  t.is(pv.spec.capacity.storage, '2Gi');
  t.deepEqual(pv.metadata.finalizers, ['kubernetes.io/pv-protection']);
  t.regex(
    await c.ok(['get', 'pv', 'pv-table']),
    /^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+REASON\s+AGE\npv-table\s+2Gi\s+RWO,ROX\s+Retain\s+Available\s+manual\s+<unset>\s+\d+s\n$/,
  );
  await c.ok(['create', '-f', '-'], {
    input: JSON.stringify(
      claim('pvc-table', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'nothing-matches' }),
    ),
  });
  const pvc = await json(['get', 'pvc', 'pvc-table']);
  t.deepEqual(pvc.metadata.finalizers, ['kubernetes.io/pvc-protection']);
  t.is(pvc.status.phase, 'Pending');
  t.regex(
    await c.ok(['get', 'pvc', 'pvc-table']),
    /^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE\npvc-table\s+Pending\s+nothing-matches\s+<unset>\s+\d+s\n$/,
  );
  await c.ok(['delete', 'pvc', 'pvc-table']);
  await c.ok(['delete', 'pv', 'pv-table']);
  t.is((await send({ path: '/api/v1/persistentvolumes/pv-table' })).status, 404);
});

test.serial(
  "a claim spec is immutable but a bound claim may grow when its class allows expansion (else 403 as upstream's PersistentVolumeClaimResize); it may not shrink below its capacity",
  async (t) => {
    await c.ok(['create', '-f', '-'], {
      input: JSON.stringify(
        volume('imm-pv', { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/imm' }, storageClassName: 'imm' }),
      ),
    });
    await c.ok(['create', '-f', '-'], {
      input: JSON.stringify(claim('imm', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'other' })),
    });
    const r = await c.kubectl(['patch', 'pvc', 'imm', '--type=merge', '-p', '{"spec":{"accessModes":["ReadWriteMany"]}}']);
    t.not(r.code, 0);
    t.regex(
      r.stderr,
      /PersistentVolumeClaim "imm" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims/,
    );
    // unbound: a size change is a spec change too
    t.not((await c.kubectl(['patch', 'pvc', 'imm', '--type=merge', '-p', '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}'])).code, 0);
    await c.ok(['delete', 'pvc', 'imm']);
    await c.ok(['create', '-f', '-'], {
      input: JSON.stringify(claim('imm', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'imm' })),
    });
    await until('Bound', async () => (await json(['get', 'pvc', 'imm'])).status?.phase === 'Bound');
    // PersistentVolumeClaimResize admission: growing needs a class that allows expansion
    const grow = () =>
      send({
        method: 'PATCH',
        path: '/api/v1/namespaces/default/persistentvolumeclaims/imm',
        headers: { 'content-type': 'application/merge-patch+json' },
        body: '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}',
      });
    const refused = await grow();
    t.is(refused.status, 403);
    t.like(refused.json, {
      reason: 'Forbidden',
      message:
        'persistentvolumeclaims "imm" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize',
    });
    await c.ok(['create', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: { name: 'imm' },
        provisioner: 'example.com/none',
        allowVolumeExpansion: false,
      }),
    });
    t.is((await grow()).status, 403, 'allowVolumeExpansion false refuses too');
    await c.ok(['patch', 'sc', 'imm', '--type=merge', '-p', '{"allowVolumeExpansion":true}']);
    t.is((await grow()).status, 200);
    t.is((await json(['get', 'pvc', 'imm'])).spec.resources.requests.storage, '2Gi');
    const shrink = await c.kubectl(['patch', 'pvc', 'imm', '--type=merge', '-p', '{"spec":{"resources":{"requests":{"storage":"512Mi"}}}}']);
    t.regex(shrink.stderr, /spec.resources.requests.storage: Forbidden: field can not be less than status.capacity/);
    await c.ok(['delete', 'pvc', 'imm']);
    await c.ok(['delete', 'pv', 'imm-pv']);
    await c.ok(['delete', 'sc', 'imm']);
  },
);

test.serial('StorageClass: provisioner required, defaults, immutable fields, the default class annotation and DefaultStorageClass admission', async (t) => {
  const bad = await post('/apis/storage.k8s.io/v1/storageclasses', { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'bad' } });
  t.is(bad.status, 422);
  t.deepEqual(causes(bad), ['provisioner: Required value']);
  const sc = {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'fast', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: 'example.com/fast',
    parameters: { a: 'b' },
  };
  await c.ok(['create', '-f', '-'], { input: JSON.stringify(sc) });
  const got = await json(['get', 'sc', 'fast']);
  t.is(got.reclaimPolicy, 'Delete');
  t.is(got.volumeBindingMode, 'Immediate');
  t.regex(
    await c.ok(['get', 'storageclass']),
    /^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE\nfast \(default\)\s+example.com\/fast\s+Delete\s+Immediate\s+false\s+\d+s\n/m,
  );
  const upd = await c.kubectl(['patch', 'sc', 'fast', '--type=merge', '-p', '{"parameters":{"a":"c"},"reclaimPolicy":"Retain"}']);
  t.regex(upd.stderr, /parameters: Forbidden: updates to parameters are forbidden\./);
  t.regex(upd.stderr, /reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden\./);
  // a claim that names no class gets the default; one that names "" keeps it
  await c.ok(['create', '-f', '-'], {
    input: JSON.stringify(claim('defaulted', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } })),
  });
  t.is((await json(['get', 'pvc', 'defaulted'])).spec.storageClassName, 'fast');
  await c.ok(['create', '-f', '-'], {
    input: JSON.stringify(claim('classless', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: '' })),
  });
  t.is((await json(['get', 'pvc', 'classless'])).spec.storageClassName, '');
  await c.ok(['delete', 'pvc', 'defaulted', 'classless']);
  await c.ok(['delete', 'sc', 'fast']);
});

test.serial('CSIDriver, CSINode, VolumeAttachment and CSIStorageCapacity are served with defaults and validation', async (t) => {
  await c.ok(['create', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'storage.k8s.io/v1', kind: 'CSIDriver', metadata: { name: 'csi.example.com' }, spec: {} }),
  });
  const d = await json(['get', 'csidriver', 'csi.example.com']);
  t.is(d.spec.attachRequired, true);
  t.deepEqual(d.spec.volumeLifecycleModes, ['Persistent']);
  const va = await post('/apis/storage.k8s.io/v1/volumeattachments', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'VolumeAttachment',
    metadata: { name: 'va' },
    spec: { attacher: 'csi.example.com', source: {} },
  });
  t.is(va.status, 422);
  t.deepEqual(causes(va), ['spec.nodeName: Required value', 'spec.source: Forbidden: must specify exactly one of inlineVolumeSpec and persistentVolumeName']);
  const cap = await post('/apis/storage.k8s.io/v1/namespaces/default/csistoragecapacities', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'CSIStorageCapacity',
    metadata: { name: 'cap' },
    storageClassName: 'fast',
    capacity: '1024Mi',
  });
  t.is(cap.status, 201);
  t.is(cap.json?.capacity, '1Gi');
  await c.ok(['delete', 'csidriver', 'csi.example.com']);
  await c.ok(['delete', 'csistoragecapacity', 'cap']);
});

test.serial('a VolumeAttachment carries status.attached false from creation, as Go serialises it; status changes only through /status', async (t) => {
  const path = '/apis/storage.k8s.io/v1/volumeattachments';
  const made = await post(path, {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'VolumeAttachment',
    metadata: { name: 'va-status' },
    spec: { attacher: 'csi.example.com', nodeName: 'n1', source: { persistentVolumeName: 'pv-1' } },
    status: { attached: true },
  });
  t.is(made.status, 201);
  t.deepEqual(made.json?.status, { attached: false }, 'a created status is reset, and attached is always present');
  t.deepEqual((await send({ path: `${path}/va-status/status` })).json?.status, { attached: false });
  const patched = await send({
    method: 'PATCH',
    path: `${path}/va-status/status`,
    headers: { 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ status: { attached: true } }),
  });
  t.deepEqual(patched.json?.status, { attached: true });
  const cleared = await send({
    method: 'PUT',
    path: `${path}/va-status/status`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...patched.json, status: {} }),
  });
  t.is(cleared.status, 200);
  t.deepEqual(cleared.json?.status, { attached: false }, 'an empty status reads back as attached false');
  await c.ok(['delete', 'volumeattachment', 'va-status']);
});

test.serial('a volumeMount subPath or subPathExpr with .. or an absolute path is a 422 naming the field, and no pod is stored', async (t) => {
  const pod = (mount: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'escape' },
    spec: { containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'd', mountPath: '/d', ...mount }] }], volumes: [{ name: 'd', emptyDir: {} }] },
  });
  const cases: [Record<string, string>, string][] = [
    [{ subPath: '../../etc' }, `spec.containers[0].volumeMounts[0].subPath: Invalid value: "../../etc": must not contain '..'`],
    [{ subPath: 'a/../..' }, `spec.containers[0].volumeMounts[0].subPath: Invalid value: "a/../..": must not contain '..'`],
    [{ subPath: '/etc' }, 'spec.containers[0].volumeMounts[0].subPath: Invalid value: "/etc": must be a relative path'],
    [{ subPathExpr: '$(POD_NAME)/..' }, `spec.containers[0].volumeMounts[0].subPathExpr: Invalid value: "$(POD_NAME)/..": must not contain '..'`],
  ];
  for (const [mount, cause] of cases) {
    const r = await post('/api/v1/namespaces/default/pods', pod(mount));
    t.is(r.status, 422, JSON.stringify(mount));
    t.deepEqual(causes(r), [cause]);
  }
  t.is((await post('/api/v1/namespaces/default/pods', pod({ subPath: 'a/..b/c..' }))).status, 201, '".." only as a whole path element');
  await c.ok(['delete', 'pod', 'escape', '--grace-period=0', '--force']);
});

test.serial('a claim in use by a scheduled pod keeps its pvc-protection finalizer until the pod is gone', async (t) => {
  await c.ok(['create', '-f', '-'], {
    input: JSON.stringify(claim('used', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'none' })),
  });
  await c.ok(['create', '-f', '-'], { input: JSON.stringify(readyNode('n-prot', '10.0.0.9')) });
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'user' },
    spec: { nodeName: 'n-prot', containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'used' } }] },
  };
  await c.ok(['create', '-f', '-'], { input: JSON.stringify(pod) });
  await c.ok(['delete', 'pvc', 'used', '--wait=false']);
  await new Promise((r) => setTimeout(r, 1500));
  const held = await json(['get', 'pvc', 'used']);
  t.truthy(held.metadata.deletionTimestamp);
  t.deepEqual(held.metadata.finalizers, ['kubernetes.io/pvc-protection']);
  await c.ok(['delete', 'pod', 'user', '--grace-period=0', '--force']);
  await until('claim removed', async () => (await send({ path: '/api/v1/namespaces/default/persistentvolumeclaims/used' })).status === 404, 15_000);
  await c.ok(['delete', 'node', 'n-prot']);
  t.pass();
});

const events = async (name: string) =>
  (await json(['get', 'events', '--field-selector', `involvedObject.name=${name}`])).items.map((e: any) => `${e.reason}: ${e.message}`);
const pvOf = (name: string, size: string, extra: Record<string, unknown> = {}) =>
  volume(name, { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/tmp/${name}` }, storageClassName: 'manual', ...extra });
const phase = async (args: string[]) => (await json(['get', ...args])).status?.phase;

test.serial('the PV controller binds a claim to the smallest Available volume of its class that fits, and releases it', async (t) => {
  for (const [n, s] of [
    ['bind-1g', '1Gi'],
    ['bind-3g', '3Gi'],
    ['bind-10g', '10Gi'],
  ])
    await c.ok(['create', '-f', '-'], { input: JSON.stringify(pvOf(n, s)) });
  await until('volumes Available', async () => (await phase(['pv', 'bind-10g'])) === 'Available');
  await c.ok(['create', '-f', '-'], {
    input: JSON.stringify(claim('two', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } }, storageClassName: 'manual' })),
  });
  await until('claim Bound', async () => (await phase(['pvc', 'two'])) === 'Bound');
  const pvc = await json(['get', 'pvc', 'two']);
  t.is(pvc.spec.volumeName, 'bind-3g');
  t.is(pvc.status.capacity.storage, '3Gi');
  t.deepEqual(pvc.status.accessModes, ['ReadWriteOnce']);
  t.is(pvc.metadata.annotations['pv.kubernetes.io/bind-completed'], 'yes');
  const pv = await json(['get', 'pv', 'bind-3g']);
  t.is(pv.status.phase, 'Bound');
  t.like(pv.spec.claimRef, { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'two', uid: pvc.metadata.uid });
  t.regex(await c.ok(['get', 'pvc', 'two']), /two\s+Bound\s+bind-3g\s+3Gi\s+RWO\s+manual\s+<unset>/);
  // a bound volume is protected while its claim exists: deleting it waits
  await c.ok(['delete', 'pv', 'bind-3g', '--wait=false']);
  t.deepEqual((await json(['get', 'pv', 'bind-3g'])).metadata.finalizers, ['kubernetes.io/pv-protection']);
  // volumeName pre-binds a claim to the 10Gi volume, whatever its size
  await c.ok(['create', '-f', '-'], {
    input: JSON.stringify(
      claim('named', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } }, storageClassName: 'manual', volumeName: 'bind-10g' }),
    ),
  });
  await until('named Bound', async () => (await phase(['pvc', 'named'])) === 'Bound');
  t.is((await json(['get', 'pv', 'bind-10g'])).spec.claimRef.name, 'named');
  // the claims go: a Retain volume is Released; the one being deleted goes once it is no longer Bound
  await c.ok(['delete', 'pvc', 'two', 'named']);
  await until('bind-10g Released', async () => (await phase(['pv', 'bind-10g'])) === 'Released');
  await until('bind-3g gone', async () => (await send({ path: '/api/v1/persistentvolumes/bind-3g' })).status === 404);
  t.is(await phase(['pv', 'bind-1g']), 'Available');
  await c.ok(['delete', 'pv', 'bind-1g', 'bind-10g']);
});

test.serial("a Delete volume no plugin can delete turns Failed with upstream's event", async (t) => {
  await c.ok(['create', '-f', '-'], { input: JSON.stringify(pvOf('del-pv', '1Gi', { persistentVolumeReclaimPolicy: 'Delete' })) });
  await c.ok(['create', '-f', '-'], {
    input: JSON.stringify(claim('del-claim', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'manual' })),
  });
  await until('Bound', async () => (await phase(['pvc', 'del-claim'])) === 'Bound');
  await c.ok(['delete', 'pvc', 'del-claim']);
  await until('Failed', async () => (await phase(['pv', 'del-pv'])) === 'Failed');
  const msg = 'error getting deleter volume plugin for volume "del-pv": no deletable volume plugin matched';
  t.is((await json(['get', 'pv', 'del-pv'])).status.message, msg);
  await until('event', async () => (await events('del-pv')).includes(`VolumeFailedDelete: ${msg}`));
  await c.ok(['delete', 'pv', 'del-pv']);
});

test.serial('a claim no volume can satisfy stays Pending with an event saying why', async (t) => {
  await c.ok(['create', '-f', '-'], { input: JSON.stringify(pvOf('small', '1Gi', { storageClassName: '' })) });
  await c.ok(['create', '-f', '-'], {
    input: JSON.stringify(claim('huge', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Ei' } }, storageClassName: '' })),
  });
  await until('event', async () =>
    (await events('huge')).includes('FailedBinding: no persistent volumes available for this claim and no storage class is set'),
  );
  t.is(await phase(['pvc', 'huge']), 'Pending');
  t.is(await phase(['pv', 'small']), 'Available');
  await c.ok(['create', '-f', '-'], {
    input: JSON.stringify(claim('noclass', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'missing' })),
  });
  await until('event', async () => (await events('noclass')).includes('ProvisioningFailed: storageclass.storage.k8s.io "missing" not found'));
  await c.ok(['delete', 'pvc', 'huge', 'noclass']);
  await c.ok(['delete', 'pv', 'small']);
});

test.serial('the default local-path class waits for the first consumer, then provisions a volume pinned to the selected node', async (t) => {
  const sc = await json(['get', 'sc', 'local-path']);
  t.like(sc, { provisioner: 'hawser.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer' });
  t.is(sc.metadata.annotations['storageclass.kubernetes.io/is-default-class'], 'true');
  await c.ok(['create', '-f', '-'], { input: JSON.stringify(claim('lazy', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } })) });
  t.is((await json(['get', 'pvc', 'lazy'])).spec.storageClassName, 'local-path');
  await until('event', async () => (await events('lazy')).includes('WaitForFirstConsumer: waiting for first consumer to be created before binding'));
  t.is(await phase(['pvc', 'lazy']), 'Pending');
  await c.ok(['annotate', 'pvc', 'lazy', 'volume.kubernetes.io/selected-node=n-lazy']);
  await until('Bound', async () => (await phase(['pvc', 'lazy'])) === 'Bound', 15_000);
  const pvc = await json(['get', 'pvc', 'lazy']);
  const pv = await json(['get', 'pv', pvc.spec.volumeName]);
  t.is(pv.metadata.name, `pvc-${pvc.metadata.uid}`);
  t.is(pv.metadata.annotations['pv.kubernetes.io/provisioned-by'], 'hawser.io/local-path');
  t.deepEqual(pv.spec.hostPath, { path: `/var/lib/hawser/storage/${pv.metadata.name}`, type: 'DirectoryOrCreate' });
  t.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms, [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n-lazy'] }] }]);
  t.is(pv.spec.persistentVolumeReclaimPolicy, 'Delete');
  await until('event', async () => (await events('lazy')).includes(`ProvisioningSucceeded: Successfully provisioned volume ${pv.metadata.name}`));
  // the claim goes: the Released volume is deleted, held by the cleanup finalizer its node's kubelet removes
  await c.ok(['delete', 'pvc', 'lazy']);
  const held = await until('deleting', async () => {
    const x = await json(['get', 'pv', pv.metadata.name]);
    return x.metadata.deletionTimestamp && x;
  });
  t.is(held.status.phase, 'Released');
  t.deepEqual(held.metadata.finalizers, ['hawser.io/local-path-cleanup']);
  // only the volume's own node may finish the cleanup, and it may change nothing else
  const other = await c.identity('system:node:n-other', ['system:nodes']);
  const own = await c.identity('system:node:n-lazy', ['system:nodes']);
  const drop = ['patch', 'pv', pv.metadata.name, '--type=merge', '-p', '{"metadata":{"finalizers":null}}'];
  const denied = await c.kubectl(drop, { kubeconfig: other });
  t.regex(denied.stderr, /Forbidden.*node "n-other" may only remove the hawser.io\/local-path-cleanup finalizer of its own local-path volumes/);
  const relabel = await c.kubectl(['label', 'pv', pv.metadata.name, 'x=y'], { kubeconfig: own });
  t.regex(relabel.stderr, /Forbidden/);
  await c.ok(drop, { kubeconfig: own });
  await until('gone', async () => (await send({ path: `/api/v1/persistentvolumes/${pv.metadata.name}` })).status === 404);
});

test.serial('a bound local-path claim grows: Resizing, then the volume and status.capacity take the new size; it cannot shrink', async (t) => {
  t.is((await json(['get', 'sc', 'local-path'])).allowVolumeExpansion, true);
  const grown = claim('grown', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } });
  // as the scheduler would have chosen its node
  await c.ok(['create', '-f', '-'], {
    input: JSON.stringify({ ...grown, metadata: { name: 'grown', annotations: { 'volume.kubernetes.io/selected-node': 'n-grow' } } }),
  });
  await until('Bound', async () => (await phase(['pvc', 'grown'])) === 'Bound', 15_000);
  const pvName = (await json(['get', 'pvc', 'grown'])).spec.volumeName;
  await c.ok(['patch', 'pvc', 'grown', '--type=merge', '-p', '{"spec":{"resources":{"requests":{"storage":"3Gi"}}}}']);
  const done = await until(
    'status.capacity 3Gi',
    async () => {
      const x = await json(['get', 'pvc', 'grown']);
      return x.status.capacity?.storage === '3Gi' && !x.status.conditions?.length && x;
    },
    15_000,
  );
  t.deepEqual(done.status.allocatedResources, { storage: '3Gi' });
  t.is(done.status.allocatedResourceStatuses, undefined);
  t.is((await json(['get', 'pv', pvName])).spec.capacity.storage, '3Gi');
  await until('events', async () => {
    const e = await events('grown');
    return e.includes(`Resizing: External resizer is resizing volume ${pvName}`) && e.includes('VolumeResizeSuccessful: Resize volume succeeded');
  });
  const shrink = await c.kubectl(['patch', 'pvc', 'grown', '--type=merge', '-p', '{"spec":{"resources":{"requests":{"storage":"1Gi"}}}}']);
  t.regex(shrink.stderr, /spec.resources.requests.storage: Forbidden: field can not be less than status.capacity/);
  await c.ok(['delete', 'pvc', 'grown']);
  // no kubelet here removes the directory: let the volume go
  await until('volume deleting', async () => (await json(['get', 'pv', pvName])).metadata.deletionTimestamp, 15_000);
  await c.ok(['patch', 'pv', pvName, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
});

test.serial("the scheduler selects the node of a WaitForFirstConsumer claim and keeps later pods on its volume's node", async (t) => {
  for (const [n, ip] of [
    ['n-a', '10.0.0.11'],
    ['n-b', '10.0.0.12'],
  ])
    await c.ok(['create', '-f', '-'], { input: JSON.stringify(readyNode(n, ip)) });
  const pod = (name: string, claimName: string, nodeName?: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      ...(nodeName ? { nodeSelector: { 'kubernetes.io/hostname': nodeName } } : {}),
      containers: [{ name: 'c', image: 'busybox' }],
      volumes: [{ name: 'd', persistentVolumeClaim: { claimName } }],
    },
  });
  await c.ok(['create', '-f', '-'], {
    input: JSON.stringify(claim('wffc', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'local-path' })),
  });
  // not Bound before a consumer exists
  await new Promise((r) => setTimeout(r, 1000));
  t.is(await phase(['pvc', 'wffc']), 'Pending');
  await c.ok(['create', '-f', '-'], { input: JSON.stringify(pod('first', 'wffc', 'n-b')) });
  await until('Bound', async () => (await phase(['pvc', 'wffc'])) === 'Bound', 15_000);
  const pvc = await json(['get', 'pvc', 'wffc']);
  t.is(pvc.metadata.annotations['volume.kubernetes.io/selected-node'], 'n-b');
  t.deepEqual((await json(['get', 'pv', pvc.spec.volumeName])).spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values, ['n-b']);
  await until('first scheduled on n-b', async () => (await json(['get', 'pod', 'first'])).spec.nodeName === 'n-b');
  // a second pod of the claim, free to go anywhere, lands where the volume lives
  for (let i = 0; i < 3; i++) await c.ok(['create', '-f', '-'], { input: JSON.stringify(pod(`next-${i}`, 'wffc')) });
  for (let i = 0; i < 3; i++) await until(`next-${i} scheduled`, async () => (await json(['get', 'pod', `next-${i}`])).spec.nodeName === 'n-b');
  // a pod whose claim does not exist stays Pending and says why
  await c.ok(['create', '-f', '-'], { input: JSON.stringify(pod('orphan', 'nope')) });
  const why = await until(
    'unschedulable',
    async () => (await json(['get', 'pod', 'orphan'])).status?.conditions?.find((x: any) => x.type === 'PodScheduled')?.message,
  );
  t.is(why, '0/2 nodes are available: 2 persistentvolumeclaim "nope" not found.');
  await c.ok(['delete', 'pod', 'first', 'next-0', 'next-1', 'next-2', 'orphan', '--grace-period=0', '--force']);
  await c.ok(['delete', 'pvc', 'wffc']);
  await c.ok(['delete', 'pv', pvc.spec.volumeName, '--wait=false']);
  await c.ok(['delete', 'node', 'n-a', 'n-b']);
});

test.serial(
  "a static local PV of a no-provisioner WaitForFirstConsumer class: the claim waits, a pod elsewhere stays Pending, a free pod goes to the volume's node and the claim binds",
  async (t) => {
    for (const [n, ip] of [
      ['l-a', '10.0.0.41'],
      ['l-b', '10.0.0.42'],
    ])
      await c.ok(['create', '-f', '-'], { input: JSON.stringify(readyNode(n, ip)) });
    await c.ok(['create', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: { name: 'local-storage' },
        provisioner: 'kubernetes.io/no-provisioner',
        volumeBindingMode: 'WaitForFirstConsumer',
      }),
    });
    const affinity = { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['l-a'] }] }] } };
    await c.ok(['create', '-f', '-'], {
      input: JSON.stringify(
        volume('local-a', {
          capacity: { storage: '1Gi' },
          accessModes: ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          storageClassName: 'local-storage',
          local: { path: '/mnt/disks/a' },
          nodeAffinity: affinity,
        }),
      ),
    });
    await c.ok(['create', '-f', '-'], {
      input: JSON.stringify(
        claim('local-claim', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'local-storage' }),
      ),
    });
    await until('WaitForFirstConsumer event', async () =>
      (await events('local-claim')).includes('WaitForFirstConsumer: waiting for first consumer to be created before binding'),
    );
    t.is(await phase(['pvc', 'local-claim']), 'Pending');
    t.is(await phase(['pv', 'local-a']), 'Available');
    const pod = (name: string, node?: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: {
        ...(node ? { nodeSelector: { 'kubernetes.io/hostname': node } } : {}),
        containers: [{ name: 'c', image: 'busybox' }],
        volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'local-claim' } }],
      },
    });
    const unschedulable = (name: string) =>
      until(
        `${name} unschedulable`,
        async () =>
          (await json(['get', 'pod', name])).status?.conditions?.find((x: any) => x.type === 'PodScheduled' && x.status === 'False')?.message as
            | string
            | undefined,
      );
    // the only volume lives on l-a: a pod held to l-b cannot have it, and the claim is not given l-b
    await c.ok(['create', '-f', '-'], { input: JSON.stringify(pod('elsewhere', 'l-b')) });
    const why = await unschedulable('elsewhere');
    t.regex(why, /^0\/\d+ nodes are available: .*1 node\(s\) didn't find available persistent volumes to bind/);
    t.is((await json(['get', 'pvc', 'local-claim'])).metadata.annotations?.['volume.kubernetes.io/selected-node'], undefined);
    await c.ok(['delete', 'pod', 'elsewhere', '--grace-period=0', '--force']);
    // a pod free to go anywhere is put on the volume's node, and the claim binds to that volume
    await c.ok(['create', '-f', '-'], { input: JSON.stringify(pod('user')) });
    await until('user scheduled', async () => (await json(['get', 'pod', 'user'])).spec.nodeName, 15_000);
    t.is((await json(['get', 'pod', 'user'])).spec.nodeName, 'l-a');
    await until('claim Bound', async () => (await phase(['pvc', 'local-claim'])) === 'Bound', 15_000);
    t.is((await json(['get', 'pvc', 'local-claim'])).spec.volumeName, 'local-a');
    // once bound, a pod held to l-b conflicts with the volume's node affinity
    await c.ok(['create', '-f', '-'], { input: JSON.stringify(pod('late', 'l-b')) });
    t.regex(await unschedulable('late'), /1 node\(s\) had volume node affinity conflict/);
    await c.ok(['delete', 'pod', 'user', 'late', '--grace-period=0', '--force']);
    await c.ok(['delete', 'pvc', 'local-claim']);
    await c.ok(['delete', 'pv', 'local-a', '--wait=false']);
    await c.ok(['delete', 'sc', 'local-storage']);
    await c.ok(['delete', 'node', 'l-a', 'l-b']);
  },
);

test.serial(
  'a StatefulSet makes <template>-<set>-<ordinal> claims before its pods, keeps them across pod replacement and honours whenScaled=Delete',
  async (t) => {
    for (const [n, ip] of [
      ['s-a', '10.0.0.21'],
      ['s-b', '10.0.0.22'],
    ])
      await c.ok(['create', '-f', '-'], { input: JSON.stringify(readyNode(n, ip)) });
    const bad = await post('/apis/apps/v1/namespaces/default/statefulsets', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'bad' },
      spec: {
        selector: { matchLabels: { app: 'bad' } },
        serviceName: 'bad',
        template: {
          metadata: { labels: { app: 'bad' } },
          spec: { containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '-1Gi' } } } }],
      },
    });
    t.is(bad.status, 422);
    t.deepEqual(causes(bad), ['spec.volumeClaimTemplates[0].spec.resources[storage]: Invalid value: "-1Gi": must be greater than zero']);
    const set = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        podManagementPolicy: 'Parallel',
        serviceName: 'web',
        selector: { matchLabels: { app: 'web' } },
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    };
    await c.ok(['create', '-f', '-'], { input: JSON.stringify(set) });
    for (const i of [0, 1]) await until(`data-web-${i} Bound`, async () => (await phase(['pvc', `data-web-${i}`])) === 'Bound', 20_000);
    const claim0 = await json(['get', 'pvc', 'data-web-0']);
    t.is(claim0.spec.storageClassName, 'local-path');
    t.is(claim0.metadata.labels.app, 'web');
    t.like(claim0.metadata.ownerReferences[0], { kind: 'StatefulSet', name: 'web' });
    const pod0 = await until('web-0 scheduled', async () => {
      const p = await json(['get', 'pod', 'web-0']);
      return p.spec.nodeName && p;
    });
    t.deepEqual(
      pod0.spec.volumes.find((v: any) => v.name === 'data'),
      { name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } },
    );
    t.is(claim0.metadata.annotations['volume.kubernetes.io/selected-node'], pod0.spec.nodeName);
    // the pod goes and comes back: same claim, same node as its volume
    await c.ok(['delete', 'pod', 'web-0', '--grace-period=0', '--force']);
    const again = await until(
      'web-0 back',
      async () => {
        const p = await json(['get', 'pod', 'web-0']);
        return p.metadata.uid !== pod0.metadata.uid && p.spec.nodeName && p;
      },
      20_000,
    );
    t.is(again.spec.nodeName, pod0.spec.nodeName);
    t.is((await json(['get', 'pvc', 'data-web-0'])).metadata.uid, claim0.metadata.uid);
    // scaled to one: data-web-1 goes once web-1 has
    await c.ok(['scale', 'sts', 'web', '--replicas=1']);
    await until('web-1 terminating', async () => !!(await json(['get', 'pod', 'web-1'])).metadata.deletionTimestamp);
    await c.ok(['delete', 'pod', 'web-1', '--grace-period=0', '--force']);
    await until('data-web-1 gone', async () => (await send({ path: '/api/v1/namespaces/default/persistentvolumeclaims/data-web-1' })).status === 404, 20_000);
    t.is(await phase(['pvc', 'data-web-0']), 'Bound');
    // whenDeleted=Delete: the set's claims go with it
    await c.ok(['delete', 'sts', 'web', '--wait=false']);
    await until(
      'web-0 terminating',
      async () => {
        const r = await send({ path: '/api/v1/namespaces/default/pods/web-0' });
        return r.status === 404 || !!r.json?.metadata?.deletionTimestamp;
      },
      20_000,
    );
    await c.kubectl(['delete', 'pod', 'web-0', '--grace-period=0', '--force']);
    await until('data-web-0 gone', async () => (await send({ path: '/api/v1/namespaces/default/persistentvolumeclaims/data-web-0' })).status === 404, 20_000);
    await c.ok(['delete', 'pv', '--all', '--wait=false']);
    await c.ok(['delete', 'node', 's-a', 's-b']);
  },
);
