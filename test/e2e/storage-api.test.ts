// [sig-storage] API-only conformance tests (issue 18): PersistentVolumes and claims with their
// status subresources, CSIDriver, CSINode, CSIStorageCapacity, VolumeAttachment,
// VolumeAttributesClass and pods with inline CSI volumes: create, get, list with label selectors,
// watch, patch, update, status, delete and deletecollection, as upstream's test/e2e/storage files
// do them, through the real kubectl v1.35. No volume is mounted; any cluster will do.
import type { ExecutionContext } from 'ava';
import { conformance, type Kube, until } from '../conformance/fixture.ts';
import { openWatch } from '../conformance/watch.ts';

const it = conformance('storage-api');
const rand = () => Math.random().toString(36).slice(2, 7);
const STORAGE = '/apis/storage.k8s.io/v1';

/** upstream's retry.RetryOnConflict around Get, change, Update (kubectl replace). */
function update(k: Kube, kind: string, name: string, change: (o: any) => void, subresource?: string): any {
  for (let i = 0; ; i++) {
    const o = k.json(['get', kind, name]);
    change(o);
    const r = k.run(['replace', ...(subresource ? [`--subresource=${subresource}`] : []), '-f', '-', '-o', 'json'], JSON.stringify(o));
    if (r.code === 0) return JSON.parse(r.stdout);
    if (!/Conflict|modified/.test(r.stderr) || i === 4) throw new Error(`replace ${kind}/${name}: ${r.stderr}`);
  }
}

const patch = (k: Kube, kind: string, name: string, type: 'merge' | 'strategic', body: object, subresource?: string): any =>
  JSON.parse(k.ok(['patch', kind, name, `--type=${type}`, ...(subresource ? [`--subresource=${subresource}`] : []), '-p', JSON.stringify(body), '-o', 'json']));

/** DeleteCollection with a label selector, as client-go sends it (kubectl delete -l deletes one by one). */
const deleteCollection = (k: Kube, path: string, selector: string) => k.ok(['delete', '--raw', `${path}?labelSelector=${encodeURIComponent(selector)}`]);

const listed = (k: Kube, kind: string, selector: string, allNamespaces = false): any[] =>
  k.json(['get', kind, ...(allNamespaces ? ['-A'] : []), '-l', selector]).items;

const confirmGone = (k: Kube, kind: string, selector: string) =>
  until(`${kind} with ${selector} to be deleted`, () => listed(k, kind, selector).length === 0, 30_000);

/** Deleted, or held only by a finalizer with a deletionTimestamp, as upstream accepts. */
function deletedOrTerminating(t: ExecutionContext, k: Kube, kind: string, name: string): void {
  const o = k.get(kind, name);
  t.true(o === undefined || !!o.metadata.deletionTimestamp, `${kind} ${name} should have been deleted or have a deletionTimestamp`);
}

const rvBefore = (a: any, b: any) => BigInt(a.metadata.resourceVersion) < BigInt(b.metadata.resourceVersion);

it('[sig-storage] CSIInlineVolumes should support CSIVolumeSource in Pod API [Conformance]', (t, c) => {
  const driver = 'e2e.example.com';
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'pod-csi-inline-volumes' },
    spec: {
      volumes: [
        { name: 'csi-inline-vol1', csi: { driver } },
        { name: 'csi-inline-vol2', csi: { driver, fsType: 'ext4', readOnly: true } },
      ],
      containers: [
        {
          name: 'pod-csi-inline-volumes',
          image: c.env.image,
          command: ['sh', '-c', 'ls /mnt/*'],
          volumeMounts: [
            { name: 'csi-inline-vol1', mountPath: '/mnt/vol1' },
            { name: 'csi-inline-vol2', mountPath: '/mnt/vol2' },
          ],
        },
      ],
    },
  };
  const created = JSON.parse(c.k.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(pod)));
  const again = c.k.run(['create', '-f', '-'], JSON.stringify(pod));
  t.regex(again.stderr, /AlreadyExists|already exists/, 'a second create is a 409');
  t.is(c.k.json(['get', 'pod', pod.metadata.name]).metadata.uid, created.metadata.uid);
  t.deepEqual(
    c.k.json(['get', 'pods']).items.map((p: any) => p.metadata.name),
    [pod.metadata.name],
  );
  t.deepEqual(
    created.spec.volumes.slice(0, 2).map((v: any) => v.csi),
    pod.spec.volumes.map((v) => v.csi),
    'the inline CSI sources are kept',
  );
  const patched = patch(c.k, 'pod', pod.metadata.name, 'merge', { metadata: { annotations: { patched: 'true' } } });
  t.is(patched.metadata.annotations.patched, 'true');
  c.k.ok(['delete', 'pod', pod.metadata.name, '--wait=false']);
  deletedOrTerminating(t, c.k, 'pod', pod.metadata.name);
});

it('[sig-storage] CSIInlineVolumes should run through the lifecycle of a CSIDriver [Conformance]', (t, c) => {
  const label = { 'e2e-test': c.ns };
  const driver = (modes: string[]) => ({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'CSIDriver',
    metadata: { name: `inline-driver-${crypto.randomUUID()}`, labels: label },
    spec: { volumeLifecycleModes: modes, fsGroupPolicy: 'ReadWriteOnceWithFSType' },
  });
  const d1 = driver(['Ephemeral']);
  const d2 = driver(['Persistent', 'Ephemeral']);
  const created1 = JSON.parse(c.kc.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(d1)));
  const created2 = JSON.parse(c.kc.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(d2)));
  t.teardown(() => {
    c.kc.run(['delete', 'csidriver', d1.metadata.name, d2.metadata.name, '--ignore-not-found']);
  });
  t.regex(c.kc.run(['create', '-f', '-'], JSON.stringify(d1)).stderr, /AlreadyExists|already exists/);
  t.is(c.kc.json(['get', 'csidriver', d1.metadata.name]).metadata.uid, created1.metadata.uid);
  t.is(c.kc.json(['get', 'csidriver', d2.metadata.name]).metadata.uid, created2.metadata.uid);
  const patched = patch(c.kc, 'csidriver', d2.metadata.name, 'strategic', { metadata: { labels: { [d2.metadata.name]: 'patched' } } });
  t.is(patched.metadata.labels[d2.metadata.name], 'patched');
  const updated = update(c.kc, 'csidriver', d2.metadata.name, (o) => {
    o.metadata.labels[d2.metadata.name] = 'updated';
  });
  t.is(updated.metadata.labels[d2.metadata.name], 'updated');
  t.is(listed(c.kc, 'csidrivers', `e2e-test=${c.ns}`).length, 2);
  c.kc.ok(['delete', 'csidriver', d1.metadata.name, '--wait=false']);
  deletedOrTerminating(t, c.kc, 'csidriver', d1.metadata.name);
  deleteCollection(c.kc, `${STORAGE}/csidrivers`, `${d2.metadata.name}=updated`);
  deletedOrTerminating(t, c.kc, 'csidriver', d2.metadata.name);
});

it('[sig-storage] CSINodes CSI Conformance should run through the lifecycle of a csinode [Conformance]', async (t, c) => {
  const csinode = () => ({ apiVersion: 'storage.k8s.io/v1', kind: 'CSINode', metadata: { name: `e2e-csinode-${rand()}` }, spec: { drivers: [] } });
  const first = csinode();
  const created = JSON.parse(c.kc.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(first)));
  const name = created.metadata.name;
  t.is(c.kc.json(['get', 'csinode', name]).metadata.name, name);
  const patched = patch(c.kc, 'csinode', name, 'strategic', { metadata: { labels: { [name]: 'patched' } } });
  t.is(patched.metadata.labels[name], 'patched');
  t.is(listed(c.kc, 'csinodes', `${name}=patched`).length, 1);
  c.kc.ok(['delete', 'csinode', name]);
  await confirmGone(c.kc, 'csinodes', `${name}=patched`);
  const second = csinode();
  const replacement = JSON.parse(c.kc.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(second)));
  const r = replacement.metadata.name;
  t.teardown(() => {
    c.kc.run(['delete', 'csinode', r, '--ignore-not-found']);
  });
  t.is(c.kc.json(['get', 'csinode', r]).metadata.name, r);
  const updated = update(c.kc, 'csinode', r, (o) => {
    o.metadata.labels = { [r]: 'updated' };
  });
  t.is(updated.metadata.labels[r], 'updated');
  deleteCollection(c.kc, `${STORAGE}/csinodes`, `${r}=updated`);
  await confirmGone(c.kc, 'csinodes', `${r}=updated`);
});

it('[sig-storage] CSIStorageCapacity should support CSIStorageCapacities API operations [Conformance]', async (t, c) => {
  const group = JSON.parse(c.kc.ok(['get', '--raw', '/apis/storage.k8s.io']));
  t.true(
    group.versions.some((v: any) => v.version === 'v1'),
    'storage.k8s.io/v1 is discovered',
  );
  const resources = JSON.parse(c.kc.ok(['get', '--raw', STORAGE]));
  t.true(
    resources.resources.some((r: any) => r.name === 'csistoragecapacities'),
    'csistoragecapacities is discovered',
  );
  const selector = `test=${c.ns}`;
  const csc = (suffix: string) => ({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'CSIStorageCapacity',
    metadata: { name: `${c.ns}${suffix}`, labels: { test: c.ns } },
    storageClassName: 'e2e.example.com',
  });
  const created = JSON.parse(c.k.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(csc('-csc1'))));
  t.regex(c.k.run(['create', '-f', '-'], JSON.stringify(csc('-csc1'))).stderr, /AlreadyExists|already exists/);
  c.k.create(csc('-csc2'));
  const inNs = await openWatch(c.env.kubeconfig, `${STORAGE}/namespaces/${c.ns}/csistoragecapacities`, { labelSelector: selector });
  const across = await openWatch(c.env.kubeconfig, `${STORAGE}/csistoragecapacities`, { labelSelector: selector });
  t.teardown(() => {
    inNs.stop();
    across.stop();
  });
  c.k.create(csc('-csc3'));
  t.is(c.k.json(['get', 'csistoragecapacity', created.metadata.name]).metadata.uid, created.metadata.uid);
  t.is(listed(c.k, 'csistoragecapacities', selector).length, 3, 'listed in the namespace');
  t.is(listed(c.kc, 'csistoragecapacities', selector, true).length, 3, 'listed across namespaces');
  const patched = patch(c.k, 'csistoragecapacity', created.metadata.name, 'merge', { metadata: { annotations: { patched: 'true' } } });
  t.is(patched.metadata.annotations.patched, 'true');
  const updated = update(c.k, 'csistoragecapacity', created.metadata.name, (o) => {
    o.metadata.annotations.updated = 'true';
  });
  t.is(updated.metadata.annotations.updated, 'true');
  for (const w of [inNs, across]) {
    const events = await w.next(3);
    t.deepEqual(
      events.map((e) => e.type),
      ['ADDED', 'MODIFIED', 'MODIFIED'],
    );
    t.is(events[0].name, `${c.ns}-csc3`);
    t.is(events[1].annotations?.patched, 'true');
    t.is(events[2].annotations?.updated, 'true');
  }
  c.k.ok(['delete', 'csistoragecapacity', created.metadata.name, '--wait=false']);
  deletedOrTerminating(t, c.k, 'csistoragecapacity', created.metadata.name);
  t.is(listed(c.k, 'csistoragecapacities', selector).length, 2);
  deleteCollection(c.k, `${STORAGE}/namespaces/${c.ns}/csistoragecapacities`, selector);
  t.true(
    listed(c.k, 'csistoragecapacities', selector).every((x) => x.metadata.deletionTimestamp && x.metadata.finalizers?.length),
    'nothing left but what a finalizer holds',
  );
});

/** upstream e2epv.CreatePVsPVCs(1, 1): a Retain PV of 2Gi with a CSI source and a claim of the same class. */
function pvAndClaim(c: { ns: string; k: Kube; kc: Kube }, driver: string, handle: string): { pv: any; pvc: any } {
  const pv = {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { generateName: `${c.ns}-`, labels: { 'e2e-pv-pool': c.ns }, annotations: { 'pv.beta.kubernetes.io/gid': '777' } },
    spec: {
      persistentVolumeReclaimPolicy: 'Retain',
      capacity: { storage: '2Gi' },
      accessModes: ['ReadWriteOnce'],
      storageClassName: c.ns,
      csi: { driver, volumeHandle: handle },
    },
  };
  const pvc = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { generateName: 'pvc-' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } }, storageClassName: c.ns },
  };
  return {
    pv: JSON.parse(c.kc.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(pv))),
    pvc: JSON.parse(c.k.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(pvc))),
  };
}

it('[sig-storage] PersistentVolumes CSI Conformance should run through the lifecycle of a PV and a PVC [Conformance]', async (t, c) => {
  const volLabel = `e2e-pv-pool=${c.ns}`;
  t.teardown(() => {
    c.kc.run(['delete', 'pv', '-l', volLabel, '--wait=false']);
  });
  pvAndClaim(c, `inline-driver-${crypto.randomUUID()}`, 'e2e-conformance');
  const pvs = listed(c.kc, 'pv', volLabel);
  t.is(pvs.length, 1);
  const pvcs = c.k.json(['get', 'pvc']).items;
  t.is(pvcs.length, 1);
  const [pv, pvc] = [pvs[0], pvcs[0]];
  const patchedPV = patch(c.kc, 'pv', pv.metadata.name, 'strategic', { metadata: { labels: { [pv.metadata.name]: 'patched' } } });
  t.is(patchedPV.metadata.labels[pv.metadata.name], 'patched');
  t.true(rvBefore(pv, patchedPV), 'the patched PV has a larger resourceVersion');
  const patchedPVC = patch(c.k, 'pvc', pvc.metadata.name, 'strategic', { metadata: { labels: { [pvc.metadata.name]: 'patched' } } });
  t.is(patchedPVC.metadata.labels[pvc.metadata.name], 'patched');
  t.true(rvBefore(pvc, patchedPVC), 'the patched PVC has a larger resourceVersion');
  t.is(c.kc.json(['get', 'pv', pv.metadata.name]).metadata.uid, pv.metadata.uid);
  t.is(c.k.json(['get', 'pvc', pvc.metadata.name]).metadata.uid, pvc.metadata.uid);
  c.k.ok(['delete', 'pvc', pvc.metadata.name, '--wait=false']);
  await until('the PVC to be deleted', () => c.k.json(['get', 'pvc']).items.length === 0, 30_000);
  c.kc.ok(['delete', 'pv', pv.metadata.name, '--wait=false']);
  await confirmGone(c.kc, 'pv', volLabel);

  const again = pvAndClaim(c, `inline-driver-${crypto.randomUUID()}`, 'e2e-conformance');
  const pvName = again.pv.metadata.name;
  const pvcName = again.pvc.metadata.name;
  const updatedPV = update(c.kc, 'pv', pvName, (o) => {
    o.metadata.labels[pvName] = 'updated';
  });
  t.is(updatedPV.metadata.labels[pvName], 'updated');
  const updatedPVC = update(c.k, 'pvc', pvcName, (o) => {
    o.metadata.labels = { [pvcName]: 'updated' };
  });
  t.is(updatedPVC.metadata.labels[pvcName], 'updated');
  t.is(listed(c.kc, 'pvc', `${pvcName}=updated`, true).length, 1);
  deleteCollection(c.k, `/api/v1/namespaces/${c.ns}/persistentvolumeclaims`, `${pvcName}=updated`);
  await confirmGone(c.k, 'pvc', `${pvcName}=updated`);
  deleteCollection(c.kc, '/api/v1/persistentvolumes', `${pvName}=updated`);
  await confirmGone(c.kc, 'pv', `${pvName}=updated`);
});

it('[sig-storage] PersistentVolumes CSI Conformance should apply changes to a pv/pvc status [Conformance]', (t, c) => {
  const volLabel = `e2e-pv-pool=${c.ns}`;
  t.teardown(() => {
    c.kc.run(['delete', 'pv', '-l', volLabel, '--wait=false']);
  });
  pvAndClaim(c, `e2e-driver-${crypto.randomUUID()}`, 'e2e-status-conformance');
  const pvs = listed(c.kc, 'pv', volLabel);
  t.is(pvs.length, 1);
  const pvcs = c.k.json(['get', 'pvc']).items;
  t.is(pvcs.length, 1);
  const pvcName = pvcs[0].metadata.name;
  const pvName = pvs[0].metadata.name;
  t.regex(c.k.json(['get', 'pvc', pvcName, '--subresource=status']).status.phase, /^(Pending|Bound)$/);
  t.regex(c.kc.json(['get', 'pv', pvName, '--subresource=status']).status.phase, /^(Available|Bound|Pending)$/);
  const patchedPVC = patch(
    c.k,
    'pvc',
    pvcName,
    'merge',
    { status: { conditions: [{ type: 'StatusPatched', status: 'True', reason: 'E2E patchedStatus', message: 'Set from e2e test' }] } },
    'status',
  );
  t.like(
    patchedPVC.status.conditions.find((x: any) => x.type === 'StatusPatched'),
    { reason: 'E2E patchedStatus', message: 'Set from e2e test' },
  );
  const patchedPV = patch(c.kc, 'pv', pvName, 'merge', { status: { message: 'StatusPatched', reason: 'E2E patchStatus' } }, 'status');
  t.like(patchedPV.status, { reason: 'E2E patchStatus', message: 'StatusPatched' });
  const updatedPVC = update(
    c.k,
    'pvc',
    pvcName,
    (o) => {
      o.status.conditions = [
        ...(o.status.conditions ?? []),
        { type: 'StatusUpdated', status: 'True', reason: 'E2E updateStatus', message: 'Set from e2e test' },
      ];
    },
    'status',
  );
  t.like(
    updatedPVC.status.conditions.find((x: any) => x.type === 'StatusUpdated'),
    { reason: 'E2E updateStatus', message: 'Set from e2e test' },
  );
  const updatedPV = update(
    c.kc,
    'pv',
    pvName,
    (o) => {
      o.status.reason = 'E2E updateStatus';
      o.status.message = 'StatusUpdated';
    },
    'status',
  );
  t.like(updatedPV.status, { reason: 'E2E updateStatus', message: 'StatusUpdated' });
  // upstream's AfterEach: PVPVCMapCleanup
  c.k.ok(['delete', 'pvc', pvcName]);
  c.kc.ok(['delete', 'pv', pvName]);
});

/** upstream createVolumeAttachment: va-e2e-<5> for pv-e2e-<5> on a node of the cluster, not attached. */
function createVolumeAttachment(c: { kc: Kube }): { name: string; node: string } {
  const nodes = c.kc.json(['get', 'nodes']).items;
  const node = nodes[Math.floor(Math.random() * nodes.length)].metadata.name;
  const id = `e2e-${rand()}`;
  const va = {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'VolumeAttachment',
    metadata: { name: `va-${id}` },
    spec: { attacher: 'e2e-test.storage.k8s.io', nodeName: node, source: { persistentVolumeName: `pv-${id}` } },
    status: { attached: false },
  };
  const created = JSON.parse(c.kc.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(va)));
  return { name: created.metadata.name, node };
}

it('[sig-storage] VolumeAttachment Conformance should run through the lifecycle of a VolumeAttachment [Conformance]', async (t, c) => {
  const made: string[] = [];
  t.teardown(() => {
    if (made.length) c.kc.run(['delete', 'volumeattachment', ...made, '--ignore-not-found']);
  });
  const first = createVolumeAttachment(c);
  made.push(first.name);
  t.is(c.kc.json(['get', 'volumeattachment', first.name]).metadata.name, first.name);
  const patched = patch(c.kc, 'volumeattachment', first.name, 'merge', { metadata: { labels: { [first.name]: 'patched' } } });
  t.is(patched.metadata.labels[first.name], 'patched');
  t.is(listed(c.kc, 'volumeattachments', `${first.name}=patched`).length, 1);
  c.kc.ok(['delete', 'volumeattachment', first.name]);
  await confirmGone(c.kc, 'volumeattachments', `${first.name}=patched`);
  for (let i = 0; i < 2; i++) {
    const va = createVolumeAttachment(c);
    made.push(va.name);
    const updated = update(c.kc, 'volumeattachment', va.name, (o) => {
      o.metadata.labels = { 'va-e2e': 'updated' };
    });
    t.is(updated.metadata.labels['va-e2e'], 'updated');
  }
  deleteCollection(c.kc, `${STORAGE}/volumeattachments`, 'va-e2e=updated');
  await confirmGone(c.kc, 'volumeattachments', 'va-e2e=updated');
});

it('[sig-storage] VolumeAttachment Conformance should apply changes to a volumeattachment status [Conformance]', async (t, c) => {
  const va = createVolumeAttachment(c);
  t.teardown(() => {
    c.kc.run(['delete', 'volumeattachment', va.name, '--ignore-not-found']);
  });
  const patched = patch(c.kc, 'volumeattachment', va.name, 'merge', { metadata: { labels: { [va.name]: 'patched' } } });
  t.is(patched.metadata.labels[va.name], 'patched');
  t.false(c.kc.json(['get', 'volumeattachment', va.name, '--subresource=status']).status.attached);
  t.true(patch(c.kc, 'volumeattachment', va.name, 'merge', { status: { attached: true } }, 'status').status.attached);
  t.false(
    update(
      c.kc,
      'volumeattachment',
      va.name,
      (o) => {
        o.status.attached = false;
      },
      'status',
    ).status.attached,
  );
  c.kc.ok(['delete', 'volumeattachment', va.name]);
  await confirmGone(c.kc, 'volumeattachments', `${va.name}=patched`);
});

it('[sig-storage] VolumeAttributesClass [FeatureGate:VolumeAttributesClass] should run through the lifecycle of a VolumeAttributesClass [Conformance]', async (t, c) => {
  const vac = (generateName: string) => ({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'VolumeAttributesClass',
    metadata: { generateName },
    driverName: 'e2e-fake-csi-driver',
    parameters: { foo: 'bar' },
  });
  const created = JSON.parse(c.kc.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(vac('e2e-'))));
  const name = created.metadata.name;
  t.is(c.kc.json(['get', 'vac', name]).metadata.uid, created.metadata.uid);
  const patched = patch(c.kc, 'vac', name, 'strategic', { metadata: { labels: { [name]: 'patched' } } });
  t.is(patched.metadata.labels[name], 'patched');
  c.kc.ok(['delete', 'vac', name]);
  await confirmGone(c.kc, 'vac', `${name}=patched`);
  const replacement = JSON.parse(c.kc.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(vac('e2e-v2-'))));
  const r = replacement.metadata.name;
  t.teardown(() => {
    c.kc.run(['delete', 'vac', r, '--ignore-not-found']);
  });
  const updated = update(c.kc, 'vac', r, (o) => {
    o.metadata.labels = { [r]: 'updated' };
  });
  t.is(updated.metadata.labels[r], 'updated');
  t.is(listed(c.kc, 'vac', `${r}=updated`).length, 1);
  deleteCollection(c.kc, `${STORAGE}/volumeattributesclasses`, `${r}=updated`);
  await confirmGone(c.kc, 'vac', `${r}=updated`);
});
