// Storage object in-use protection (upstream pvcprotection and pvprotection controllers), pure: a
// claim keeps kubernetes.io/pvc-protection while a scheduled pod that has not finished uses it; a
// volume keeps kubernetes.io/pv-protection while it is Bound.
import type { Obj } from '../../apiserver/strategies/types.ts';

/** The claim names a pod's volumes refer to (a generic ephemeral volume's claim is <pod>-<volume>). */
export function claimsOfPod(pod: Obj): string[] {
  const out: string[] = [];
  for (const v of (pod.spec?.volumes ?? []) as { name: string; persistentVolumeClaim?: { claimName?: string }; ephemeral?: unknown }[]) {
    if (v.persistentVolumeClaim?.claimName) out.push(v.persistentVolumeClaim.claimName);
    else if (v.ephemeral) out.push(`${pod.metadata.name}-${v.name}`);
  }
  return out;
}

const finished = (p: Obj) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/** Only scheduled pods count: a kubelet refuses to start a pod whose claim is being deleted. */
export function claimInUse(claim: Obj, pods: Iterable<Obj>): boolean {
  for (const p of pods) {
    if (p.metadata.namespace !== claim.metadata.namespace || !p.spec?.nodeName || finished(p)) continue;
    if (claimsOfPod(p).includes(claim.metadata.name!)) return true;
  }
  return false;
}

export const volumeInUse = (pv: Obj) => pv.status?.phase === 'Bound';

/** The finalizers left once `finalizer` may go, or undefined when nothing changes. */
export function releaseFinalizer(o: Obj, finalizer: string, inUse: boolean): string[] | undefined {
  if (!o.metadata.deletionTimestamp || inUse) return undefined;
  const fs = o.metadata.finalizers ?? [];
  return fs.includes(finalizer) ? fs.filter((f) => f !== finalizer) : undefined;
}
