// The built-in hawser.io/local-path provisioner, pure: the PersistentVolume for a claim on the node
// the scheduler selected, a hostPath directory under the class's basePath (default
// /var/lib/hawser/storage/<pv-name>) pinned to that node by nodeAffinity. The control plane only
// writes the object; the node's kubelet makes the directory when it mounts the volume, and when a
// released Delete volume is deleted it removes the directory, then the LOCAL_PATH_CLEANUP finalizer.
import type { Obj } from '../../apiserver/strategies/types.ts';
import { ANN_PROVISIONED_BY, ANN_SELECTED_NODE } from './binding-rules.ts';

export const LOCAL_PATH_PROVISIONER = 'hawser.io/local-path';
export const LOCAL_PATH_CLASS = 'local-path';
export const DEFAULT_BASE_PATH = '/var/lib/hawser/storage';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
/** held by a local-path volume until its node's kubelet has removed the directory */
export const LOCAL_PATH_CLEANUP = 'hawser.io/local-path-cleanup';

/** The default StorageClass the control plane creates at bootstrap, as k3s ships local-path. */
export function localPathClass(): Obj {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: LOCAL_PATH_CLASS, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
    // a directory has no size: growing a claim is only bookkeeping (expansion-rules.ts)
    allowVolumeExpansion: true,
  };
}

/** upstream's provisioned volume name: pvc-<claim uid>. */
export const provisionedName = (claim: Obj) => `pvc-${claim.metadata.uid}`;

/** The node a local-path volume lives on (from its nodeAffinity), if it is one. */
export function localPathNode(pv: { metadata?: { annotations?: Record<string, string> }; spec?: Obj['spec'] }): string | undefined {
  if (pv.metadata?.annotations?.[ANN_PROVISIONED_BY] !== LOCAL_PATH_PROVISIONER) return undefined;
  const e = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0];
  return e?.key === HOSTNAME_LABEL && e.operator === 'In' && e.values?.length === 1 ? e.values[0] : undefined;
}

export function localPathVolume(claim: Obj, sc: Obj, node: string): Obj | { error: string } {
  if (!node) return { error: 'no node was selected for the claim: a local-path volume needs WaitForFirstConsumer binding' };
  const base = String(sc.parameters?.basePath ?? DEFAULT_BASE_PATH).replace(/\/+$/, '');
  if (!base.startsWith('/') || base.split('/').includes('..'))
    return { error: `parameter basePath ${JSON.stringify(base)} must be an absolute path without ".."` };
  const name = provisionedName(claim);
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, annotations: { [ANN_PROVISIONED_BY]: LOCAL_PATH_PROVISIONER, [ANN_SELECTED_NODE]: node }, finalizers: [LOCAL_PATH_CLEANUP] },
    spec: {
      capacity: { storage: claim.spec?.resources?.requests?.storage },
      accessModes: claim.spec?.accessModes,
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
      storageClassName: sc.metadata.name,
      volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
      claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: claim.metadata.namespace, name: claim.metadata.name, uid: claim.metadata.uid },
      hostPath: { path: `${base}/${name}`, type: 'DirectoryOrCreate' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [node] }] }] } },
    },
  };
}
