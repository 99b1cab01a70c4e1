// Upstream's emptyDir sizeLimit eviction rule (eviction_manager.go emptyDirLimitEviction), pure: a
// pod whose emptyDir (disk- or memory-backed) uses more than its positive sizeLimit is evicted with
// upstream's message, at most once per pod; critical pods (static, mirror, system-critical priority)
// are never evicted, as upstream's evictPod refuses them.
import type { V1Pod, V1Volume } from '@kubernetes/client-node';
import { canonicalQuantity } from '../../api/quantity-format.ts';
import { bytes } from '../../api/quantity.ts';
import { isMirrorPod, isStaticPod } from '../static/static-pods.ts';

/** upstream's Reason of every kubelet eviction (the status reason and the event's) */
export const EVICTED = 'Evicted';
/** upstream's immediateEvictionGracePeriodSeconds, the grace of a local-storage eviction */
export const EVICTION_GRACE_SEC = 1;
/** scheduling.SystemCriticalPriority */
const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

export interface Eviction {
  volume: string;
  message: string;
}

/** kubelettypes.IsCriticalPod: static and mirror pods, and pods of system-critical priority. */
export const isCriticalPod = (pod: V1Pod): boolean => isStaticPod(pod) || isMirrorPod(pod) || (pod.spec?.priority ?? 0) >= SYSTEM_CRITICAL_PRIORITY;

/** The emptyDir volumes with a positive sizeLimit: the only ones whose usage needs measuring. */
export function limitedEmptyDirs(pod: V1Pod): V1Volume[] {
  return (pod.spec?.volumes ?? []).filter((v) => v.emptyDir && (bytes(v.emptyDir.sizeLimit) ?? 0) > 0);
}

/** The message of upstream's emptyDirMessageFmt: the limit as Quantity.String() prints it. */
export const emptyDirMessage = (volume: string, sizeLimit: unknown): string =>
  `Usage of EmptyDir volume ${JSON.stringify(volume)} exceeds the limit ${JSON.stringify(String(canonicalQuantity(sizeLimit)))}. `;

/** The first limited emptyDir (in spec order) whose measured usage exceeds its limit, if the pod may be evicted. */
export function emptyDirLimitEviction(pod: V1Pod, usedBytes: ReadonlyMap<string, number>): Eviction | undefined {
  for (const v of limitedEmptyDirs(pod)) {
    const used = usedBytes.get(v.name);
    if (used === undefined || used <= bytes(v.emptyDir!.sizeLimit)!) continue;
    return isCriticalPod(pod) ? undefined : { volume: v.name, message: emptyDirMessage(v.name, v.emptyDir!.sizeLimit) };
  }
  return undefined;
}
