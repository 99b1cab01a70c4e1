// PersistentVolumeClaim-backed pod volumes, pure: the claim resolves to its bound volume and that
// to a directory on this node (hostPath or local path), mounted read-only when the pod's volume
// says so. A volume of the built-in local-path provisioner is this node's to create and, once it
// is deleted, to remove; a node never touches a volume pinned to another node.
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Volume } from '@kubernetes/client-node';
import { isAbsolute, normalize } from 'node:path';
import { VolumeError } from './payload.ts';

export const LOCAL_PATH_PROVISIONER = 'hawser.io/local-path';
export const LOCAL_PATH_CLEANUP = 'hawser.io/local-path-cleanup';

export interface ClaimLookups {
  claim(namespace: string, name: string): V1PersistentVolumeClaim | undefined;
  volume(name: string): V1PersistentVolume | undefined;
}

/** The node a local-path volume was provisioned on (its single kubernetes.io/hostname term). */
export function localPathNodeOf(pv: V1PersistentVolume): string | undefined {
  if (pv.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'] !== LOCAL_PATH_PROVISIONER) return undefined;
  const e = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0];
  return e?.key === 'kubernetes.io/hostname' && e.operator === 'In' && e.values?.length === 1 ? e.values[0] : undefined;
}

/** A directory the kubelet may create or remove: absolute, normalised, never the root. */
function safeDir(p: string | undefined): string | undefined {
  if (!p || !isAbsolute(p) || normalize(p) !== p.replace(/\/+$/, '') || p.split('/').includes('..') || normalize(p) === '/') return undefined;
  return normalize(p);
}

export interface ClaimMount {
  path: string;
  readOnly: boolean;
  /** the kubelet makes the directory (a local-path volume on this node) */
  create: boolean;
  /** hostPath type to check, as for a pod's own hostPath volume */
  type: string;
}

export function resolveClaim(ns: string, v: V1Volume, l: ClaimLookups, node: string): ClaimMount {
  const name = v.persistentVolumeClaim!.claimName;
  const claim = l.claim(ns, name);
  if (!claim) throw new VolumeError(`persistentvolumeclaim ${JSON.stringify(name)} not found`);
  if (claim.metadata?.deletionTimestamp) throw new VolumeError(`persistentvolumeclaim ${JSON.stringify(name)} is being deleted`);
  const pvName = claim.spec?.volumeName;
  if (!pvName || claim.status?.phase !== 'Bound') throw new VolumeError(`persistentvolumeclaim ${JSON.stringify(name)} is not bound`);
  const pv = l.volume(pvName);
  if (!pv) throw new VolumeError(`persistentvolume ${JSON.stringify(pvName)} not found`);
  const local = localPathNodeOf(pv);
  if (local && local !== node) throw new VolumeError(`persistentvolume ${JSON.stringify(pvName)} belongs to node ${JSON.stringify(local)}`);
  const src = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
  if (!src) throw new VolumeError(`persistentvolume ${JSON.stringify(pvName)} has no hostPath or local source this kubelet can mount`);
  const readOnly = !!v.persistentVolumeClaim!.readOnly;
  if (local) {
    const dir = safeDir(src);
    if (!dir) throw new VolumeError(`persistentvolume ${JSON.stringify(pvName)} has an unsafe path ${JSON.stringify(src)}`);
    return { path: dir, readOnly, create: true, type: 'Directory' };
  }
  return { path: src, readOnly, create: false, type: pv.spec?.local ? 'Directory' : (pv.spec?.hostPath?.type ?? '') };
}

/** The directory to remove for a deleted local-path volume of this node, if it still holds the cleanup finalizer. */
export function cleanupDir(pv: V1PersistentVolume, node: string): string | undefined {
  if (!pv.metadata?.deletionTimestamp || !pv.metadata.finalizers?.includes(LOCAL_PATH_CLEANUP)) return undefined;
  if (localPathNodeOf(pv) !== node) return undefined;
  return safeDir(pv.spec?.hostPath?.path ?? pv.spec?.local?.path);
}
