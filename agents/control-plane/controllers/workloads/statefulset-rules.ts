// StatefulSet decisions (pure): stable pod names <set>-<ordinal>; with OrderedReady, ordinal n
// is created only once 0..n-1 are Running and Ready, scale-down removes the highest ordinal first
// and one at a time; Parallel does both at once; RollingUpdate replaces outdated pods from the
// highest ordinal down to the partition, one at a time, each waiting for the previous to be Ready.
import { podClaimVolumes } from './statefulset-claims-rules.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import { type Any, isAvailable, isReady, isTerminal } from './meta.ts';
import { BURST_REPLICAS } from './replicaset-rules.ts';

export const REVISION_LABEL = 'controller-revision-hash';
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

/** The ordinal in a pod's name, or -1 when the name is not <set>-<n>. */
export function ordinalOf(setName: string, pod: Obj): number {
  const name = pod.metadata.name ?? '';
  if (!name.startsWith(`${setName}-`)) return -1;
  const tail = name.slice(setName.length + 1);
  return /^(0|[1-9]\d*)$/.test(tail) ? Number(tail) : -1;
}

export const revisionName = (set: Obj, hash: string) => `${set.metadata.name}-${hash}`;

const healthy = (p: Obj) => p.status?.phase === 'Running' && isReady(p) && !p.metadata.deletionTimestamp;

export interface SetPlan {
  create: number[];
  delete: Obj[];
}

/**
 * What to do next; `updateRevision` is the revision name pods of the current template carry. A
 * Parallel set creates at most `burst` pods a pass, so that the scan of ordinals costs the pods
 * that exist plus the burst, never `replicas` (up to 2147483647).
 */
export function planStatefulSet(set: Obj, pods: Obj[], updateRevision: string, burst = BURST_REPLICAS): SetPlan {
  const name = set.metadata.name!;
  const replicas = set.spec?.replicas ?? 1;
  const start = set.spec?.ordinals?.start ?? 0;
  const ordered = (set.spec?.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
  const byOrdinal = new Map<number, Obj>();
  for (const p of pods) {
    const n = ordinalOf(name, p);
    if (n >= 0) byOrdinal.set(n, p);
  }
  const plan: SetPlan = { create: [], delete: [] };
  // finished pods are deleted and come back under the same name
  for (const p of byOrdinal.values()) if (isTerminal(p) && !p.metadata.deletionTimestamp && plan.delete.length < burst) plan.delete.push(p);
  if (plan.delete.length) return plan;

  for (let n = start; n < start + replicas; n++) {
    const p = byOrdinal.get(n);
    if (!p) {
      plan.create.push(n);
      if (ordered || plan.create.length >= burst) return plan;
      continue;
    }
    if (ordered && !healthy(p)) return plan;
  }
  if (plan.create.length) return plan;

  const condemned = [...byOrdinal.entries()]
    .filter(([n]) => n < start || n >= start + replicas)
    .sort((a, b) => b[0] - a[0])
    .map(([, p]) => p);
  for (const p of condemned) {
    if (p.metadata.deletionTimestamp) {
      if (ordered) return plan;
      continue;
    }
    plan.delete.push(p);
    if (ordered || plan.delete.length >= burst) return plan;
  }
  if (plan.delete.length || condemned.length) return plan;

  if ((set.spec?.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return plan;
  const partition = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
  for (let n = start + replicas - 1; n >= start + partition; n--) {
    const p = byOrdinal.get(n)!;
    if (p.metadata.labels?.[REVISION_LABEL] === updateRevision) {
      if (!healthy(p)) return plan; // wait for the replaced pod before touching the next one
      continue;
    }
    if (!p.metadata.deletionTimestamp) plan.delete.push(p);
    return plan;
  }
  return plan;
}

export function statefulSetStatus(set: Obj, pods: Obj[], updateRevision: string, now: number): Any {
  const live = pods.filter((p) => ordinalOf(set.metadata.name!, p) >= 0 && !isTerminal(p));
  const updated = live.filter((p) => p.metadata.labels?.[REVISION_LABEL] === updateRevision).length;
  const replicas = set.spec?.replicas ?? 1;
  // the current revision catches up with the update revision once every pod runs it
  const currentRevision = updated === replicas && live.length === replicas ? updateRevision : (set.status?.currentRevision ?? updateRevision);
  return {
    observedGeneration: set.metadata.generation ?? 1,
    replicas: live.length,
    readyReplicas: live.filter(isReady).length,
    currentReplicas: live.filter((p) => p.metadata.labels?.[REVISION_LABEL] === currentRevision).length,
    updatedReplicas: updated,
    availableReplicas: live.filter((p) => isAvailable(p, set.spec?.minReadySeconds ?? 0, now)).length,
    currentRevision,
    updateRevision,
    collisionCount: set.status?.collisionCount ?? 0,
    // the controller sets no condition itself; those a client wrote through /status stay, as upstream's
    ...(set.status?.conditions !== undefined ? { conditions: set.status.conditions } : {}),
  };
}

/** The pod of one ordinal: stable name, hostname and subdomain, identity labels. */
export function podIdentity(set: Obj, ordinal: number, updateRevision: string): { name: string; labels: Record<string, string>; spec: (s: Any) => void } {
  const name = `${set.metadata.name}-${ordinal}`;
  return {
    name,
    labels: { [REVISION_LABEL]: updateRevision, [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal) },
    spec: (s) => {
      s.hostname = name;
      if (set.spec?.serviceName) s.subdomain = set.spec.serviceName;
      podClaimVolumes(set, ordinal, s);
    },
  };
}
