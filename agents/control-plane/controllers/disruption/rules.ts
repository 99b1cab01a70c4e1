// The disruption controller's decisions as pure functions (upstream pkg/controller/disruption and
// pkg/apis/policy/v1 helpers): which pods a budget selects, how many it expects and wants healthy
// (percentages round up, scaled by the owning controllers' replicas), which recorded disruptions
// still count, and the status with its DisruptionAllowed condition. The eviction subresource
// (apiserver/eviction.ts) shares the selector rule and the condition.
import { fromLabelSelector, type LabelSelectorObject, matchLabels } from '../../apiserver/selectors.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import { isoNow } from '../../apiserver/strategies/types.ts';
import { controllerOf, isReady, type OwnerRef, scaledValue } from '../workloads/meta.ts';

/** An eviction the controller has not seen carried out counts as a disruption this long (upstream DeletionTimeout). */
export const DELETION_TIMEOUT_MS = 2 * 60_000;

export const DISRUPTION_ALLOWED = 'DisruptionAllowed';
export const SUFFICIENT_PODS = 'SufficientPods';
export const INSUFFICIENT_PODS = 'InsufficientPods';
export const SYNC_FAILED = 'SyncFailed';

export interface PdbStatus {
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
  observedGeneration?: number;
  disruptedPods?: Record<string, string>;
  conditions?: Condition[];
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/**
 * Does the budget select pods with these labels? policy/v1: an empty selector selects every pod of
 * the namespace, a missing one none (metav1.LabelSelectorAsSelector); an invalid one none.
 */
export function pdbSelects(pdb: Obj, labels: Record<string, string> | undefined): boolean {
  const sel = pdb.spec?.selector as LabelSelectorObject | undefined;
  if (!sel) return false;
  try {
    return matchLabels(fromLabelSelector(sel), labels ?? {});
  } catch {
    return false;
  }
}

/** The replicas of the controller named by a pod's controller reference, or undefined when it is not one we know. */
export type ScaleFinder = (ref: OwnerRef, namespace: string) => { uid: string; replicas: number } | undefined;

/**
 * upstream getExpectedScale: the sum of the replicas of every controller owning a selected pod;
 * pods without a controller are reported (unmanaged) and not counted; a controller we cannot find
 * is an error.
 */
export function expectedScale(pods: Obj[], find: ScaleFinder): { expected: number; unmanaged: string[] } {
  const scales = new Map<string, number>();
  const unmanaged: string[] = [];
  for (const p of pods) {
    const ref = controllerOf(p);
    if (!ref) {
      unmanaged.push(p.metadata.name!);
      continue;
    }
    if (scales.has(ref.uid)) continue;
    const found = find(ref, p.metadata.namespace!);
    if (!found) throw new Error(`found no controllers for pod "${p.metadata.name}"`);
    scales.set(found.uid, found.replicas);
  }
  let expected = 0;
  for (const n of scales.values()) expected += n;
  return { expected, unmanaged };
}

/** upstream getExpectedPodCount: expected pods and desired healthy for the budget's spec. */
export function expectedCounts(pdb: Obj, pods: Obj[], find: ScaleFinder): { expected: number; desired: number; unmanaged: string[] } {
  const spec = pdb.spec ?? {};
  if (spec.maxUnavailable !== undefined) {
    const { expected, unmanaged } = expectedScale(pods, find);
    const max = scaledValue(spec.maxUnavailable, expected, true, 0);
    return { expected, desired: Math.max(0, expected - max), unmanaged };
  }
  if (typeof spec.minAvailable === 'number') return { expected: pods.length, desired: spec.minAvailable, unmanaged: [] };
  if (typeof spec.minAvailable === 'string') {
    const { expected, unmanaged } = expectedScale(pods, find);
    return { expected, desired: scaledValue(spec.minAvailable, expected, true, 0), unmanaged };
  }
  return { expected: 0, desired: 0, unmanaged: [] };
}

/**
 * upstream buildDisruptedPodMap: the recorded evictions still pending (pod there, not yet being
 * deleted, recorded less than DELETION_TIMEOUT_MS ago), those overdue, and when to look again.
 */
export function pendingDisruptions(pdb: Obj, pods: Obj[], now: number): { pending: Record<string, string>; overdue: string[]; recheckAt?: number } {
  const recorded: Record<string, string> = pdb.status?.disruptedPods ?? {};
  const pending: Record<string, string> = {};
  const overdue: string[] = [];
  let recheckAt: number | undefined;
  for (const p of pods) {
    if (p.metadata.deletionTimestamp) continue;
    const at = Object.hasOwn(recorded, p.metadata.name!) ? recorded[p.metadata.name!] : undefined;
    if (at === undefined) continue;
    const expectedDeletion = Date.parse(at) + DELETION_TIMEOUT_MS;
    if (expectedDeletion < now) overdue.push(p.metadata.name!);
    else {
      pending[p.metadata.name!] = at;
      if (recheckAt === undefined || expectedDeletion < recheckAt) recheckAt = expectedDeletion;
    }
  }
  return { pending, overdue, recheckAt };
}

/** upstream countHealthyPods: Ready, not being deleted, not about to be. */
export function countHealthy(pods: Obj[], pending: Record<string, string>, now: number): number {
  let n = 0;
  for (const p of pods) {
    if (p.metadata.deletionTimestamp) continue;
    const at = Object.hasOwn(pending, p.metadata.name!) ? pending[p.metadata.name!] : undefined;
    if (at !== undefined && Date.parse(at) + DELETION_TIMEOUT_MS > now) continue;
    if (isReady(p)) n++;
  }
  return n;
}

/** apimeta.SetStatusCondition: the transition time moves only when the status does. */
export function setCondition(conds: Condition[], c: Omit<Condition, 'lastTransitionTime'>, now: Date): Condition[] {
  const old = conds.find((x) => x.type === c.type);
  const next: Condition = { ...c, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : isoNow(now) };
  return old ? conds.map((x) => (x === old ? next : x)) : [...conds, next];
}

/** pdbhelper.UpdateDisruptionAllowedCondition. */
export function withDisruptionCondition(st: PdbStatus, now: Date): PdbStatus {
  const allowed = st.disruptionsAllowed > 0;
  return {
    ...st,
    conditions: setCondition(
      st.conditions ?? [],
      {
        type: DISRUPTION_ALLOWED,
        status: allowed ? 'True' : 'False',
        reason: allowed ? SUFFICIENT_PODS : INSUFFICIENT_PODS,
        message: '',
        observedGeneration: st.observedGeneration,
      },
      now,
    ),
  };
}

/** The status upstream's updatePdbStatus writes (pure). */
export function pdbStatus(
  pdb: Obj,
  c: { currentHealthy: number; desiredHealthy: number; expected: number; pending: Record<string, string> },
  now: Date,
): PdbStatus {
  let allowed = c.currentHealthy - c.desiredHealthy;
  // no expected pods yet: safe until their first sync, as upstream
  if (c.expected <= 0 || allowed <= 0) allowed = 0;
  return withDisruptionCondition(
    {
      disruptionsAllowed: allowed,
      currentHealthy: c.currentHealthy,
      desiredHealthy: c.desiredHealthy,
      expectedPods: c.expected,
      ...(Object.keys(c.pending).length ? { disruptedPods: c.pending } : {}),
      observedGeneration: pdb.metadata.generation,
      conditions: pdb.status?.conditions ?? [],
    },
    now,
  );
}

/** upstream failSafe: no disruptions, with the reason the sync failed. */
export function failSafeStatus(pdb: Obj, err: string, now: Date): PdbStatus {
  const st: PdbStatus = { ...(pdb.status ?? {}), disruptionsAllowed: 0 };
  return {
    ...st,
    conditions: setCondition(
      st.conditions ?? [],
      { type: DISRUPTION_ALLOWED, status: 'False', reason: SYNC_FAILED, message: err, observedGeneration: st.observedGeneration },
      now,
    ),
  };
}
