// persistentVolumeClaim pod volumes on the kubelet (issue 18), pure: a claim resolves to its bound
// volume's directory on this node; local-path volumes are created and removed only by their own node.
import test from 'ava';
import type { V1PersistentVolume, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { cleanupDir, resolveClaim } from '../../agents/kubelet/volumes/claims.ts';

const localPV = (name: string, node: string, path: string, extra: Partial<V1PersistentVolume['metadata']> = {}): V1PersistentVolume => ({
  metadata: { name, annotations: { 'pv.kubernetes.io/provisioned-by': 'hawser.io/local-path' }, ...extra },
  spec: {
    hostPath: { path, type: 'DirectoryOrCreate' },
    nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
  },
});
const bound = (name: string, volumeName: string): V1PersistentVolumeClaim => ({
  metadata: { name, namespace: 'ns' },
  spec: { volumeName },
  status: { phase: 'Bound' },
});
const lookups = (claims: V1PersistentVolumeClaim[], volumes: V1PersistentVolume[]) => ({
  claim: (ns: string, n: string) => claims.find((c) => c.metadata?.namespace === ns && c.metadata?.name === n),
  volume: (n: string) => volumes.find((v) => v.metadata?.name === n),
});
const vol = (claimName: string, readOnly?: boolean) => ({ name: 'd', persistentVolumeClaim: { claimName, readOnly } });

test('a bound claim resolves to its local-path directory on its own node, read-only when asked', (t) => {
  const l = lookups([bound('data', 'pv1')], [localPV('pv1', 'n1', '/var/lib/hawser/storage/pv1')]);
  t.deepEqual(resolveClaim('ns', vol('data', true), l, 'n1'), { path: '/var/lib/hawser/storage/pv1', readOnly: true, create: true, type: 'Directory' });
  t.throws(() => resolveClaim('ns', vol('data'), l, 'n2'), { message: 'persistentvolume "pv1" belongs to node "n1"' });
});

test('missing, unbound and unsafe claims are clear errors', (t) => {
  const unbound: V1PersistentVolumeClaim = { metadata: { name: 'wait', namespace: 'ns' }, spec: {}, status: { phase: 'Pending' } };
  const l = lookups([unbound, bound('evil', 'pv-evil')], [localPV('pv-evil', 'n1', '/var/lib/hawser/../../etc')]);
  t.throws(() => resolveClaim('ns', vol('nope'), l, 'n1'), { message: 'persistentvolumeclaim "nope" not found' });
  t.throws(() => resolveClaim('ns', vol('wait'), l, 'n1'), { message: 'persistentvolumeclaim "wait" is not bound' });
  t.throws(() => resolveClaim('ns', vol('evil'), l, 'n1'), { message: 'persistentvolume "pv-evil" has an unsafe path "/var/lib/hawser/../../etc"' });
});

test('only a deleted local-path volume of this node holding the cleanup finalizer is removed, and never /', (t) => {
  const deleting = { deletionTimestamp: new Date(), finalizers: ['hawser.io/local-path-cleanup'] };
  t.is(cleanupDir(localPV('a', 'n1', '/var/lib/hawser/storage/a', deleting), 'n1'), '/var/lib/hawser/storage/a');
  t.is(cleanupDir(localPV('a', 'n1', '/var/lib/hawser/storage/a', deleting), 'n2'), undefined);
  t.is(cleanupDir(localPV('a', 'n1', '/var/lib/hawser/storage/a'), 'n1'), undefined);
  t.is(cleanupDir(localPV('a', 'n1', '/', deleting), 'n1'), undefined);
  const manual = localPV('m', 'n1', '/data/m', deleting);
  manual.metadata!.annotations = {};
  t.is(cleanupDir(manual, 'n1'), undefined);
});
