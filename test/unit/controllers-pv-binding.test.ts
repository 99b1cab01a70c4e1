// The PV controller's pure rules (issue 18): which volume a claim binds to, what phase a volume is
// in once its claim goes, what a claim waits for, the local-path volume and in-use protection.
import test from 'ava';
import type { Obj } from '../../agents/control-plane/apiserver/strategies/types.ts';
import { findMatchingVolume, planClaim, planVolume } from '../../agents/control-plane/controllers/storage/binding-rules.ts';
import { localPathClass, localPathVolume } from '../../agents/control-plane/controllers/storage/local-path-rules.ts';
import { claimInUse, releaseFinalizer } from '../../agents/control-plane/controllers/storage/protection-rules.ts';

const pv = (
  name: string,
  size: string,
  o: { cls?: string; modes?: string[]; labels?: Record<string, string>; phase?: string; claimRef?: Record<string, string>; node?: string } = {},
): Obj => ({
  metadata: { name, labels: o.labels },
  spec: {
    capacity: { storage: size },
    accessModes: o.modes ?? ['ReadWriteOnce'],
    storageClassName: o.cls ?? 'manual',
    claimRef: o.claimRef,
    ...(o.node
      ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [o.node] }] }] } } }
      : {}),
  },
  status: { phase: o.phase ?? 'Available' },
});
const pvc = (size: string, o: { cls?: string; modes?: string[]; selector?: unknown; volumeName?: string; node?: string } = {}): Obj => ({
  metadata: { name: 'c', namespace: 'ns', uid: 'u1', annotations: o.node ? { 'volume.kubernetes.io/selected-node': o.node } : {} },
  spec: {
    accessModes: o.modes ?? ['ReadWriteOnce'],
    resources: { requests: { storage: size } },
    storageClassName: o.cls ?? 'manual',
    selector: o.selector,
    volumeName: o.volumeName,
  },
});
const node = (name: string): Obj => ({ metadata: { name, labels: { 'kubernetes.io/hostname': name } } });
const names = (v: Obj | undefined) => v?.metadata.name;

test('the smallest Available volume of the class that fits the size and access modes wins', (t) => {
  const vols = [
    pv('10g', '10Gi'),
    pv('1g', '1Gi'),
    pv('3g', '3Gi'),
    pv('2g-other', '2Gi', { cls: 'other' }),
    pv('2g-rox', '2Gi', { modes: ['ReadOnlyMany'] }),
    pv('2g-bound', '2Gi', { phase: 'Bound' }),
  ];
  t.is(names(findMatchingVolume(pvc('2Gi'), vols, { delayBinding: false })), '3g');
  t.is(names(findMatchingVolume(pvc('1Gi'), vols, { delayBinding: false })), '1g');
  t.is(findMatchingVolume(pvc('11Gi'), vols, { delayBinding: false }), undefined);
});

test('a selector narrows the volumes; a volume pre-bound to the claim wins over a smaller one', (t) => {
  const vols = [pv('a', '1Gi', { labels: { tier: 'a' } }), pv('b', '5Gi', { labels: { tier: 'b' } })];
  t.is(names(findMatchingVolume(pvc('1Gi', { selector: { matchLabels: { tier: 'b' } } }), vols, { delayBinding: false })), 'b');
  const pre = pv('pre', '8Gi', { claimRef: { namespace: 'ns', name: 'c' }, phase: 'Available' });
  t.is(names(findMatchingVolume(pvc('1Gi'), [...vols, pre], { delayBinding: false })), 'pre');
  const other = pv('taken', '1Gi', { claimRef: { namespace: 'ns', name: 'someone-else', uid: 'x' } });
  t.is(findMatchingVolume(pvc('1Gi'), [other], { delayBinding: false }), undefined);
});

test('WaitForFirstConsumer: nothing binds before a node is selected, then only volumes that fit the node', (t) => {
  const vols = [pv('on-a', '1Gi', { node: 'a' }), pv('on-b', '2Gi', { node: 'b' })];
  t.is(findMatchingVolume(pvc('1Gi'), vols, { delayBinding: true }), undefined);
  t.is(names(findMatchingVolume(pvc('1Gi'), vols, { delayBinding: true, node: node('b') })), 'on-b');
  const w = {
    volumes: new Map<string, Obj>(),
    classes: new Map([['wffc', { metadata: { name: 'wffc' }, provisioner: 'x.io/p', volumeBindingMode: 'WaitForFirstConsumer' }]]),
    nodes: new Map<string, Obj>(),
  };
  t.like(planClaim(pvc('1Gi', { cls: 'wffc' }), w), {
    action: 'pending',
    event: { reason: 'WaitForFirstConsumer', message: 'waiting for first consumer to be created before binding' },
  });
  t.deepEqual(planClaim(pvc('1Gi', { cls: 'wffc', node: 'b' }), w), { action: 'provision', provisioner: 'x.io/p', node: 'b' });
});

test("claims no volume satisfies stay pending with upstream's reason; a bound claim whose volume is gone is Lost", (t) => {
  const w = { volumes: new Map<string, Obj>(), classes: new Map<string, Obj>(), nodes: new Map<string, Obj>() };
  t.like(planClaim(pvc('1Ei', { cls: '' }), w), {
    action: 'pending',
    event: { reason: 'FailedBinding', message: 'no persistent volumes available for this claim and no storage class is set' },
  });
  t.like(planClaim(pvc('1Gi', { cls: 'gone' }), w), {
    action: 'pending',
    event: { reason: 'ProvisioningFailed', message: 'storageclass.storage.k8s.io "gone" not found' },
  });
  const bound = { ...pvc('1Gi', { volumeName: 'vanished' }), status: { phase: 'Bound' } };
  t.like(planClaim(bound, w), { action: 'lost', event: { reason: 'ClaimLost' } });
});

test('a volume whose claim is gone is Released (Retain, built-in Delete) or Failed (Delete without a deleter)', (t) => {
  const ref = { namespace: 'ns', name: 'c', uid: 'u1' };
  const claim = { ...pvc('1Gi', { volumeName: 'v' }) };
  t.is(planVolume(pv('v', '1Gi', { claimRef: ref, phase: 'Bound' }), claim, []).phase, 'Bound');
  t.is(planVolume(pv('v', '1Gi', { claimRef: ref }), undefined, []).phase, 'Released');
  const del = pv('v', '1Gi', { claimRef: ref, phase: 'Bound' });
  del.spec.persistentVolumeReclaimPolicy = 'Delete';
  t.like(planVolume(del, undefined, []), {
    phase: 'Failed',
    message: 'error getting deleter volume plugin for volume "v": no deletable volume plugin matched',
  });
  del.metadata.annotations = { 'pv.kubernetes.io/provisioned-by': 'hawser.io/local-path' };
  t.is(planVolume(del, undefined, ['hawser.io/local-path']).phase, 'Released');
  // a claim of the same name but a new uid is another claim
  t.is(planVolume(pv('v', '1Gi', { claimRef: ref }), { ...claim, metadata: { ...claim.metadata, uid: 'u2' } }, []).phase, 'Released');
  t.is(planVolume(pv('v', '1Gi'), undefined, []).phase, 'Available');
});

test('local-path volumes live under the base path on the selected node; a base path with .. is refused', (t) => {
  const c = pvc('3Gi', { cls: 'local-path' });
  const v = localPathVolume(c, localPathClass(), 'node-1');
  if ('error' in v) return t.fail(v.error);
  t.is(v.metadata.name, 'pvc-u1');
  t.is(v.spec.hostPath.path, '/var/lib/hawser/storage/pvc-u1');
  t.deepEqual(v.spec.capacity, { storage: '3Gi' });
  t.like(v.spec.claimRef, { namespace: 'ns', name: 'c', uid: 'u1' });
  t.like(localPathVolume(c, { ...localPathClass(), parameters: { basePath: '/data/../etc' } }, 'node-1'), {
    error: 'parameter basePath "/data/../etc" must be an absolute path without ".."',
  });
  t.like(localPathVolume(c, localPathClass(), ''), { error: 'no node was selected for the claim: a local-path volume needs WaitForFirstConsumer binding' });
});

test('a claim is in use only by a scheduled pod that has not finished', (t) => {
  const c = pvc('1Gi');
  const pod = (nodeName: string | undefined, phase: string): Obj => ({
    metadata: { name: 'p', namespace: 'ns' },
    spec: { nodeName, volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'c' } }] },
    status: { phase },
  });
  t.true(claimInUse(c, [pod('n', 'Running')]));
  t.false(claimInUse(c, [pod(undefined, 'Pending')]));
  t.false(claimInUse(c, [pod('n', 'Succeeded')]));
  const deleting = { ...c, metadata: { ...c.metadata, deletionTimestamp: 'x', finalizers: ['kubernetes.io/pvc-protection', 'other'] } };
  t.is(releaseFinalizer(deleting, 'kubernetes.io/pvc-protection', true), undefined);
  t.deepEqual(releaseFinalizer(deleting, 'kubernetes.io/pvc-protection', false), ['other']);
});

test('scheduler VolumeBinding: a bound local volume pins the pod; an unbound Immediate claim waits; WaitForFirstConsumer claims get the node', async (t) => {
  const { podVolumes, volumeUnfitReason, claimsToAnnotate } = await import('../../agents/control-plane/scheduler/volume-binding.ts');
  const { nodeInfo } = await import('../../agents/control-plane/scheduler/filters.ts');
  const claim = (name: string, cls: string, volumeName?: string): Obj => ({ metadata: { name, namespace: 'ns' }, spec: { storageClassName: cls, volumeName } });
  const w = {
    claims: new Map([
      ['ns/bound', claim('bound', 'manual', 'on-a')],
      ['ns/late', claim('late', 'wffc')],
      ['ns/now', claim('now', 'manual')],
    ]),
    volumes: new Map([['on-a', pv('on-a', '1Gi', { node: 'a' })]]),
    classes: new Map([
      ['wffc', { metadata: { name: 'wffc' }, provisioner: 'hawser.io/local-path', volumeBindingMode: 'WaitForFirstConsumer' }],
      ['manual', { metadata: { name: 'manual' }, volumeBindingMode: 'Immediate' }],
    ]),
  };
  const pod = (...names: string[]): Obj => ({
    metadata: { name: 'p', namespace: 'ns' },
    spec: { volumes: names.map((n) => ({ name: n, persistentVolumeClaim: { claimName: n } })) },
  });
  const vols = podVolumes(pod('bound', 'late'), w);
  t.is(volumeUnfitReason(vols, nodeInfo(node('a')), w), undefined);
  t.is(volumeUnfitReason(vols, nodeInfo(node('b')), w), 'node(s) had volume node affinity conflict');
  t.deepEqual(
    claimsToAnnotate(vols, 'a').map((c) => c.metadata.name),
    ['late'],
  );
  t.is(volumeUnfitReason(podVolumes(pod('now'), w), nodeInfo(node('a')), w), 'pod has unbound immediate PersistentVolumeClaims');
  t.is(volumeUnfitReason(podVolumes(pod('absent'), w), nodeInfo(node('a')), w), 'persistentvolumeclaim "absent" not found');
});

test('scheduler VolumeBinding: a no-provisioner WaitForFirstConsumer claim fits only a node with an Available volume of its own', async (t) => {
  const { podVolumes, volumeUnfitReason } = await import('../../agents/control-plane/scheduler/volume-binding.ts');
  const { nodeInfo } = await import('../../agents/control-plane/scheduler/filters.ts');
  const claim = (name: string): Obj => ({
    metadata: { name, namespace: 'ns', uid: name },
    spec: { storageClassName: 'local', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  });
  const w = {
    claims: new Map([
      ['ns/one', claim('one')],
      ['ns/two', claim('two')],
    ]),
    volumes: new Map([['local-a', pv('local-a', '1Gi', { cls: 'local', node: 'a' })]]),
    classes: new Map([['local', { metadata: { name: 'local' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' }]]),
  };
  const pod = (...names: string[]): Obj => ({
    metadata: { name: 'p', namespace: 'ns' },
    spec: { volumes: names.map((n) => ({ name: n, persistentVolumeClaim: { claimName: n } })) },
  });
  t.is(volumeUnfitReason(podVolumes(pod('one'), w), nodeInfo(node('a')), w), undefined);
  t.is(volumeUnfitReason(podVolumes(pod('one'), w), nodeInfo(node('b')), w), "node(s) didn't find available persistent volumes to bind");
  t.is(
    volumeUnfitReason(podVolumes(pod('one', 'two'), w), nodeInfo(node('a')), w),
    "node(s) didn't find available persistent volumes to bind",
    'two claims cannot share one volume',
  );
});

test('StatefulSet claims: <template>-<set>-<ordinal>, owned by the set under whenDeleted=Delete, condemned past replicas under whenScaled=Delete', async (t) => {
  const { claimsForOrdinal, podClaimVolumes, condemnedClaims } = await import('../../agents/control-plane/controllers/workloads/statefulset-claims-rules.ts');
  const set: Obj = {
    metadata: { name: 'web', namespace: 'ns', uid: 's1' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' },
      volumeClaimTemplates: [
        { metadata: { name: 'data', labels: { tier: 'db' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
      ],
    },
  };
  const [c] = claimsForOrdinal(set, 3);
  t.is(c.metadata.name, 'data-web-3');
  t.deepEqual(c.metadata.labels, { tier: 'db', app: 'web' });
  t.is(c.metadata.ownerReferences, undefined);
  set.spec.persistentVolumeClaimRetentionPolicy.whenDeleted = 'Delete';
  t.like(claimsForOrdinal(set, 0)[0].metadata.ownerReferences?.[0], { kind: 'StatefulSet', name: 'web', uid: 's1' });
  const spec = {
    volumes: [
      { name: 'data', emptyDir: {} },
      { name: 'other', emptyDir: {} },
    ],
  };
  podClaimVolumes(set, 2, spec);
  t.deepEqual(spec.volumes, [
    { name: 'other', emptyDir: {} },
    { name: 'data', persistentVolumeClaim: { claimName: 'data-web-2' } },
  ]);
  const claims = ['data-web-0', 'data-web-1', 'data-web-2', 'data-web-x', 'data-webby-5'].map((name): Obj => ({ metadata: { name, namespace: 'ns' } }));
  t.deepEqual(
    condemnedClaims(set, claims, new Set([0, 1])).map((x) => x.metadata.name),
    ['data-web-2'],
  );
  set.spec.persistentVolumeClaimRetentionPolicy.whenScaled = 'Retain';
  t.deepEqual(condemnedClaims(set, claims, new Set()), []);
});

test('local-path expansion: start (Resizing), grow the volume, finish at the new size; nothing for other volumes or classes without allowVolumeExpansion', async (t) => {
  const { planExpansion, expansionStatus } = await import('../../agents/control-plane/controllers/storage/expansion-rules.ts');
  const sc: Obj = { metadata: { name: 'local-path' }, provisioner: 'hawser.io/local-path', allowVolumeExpansion: true };
  const vol = (size: string): Obj => ({
    ...pv('pvc-u1', size, { cls: 'local-path', node: 'a' }),
    metadata: { name: 'pvc-u1', annotations: { 'pv.kubernetes.io/provisioned-by': 'hawser.io/local-path' } },
  });
  const bound = (want: string, capacity: string, conditions?: Obj[]): Obj => {
    const c = pvc(want, { cls: 'local-path', volumeName: 'pvc-u1' });
    return { ...c, status: { phase: 'Bound', capacity: { storage: capacity }, ...(conditions ? { conditions } : {}) } };
  };
  t.is(planExpansion(bound('1Gi', '1Gi'), vol('1Gi'), sc).step, 'none');
  t.is(planExpansion(bound('2Gi', '1Gi'), vol('1Gi'), { ...sc, allowVolumeExpansion: false }).step, 'none');
  t.is(planExpansion(bound('2Gi', '1Gi'), pv('static', '1Gi', { cls: 'local-path' }), sc).step, 'none', "only the built-in provisioner's volumes");
  const start = planExpansion(bound('2Gi', '1Gi'), vol('1Gi'), sc);
  t.like(start, { step: 'start', size: '2Gi', event: { reason: 'Resizing' } });
  const resizing = expansionStatus(bound('2Gi', '1Gi'), 'start', '2Gi', 'now') as Obj;
  t.like(resizing, {
    allocatedResources: { storage: '2Gi' },
    allocatedResourceStatuses: { storage: 'ControllerResizeInProgress' },
    capacity: { storage: '1Gi' },
  });
  t.is(resizing.conditions[0].type, 'Resizing');
  const claimResizing = { ...bound('2Gi', '1Gi'), status: resizing };
  t.is(planExpansion(claimResizing, vol('1Gi'), sc).step, 'volume');
  t.like(planExpansion(claimResizing, vol('2Gi'), sc), { step: 'finish', event: { reason: 'VolumeResizeSuccessful', message: 'Resize volume succeeded' } });
  const done = expansionStatus(claimResizing, 'finish', '2Gi', 'now') as Obj;
  t.deepEqual(done, { phase: 'Bound', capacity: { storage: '2Gi' }, allocatedResources: { storage: '2Gi' } });
  t.is(planExpansion({ ...claimResizing, status: done }, vol('2Gi'), sc).step, 'none');
});
