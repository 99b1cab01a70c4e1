// Deployment status (pure): the counts `kubectl rollout status` reads and the Available and
// Progressing conditions, including the progress deadline and pause/resume.
import { isoNow, type Obj } from '../../apiserver/strategies/types.ts';
import type { Any } from './meta.ts';
import { timeMs } from './meta.ts';
import { maxUnavailable, replicasOf, sumStatus } from './deployment-rules.ts';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

export const getCondition = (status: Any | undefined, type: string): Condition | undefined =>
  (status?.conditions ?? []).find((c: Condition) => c.type === type);

/** Puts a condition in place; the transition time moves only when the status does. */
export function setCondition(status: Any, c: Condition, now: number): void {
  const iso = isoNow(new Date(now));
  const old = getCondition(status, c.type);
  if (old && old.status === c.status && old.reason === c.reason) {
    c.lastTransitionTime = old.lastTransitionTime;
    c.lastUpdateTime = old.message === c.message ? old.lastUpdateTime : iso;
  } else {
    c.lastTransitionTime = old && old.status === c.status ? old.lastTransitionTime : iso;
    c.lastUpdateTime = iso;
  }
  status.conditions = [...(status.conditions ?? []).filter((x: Condition) => x.type !== c.type), c];
}

/** Counts from the sets' statuses, with the Available condition (upstream calculateStatus). */
export function calculateStatus(d: Obj, all: Obj[], newRS: Obj | undefined, now: number): Any {
  const available = sumStatus(all, 'availableReplicas');
  const status: Any = {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: sumStatus(all, 'replicas'),
    updatedReplicas: newRS ? (newRS.status?.replicas ?? 0) : 0,
    readyReplicas: sumStatus(all, 'readyReplicas'),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, replicasOf(d) - available),
    conditions: structuredClone(d.status?.conditions ?? []),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (available >= replicasOf(d) - maxUnavailable(d)) {
    setCondition(status, { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }, now);
  } else {
    setCondition(
      status,
      { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
      now,
    );
  }
  return status;
}

/** Every desired replica is updated and available, and nothing old is left. */
export function isComplete(d: Obj, s: Any): boolean {
  const want = replicasOf(d);
  return s.updatedReplicas === want && s.replicas === want && s.availableReplicas === want && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 1);
}

/** The rollout moved since the last status (upstream DeploymentProgressing). */
export function madeProgress(old: Any | undefined, s: Any): boolean {
  const o = old ?? {};
  const oldOld = (o.replicas ?? 0) - (o.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    s.updatedReplicas > (o.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    s.readyReplicas > (o.readyReplicas ?? 0) ||
    s.availableReplicas > (o.availableReplicas ?? 0)
  );
}

const TIMED_OUT = 'ProgressDeadlineExceeded';

/** When the rollout times out if nothing moves (epoch ms); undefined without a deadline. */
export function progressDeadline(d: Obj, s: Any): number | undefined {
  const secs = d.spec?.progressDeadlineSeconds;
  const c = getCondition(s, 'Progressing');
  if (secs === undefined || secs === null || !c || c.reason === TIMED_OUT || c.status !== 'True') return undefined;
  return timeMs(c.lastUpdateTime) + secs * 1000;
}

/** Status with the Progressing condition after a rollout step (upstream syncRolloutStatus). */
export function rolloutStatus(d: Obj, all: Obj[], newRS: Obj | undefined, now: number): Any {
  const s = calculateStatus(d, all, newRS, now);
  const cur = getCondition(s, 'Progressing');
  // a finished rollout on resync estimates nothing (upstream isCompleteDeployment)
  const settled = s.replicas === s.updatedReplicas && cur?.reason === 'NewReplicaSetAvailable';
  const secs = d.spec?.progressDeadlineSeconds;
  if (secs !== undefined && secs !== null && !settled) {
    const rsName = newRS?.metadata.name ?? '';
    if (isComplete(d, s)) {
      setCondition(
        s,
        { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` },
        now,
      );
    } else if (madeProgress(d.status, s)) {
      // progress moves lastUpdateTime (the deadline clock) even when nothing else changes
      const iso = isoNow(new Date(now));
      const c: Condition = {
        type: 'Progressing',
        status: 'True',
        reason: 'ReplicaSetUpdated',
        message: `ReplicaSet "${rsName}" is progressing.`,
        lastUpdateTime: iso,
        lastTransitionTime: cur?.status === 'True' ? cur.lastTransitionTime : iso,
      };
      s.conditions = [...s.conditions.filter((x: Condition) => x.type !== 'Progressing'), c];
    } else {
      const deadline = progressDeadline(d, s);
      if (deadline !== undefined && deadline < now) {
        setCondition(s, { type: 'Progressing', status: 'False', reason: TIMED_OUT, message: `ReplicaSet "${rsName}" has timed out progressing.` }, now);
      }
    }
  }
  // a failure of the new set to make pods is the Deployment's ReplicaFailure
  const failure = newRS ? getCondition(newRS.status, 'ReplicaFailure') : undefined;
  if (failure?.status === 'True') setCondition(s, { type: 'ReplicaFailure', status: 'True', reason: failure.reason, message: failure.message }, now);
  else s.conditions = s.conditions.filter((c: Condition) => c.type !== 'ReplicaFailure');
  return s;
}

/** Progressing=Unknown DeploymentPaused / DeploymentResumed when pause flips (undefined: no change). */
export function pauseCondition(d: Obj): Condition | undefined {
  const c = getCondition(d.status, 'Progressing');
  if (c?.reason === TIMED_OUT) return undefined;
  if (d.spec?.paused && c?.reason !== 'DeploymentPaused')
    return { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' };
  if (!d.spec?.paused && c?.reason === 'DeploymentPaused')
    return { type: 'Progressing', status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed' };
  return undefined;
}

/** The Progressing condition set when the new set is made or found. */
export function newSetCondition(d: Obj, rsName: string, created: boolean): Condition | undefined {
  if (created) return { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${rsName}"` };
  if (!getCondition(d.status, 'Progressing'))
    return { type: 'Progressing', status: 'True', reason: 'FoundNewReplicaSet', message: `Found new replica set "${rsName}"` };
  return undefined;
}
