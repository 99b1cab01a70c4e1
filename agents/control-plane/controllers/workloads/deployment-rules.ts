// Deployment rollout arithmetic (pure), after upstream's deployment util: surge and unavailable
// fenceposts, how far the new ReplicaSet may grow, how far old ones may shrink, proportional
// scaling of a rollout in flight, and Recreate.
import type { Obj } from '../../apiserver/strategies/types.ts';
import { byCreation, scaledValue } from './meta.ts';

export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';

export const replicasOf = (o: Obj | undefined): number => (o ? (o.spec?.replicas ?? 1) : 0);
export const sumReplicas = (rss: Obj[]) => rss.reduce((n, rs) => n + replicasOf(rs), 0);
export const sumStatus = (rss: Obj[], f: 'replicas' | 'readyReplicas' | 'availableReplicas') => rss.reduce((n, rs) => n + (rs.status?.[f] ?? 0), 0);
export const isRolling = (d: Obj) => (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

/**
 * Available pods of a set that can be counted on: never more than its spec, so a set that was
 * just scaled down is not counted at its old size while its status catches up.
 */
export const countedAvailable = (rs: Obj) => Math.min(rs.status?.availableReplicas ?? 0, replicasOf(rs));

/** maxSurge (rounded up) and maxUnavailable (rounded down); both 0 would deadlock, so unavailable becomes 1. */
export function fenceposts(d: Obj): { surge: number; unavailable: number } {
  const desired = replicasOf(d);
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const surge = scaledValue(ru.maxSurge, desired, true, '25%');
  let unavailable = scaledValue(ru.maxUnavailable, desired, false, '25%');
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxSurge(d: Obj): number {
  return isRolling(d) ? fenceposts(d).surge : 0;
}

export function maxUnavailable(d: Obj): number {
  if (!isRolling(d) || replicasOf(d) === 0) return 0;
  return Math.min(fenceposts(d).unavailable, replicasOf(d));
}

/** Sets with pods wanted. */
export const activeSets = (rss: (Obj | undefined)[]) => rss.filter((rs): rs is Obj => !!rs && replicasOf(rs) > 0);

/** Size the new ReplicaSet may grow to now (upstream NewRSNewReplicas). */
export function newSetTarget(d: Obj, all: Obj[], newRS: Obj | undefined): number {
  const desired = replicasOf(d);
  if (!isRolling(d)) return desired;
  const current = sumReplicas(all);
  const cur = replicasOf(newRS);
  const maxTotal = desired + maxSurge(d);
  if (current >= maxTotal) return cur;
  return cur + Math.min(maxTotal - current, desired - cur);
}

/**
 * New sizes for old ReplicaSets in a rolling update (upstream reconcileOldReplicaSets): first
 * unhealthy replicas go, within what availability allows, then available ones down to
 * replicas - maxUnavailable counting the new set. Oldest sets shrink first.
 */
export function oldSetTargets(d: Obj, all: Obj[], oldRSs: Obj[], newRS: Obj | undefined): Map<string, number> {
  const out = new Map<string, number>();
  const olds = oldRSs.filter((rs) => replicasOf(rs) > 0).sort(byCreation);
  if (!olds.length) return out;
  const size = new Map(all.map((rs) => [rs.metadata.name!, replicasOf(rs)]));
  const total = () => [...size.values()].reduce((a, b) => a + b, 0);
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const newUnavailable = replicasOf(newRS) - (newRS ? countedAvailable(newRS) : 0);
  const maxScaledDown = total() - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return out;
  let cleaned = 0;
  for (const rs of olds) {
    if (cleaned >= maxScaledDown) break;
    const n = size.get(rs.metadata.name!)!;
    const unhealthy = n - Math.min(rs.status?.availableReplicas ?? 0, n);
    if (!unhealthy) continue;
    const cut = Math.min(maxScaledDown - cleaned, unhealthy);
    size.set(rs.metadata.name!, n - cut);
    cleaned += cut;
  }
  const avail = (rs: Obj) => Math.min(rs.status?.availableReplicas ?? 0, size.get(rs.metadata.name!)!);
  const available = all.reduce((n, rs) => n + avail(rs), 0);
  let room = available - minAvailable;
  for (const rs of olds) {
    if (room <= 0) break;
    const n = size.get(rs.metadata.name!)!;
    if (!n) continue;
    const cut = Math.min(n, room);
    size.set(rs.metadata.name!, n - cut);
    room -= cut;
  }
  for (const rs of olds) if (size.get(rs.metadata.name!) !== replicasOf(rs)) out.set(rs.metadata.name!, size.get(rs.metadata.name!)!);
  return out;
}

/** The only set with pods, or the newest one when none has (upstream FindActiveOrLatest). */
export function activeOrLatest(newRS: Obj | undefined, oldRSs: Obj[]): Obj | undefined {
  const all = [...oldRSs, ...(newRS ? [newRS] : [])];
  const active = activeSets(all);
  if (active.length === 1) return active[0];
  if (active.length > 1) return undefined;
  return newRS ?? [...oldRSs].sort(byCreation).pop();
}

function annotationInt(rs: Obj, key: string): number | undefined {
  const v = rs.metadata.annotations?.[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isInteger(n) ? n : undefined;
}

/** Active sets annotated for another desired size: the user scaled the Deployment. */
export function isScalingEvent(d: Obj, all: Obj[]): boolean {
  return activeSets(all).some((rs) => {
    const want = annotationInt(rs, DESIRED_REPLICAS);
    return want !== undefined && want !== replicasOf(d);
  });
}

/** New sizes when the Deployment was scaled (upstream scale()): proportional during a rollout. */
export function scaleTargets(d: Obj, newRS: Obj | undefined, oldRSs: Obj[]): Map<string, number> {
  const out = new Map<string, number>();
  const desired = replicasOf(d);
  const only = activeOrLatest(newRS, oldRSs);
  if (only) {
    if (replicasOf(only) !== desired) out.set(only.metadata.name!, desired);
    return out;
  }
  const saturated =
    newRS && annotationInt(newRS, DESIRED_REPLICAS) === desired && replicasOf(newRS) === desired && (newRS.status?.availableReplicas ?? 0) === desired;
  if (saturated) {
    for (const rs of activeSets(oldRSs)) out.set(rs.metadata.name!, 0);
    return out;
  }
  if (!isRolling(d)) return out;
  const sets = activeSets([...oldRSs, newRS]);
  const allowed = desired > 0 ? desired + maxSurge(d) : 0;
  const toAdd = allowed - sumReplicas(sets);
  // larger first; on ties newer first when growing, older first when shrinking
  sets.sort((a, b) => replicasOf(b) - replicasOf(a) || (toAdd > 0 ? byCreation(b, a) : byCreation(a, b)));
  let added = 0;
  const size = new Map<string, number>();
  for (const rs of sets) {
    let part = 0;
    if (toAdd !== 0 && added !== toAdd) {
      const annotated = annotationInt(rs, MAX_REPLICAS) ?? (d.status?.replicas || 1);
      const fraction = desired === 0 ? -replicasOf(rs) : Math.round((replicasOf(rs) * allowed) / annotated) - replicasOf(rs);
      part = toAdd > 0 ? Math.min(fraction, toAdd - added) : Math.max(fraction, toAdd - added);
    }
    size.set(rs.metadata.name!, replicasOf(rs) + part);
    added += part;
  }
  if (sets.length && toAdd !== 0) {
    const first = sets[0].metadata.name!;
    size.set(first, Math.max(0, size.get(first)! + toAdd - added));
  }
  for (const rs of sets) out.set(rs.metadata.name!, size.get(rs.metadata.name!)!);
  return out;
}

/** The desired/max annotations every set of a Deployment carries. */
export function replicaAnnotations(d: Obj): Record<string, string> {
  return { [DESIRED_REPLICAS]: String(replicasOf(d)), [MAX_REPLICAS]: String(replicasOf(d) + maxSurge(d)) };
}

/** Recreate waits until no pod of an old set is left unfinished (terminating ones included). */
export function oldPodsRunning(oldRSs: Obj[], podsOf: (rs: Obj) => Obj[]): boolean {
  if (sumStatus(oldRSs, 'replicas') > 0) return true;
  return oldRSs.some((rs) => podsOf(rs).some((p) => p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded'));
}
