// The scheduler's VolumeBinding plugin, pure: a pod's claims must exist; a bound claim's volume
// must allow the node (a local volume's nodeAffinity pins its pods); an unbound claim of an
// Immediate class waits for the PV controller; an unbound WaitForFirstConsumer claim is given the
// chosen node (volume.kubernetes.io/selected-node) so the volume is made or bound there, on a node
// where an Available volume fits it or its class has a provisioner (a static local volume of a
// kubernetes.io/no-provisioner class pins the pod to that volume's node).
import type { Obj } from '../apiserver/strategies/types.ts';
import { claimsOfPod } from '../controllers/storage/protection-rules.ts';
import { ANN_SELECTED_NODE, findMatchingVolume, volumeFitsNode } from '../controllers/storage/binding-rules.ts';
import type { NodeInfo } from './filters.ts';

export interface VolumeWorld {
  claims: Map<string, Obj>;
  volumes: Map<string, Obj>;
  classes: Map<string, Obj>;
}

export type PodVolumes = { error: string } | { bound: Obj[]; delayed: Obj[] };

/** The pod's claims split into bound ones and WaitForFirstConsumer ones still to bind. */
export function podVolumes(pod: Obj, w: VolumeWorld): PodVolumes {
  const bound: Obj[] = [];
  const delayed: Obj[] = [];
  for (const name of claimsOfPod(pod)) {
    const c = w.claims.get(`${pod.metadata.namespace}/${name}`);
    if (!c) return { error: `persistentvolumeclaim "${name}" not found` };
    if (c.metadata.deletionTimestamp) return { error: `persistentvolumeclaim "${name}" is being deleted` };
    if (c.spec?.volumeName) {
      const v = w.volumes.get(c.spec.volumeName);
      if (v) bound.push(v);
      continue;
    }
    const sc = w.classes.get(c.spec?.storageClassName ?? '');
    if (sc?.volumeBindingMode !== 'WaitForFirstConsumer') return { error: 'pod has unbound immediate PersistentVolumeClaims' };
    delayed.push(c);
  }
  return { bound, delayed };
}

const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

/**
 * upstream FindPodVolumes for the delayed claims: each needs its own Available volume that fits the
 * node, or a class that can provision one.
 */
function delayedClaimsFit(delayed: Obj[], w: VolumeWorld, node: Obj): boolean {
  const chosen = new Set<string>();
  for (const c of delayed) {
    const free = [...w.volumes.values()].filter((v) => !chosen.has(v.metadata.name!));
    const v = findMatchingVolume(c, free, { delayBinding: true, node });
    if (v) {
      chosen.add(v.metadata.name!);
      continue;
    }
    const provisioner = w.classes.get(c.spec?.storageClassName ?? '')?.provisioner;
    if (!provisioner || provisioner === NO_PROVISIONER) return false;
  }
  return true;
}

/** Why the node cannot host the pod's volumes, in upstream's phrasing; undefined when it can. */
export function volumeUnfitReason(vols: PodVolumes, n: NodeInfo, w: VolumeWorld): string | undefined {
  if ('error' in vols) return vols.error;
  if (!vols.bound.every((v) => volumeFitsNode(v, n.node))) return 'node(s) had volume node affinity conflict';
  return delayedClaimsFit(vols.delayed, w, n.node) ? undefined : "node(s) didn't find available persistent volumes to bind";
}

/** The WaitForFirstConsumer claims that still need the selected-node annotation for `node`. */
export function claimsToAnnotate(vols: PodVolumes, node: string): Obj[] {
  if ('error' in vols) return [];
  return vols.delayed.filter((c) => c.metadata.annotations?.[ANN_SELECTED_NODE] !== node);
}
