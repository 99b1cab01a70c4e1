// ReplicaSet decisions (pure): which pods go first on scale-down, and the status the set reports.
import { isoNow, type Obj } from '../../apiserver/strategies/types.ts';
import { type Any, creationMs, isAvailable, isReady, readyCondition, timeMs } from './meta.ts';

export const DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';
const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function restarts(p: Obj): number {
  return (p.status?.containerStatuses ?? []).reduce((n: number, c: Any) => Math.max(n, c.restartCount ?? 0), 0);
}

function cost(p: Obj): number {
  const v = Number(p.metadata.annotations?.[DELETION_COST]);
  return Number.isFinite(v) ? v : 0;
}

/**
 * Active pods in the order upstream deletes them (ActivePodsWithRanks): unscheduled before
 * scheduled, Pending before Unknown before Running, not ready before ready, lower deletion cost
 * first, pods doubled up on a node first, recently ready before long ready, more restarts first,
 * newer before older.
 */
export function deletionOrder(pods: Obj[]): Obj[] {
  const perNode = new Map<string, number>();
  for (const p of pods) if (p.spec?.nodeName) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
  const rank = (p: Obj) => (p.spec?.nodeName ? perNode.get(p.spec.nodeName)! : 0);
  return [...pods].sort((a, b) => {
    const assigned = Number(!!a.spec?.nodeName) - Number(!!b.spec?.nodeName);
    if (assigned) return assigned;
    const phase = (PHASE_ORDER[a.status?.phase] ?? 0) - (PHASE_ORDER[b.status?.phase] ?? 0);
    if (phase) return phase;
    const ready = Number(isReady(a)) - Number(isReady(b));
    if (ready) return ready;
    const c = cost(a) - cost(b);
    if (c) return c;
    const doubled = rank(b) - rank(a);
    if (doubled) return doubled;
    if (isReady(a) && isReady(b)) {
      const since = timeMs(readyCondition(b)?.lastTransitionTime) - timeMs(readyCondition(a)?.lastTransitionTime);
      if (since) return since;
    }
    const r = restarts(b) - restarts(a);
    if (r) return r;
    return creationMs(b) - creationMs(a);
  });
}

export function podsToDelete(active: Obj[], n: number): Obj[] {
  return n <= 0 ? [] : deletionOrder(active).slice(0, n);
}

/**
 * The most pods one controller pass creates or deletes for one owner (upstream's burstReplicas and
 * the Job controller's MaxPodCreateDeletePerSync): an owner asking for 2147483647 gets them 500 at
 * a time, each pass waiting for the informer to see the last one's pods.
 */
export const BURST_REPLICAS = 500;

/** How many pods to create (>0) or delete (<0) to reach the desired count. */
export function replicaDiff(desired: number, active: number, burst = BURST_REPLICAS): number {
  const d = desired - active;
  return d > 0 ? Math.min(d, burst) : Math.max(d, -burst);
}

export interface Failure {
  reason: 'FailedCreate' | 'FailedDelete';
  message: string;
}

/** Upstream calculateStatus over the set's active pods. */
export function replicaSetStatus(rs: Obj, active: Obj[], now: number, failure?: Failure): Any {
  const minReady = rs.spec?.minReadySeconds ?? 0;
  const templateLabels: Record<string, string> = rs.spec?.template?.metadata?.labels ?? {};
  const fully = active.filter((p) => Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v)).length;
  let conditions: Any[] = (rs.status?.conditions ?? []).filter((c: Any) => c.type !== 'ReplicaFailure');
  const existing = (rs.status?.conditions ?? []).find((c: Any) => c.type === 'ReplicaFailure');
  if (failure) {
    conditions = [
      ...conditions,
      existing?.reason === failure.reason && existing.message === failure.message
        ? existing
        : { type: 'ReplicaFailure', status: 'True', reason: failure.reason, message: failure.message, lastTransitionTime: isoNow(new Date(now)) },
    ];
  }
  const status: Any = {
    replicas: active.length,
    fullyLabeledReplicas: fully,
    readyReplicas: active.filter(isReady).length,
    availableReplicas: active.filter((p) => isAvailable(p, minReady, now)).length,
    observedGeneration: rs.metadata.generation ?? 1,
  };
  if (conditions.length) status.conditions = conditions;
  return status;
}

/** The earliest moment a ready-but-not-yet-available pod turns available (for a timed resync). */
export function nextAvailability(active: Obj[], minReadySeconds: number, now: number): number | undefined {
  if (!minReadySeconds) return undefined;
  let next: number | undefined;
  for (const p of active) {
    if (!isReady(p) || isAvailable(p, minReadySeconds, now)) continue;
    const at = timeMs(readyCondition(p)?.lastTransitionTime) + minReadySeconds * 1000;
    next = next === undefined ? at : Math.min(next, at);
  }
  return next;
}
