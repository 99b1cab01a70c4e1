// Job decisions (pure). Pods carry the job-tracking finalizer until their outcome is in the Job's
// status (first in uncountedTerminatedPods, then in succeeded/failed), so a pod deleted early is
// still counted exactly once. The plan: how many pods to start (parallelism, completions, backoff
// after failures), which to remove, and when the Job has met success or failure.
import type { Obj } from '../../apiserver/strategies/types.ts';
import { type Any, controllerOf, isTerminal, timeMs } from './meta.ts';
import { BURST_REPLICAS, deletionOrder } from './replicaset-rules.ts';

export const TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const INDEX_KEY = 'batch.kubernetes.io/job-completion-index';

export function jobPodLabels(job: Obj): Record<string, string> {
  const uid = job.metadata.uid!;
  const name = job.metadata.name!;
  return { 'batch.kubernetes.io/controller-uid': uid, 'controller-uid': uid, 'batch.kubernetes.io/job-name': name, 'job-name': name };
}

const hasCondition = (job: Obj, type: string) => (job.status?.conditions ?? []).some((c: Any) => c.type === type && c.status === 'True');

/** 'Complete' or 'Failed' once decided (the interim SuccessCriteriaMet/FailureTarget count too). */
export function outcome(job: Obj): 'Complete' | 'Failed' | undefined {
  if (hasCondition(job, 'Complete') || hasCondition(job, 'SuccessCriteriaMet')) return 'Complete';
  if (hasCondition(job, 'Failed') || hasCondition(job, 'FailureTarget')) return 'Failed';
  return undefined;
}

export interface Tally {
  /** finished pods to record in uncountedTerminatedPods now */
  newSucceeded: string[];
  newFailed: string[];
  /** pods whose finalizer can go (their outcome is or will be recorded first) */
  release: Obj[];
  /** recorded uids whose pods no longer hold the finalizer: move into the counters */
  settledSucceeded: string[];
  settledFailed: string[];
}

export const holds = (p: Obj) => (p.metadata.finalizers ?? []).includes(TRACKING_FINALIZER);

/**
 * May the finalizer of a pod no live Job tracks go (upstream's syncOrphanPod)? Yes when it has no
 * controller, or its controlling batch/v1 Job is gone (`job` undefined, or another uid) or
 * finished; never for a pod another kind of controller owns.
 */
export function orphanFinalizerRemovable(pod: Obj, job: Obj | undefined): boolean {
  if (!holds(pod)) return false;
  const ref = controllerOf(pod);
  if (!ref) return true;
  if (ref.kind !== 'Job' || ref.apiVersion !== 'batch/v1') return false;
  if (!job || job.metadata.uid !== ref.uid) return true;
  return hasCondition(job, 'Complete') || hasCondition(job, 'Failed');
}

/**
 * Which finished pods are new, which can be released, which recorded ones are settled. Once a
 * Job has succeeded, the pods it stops are released without being counted as failures.
 */
export function tally(job: Obj, pods: Obj[]): Tally {
  const succeeded = outcome(job) === 'Complete';
  const unc = job.status?.uncountedTerminatedPods ?? {};
  const recS = new Set<string>(unc.succeeded ?? []);
  const recF = new Set<string>(unc.failed ?? []);
  const t: Tally = { newSucceeded: [], newFailed: [], release: [], settledSucceeded: [], settledFailed: [] };
  const byUid = new Map(pods.map((p) => [p.metadata.uid!, p]));
  for (const p of pods) {
    if (!holds(p) || !(isTerminal(p) || p.metadata.deletionTimestamp)) continue;
    const uid = p.metadata.uid!;
    const ok = p.status?.phase === 'Succeeded';
    if (!recS.has(uid) && !recF.has(uid) && (ok || !succeeded)) (ok ? t.newSucceeded : t.newFailed).push(uid);
    t.release.push(p);
  }
  for (const uid of recS) if (!byUid.get(uid) || !holds(byUid.get(uid)!)) t.settledSucceeded.push(uid);
  for (const uid of recF) if (!byUid.get(uid) || !holds(byUid.get(uid)!)) t.settledFailed.push(uid);
  return t;
}

/** Exponential back-off before replacing failed pods: base, 2x base ... up to six minutes. */
export function backoffMs(failed: number, baseMs = 10_000, maxMs = 360_000): number {
  return failed <= 0 ? 0 : Math.min(maxMs, baseMs * 2 ** (failed - 1));
}

export const indexOf = (p: Obj): number => {
  const v = p.metadata.annotations?.[INDEX_KEY] ?? p.metadata.labels?.[INDEX_KEY];
  const n = Number(v);
  return v !== undefined && Number.isInteger(n) && n >= 0 ? n : -1;
};

/** "0-2,5" as a set, and back. */
export function parseIndexes(s: string | undefined): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (b ?? a); i++) out.add(i);
  }
  return out;
}

export function formatIndexes(set: Set<number>): string {
  const xs = [...set].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < xs.length; i++) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j] + 1) j++;
    parts.push(i === j ? `${xs[i]}` : `${xs[i]}-${xs[j]}`);
    i = j;
  }
  return parts.join(',');
}

export interface Target {
  type: 'SuccessCriteriaMet' | 'FailureTarget';
  reason: string;
  message: string;
}

export interface JobPlan {
  create: number;
  /** Indexed mode: the completion indexes to start */
  indexes: number[];
  remove: Obj[];
  target?: Target;
  wakeAt?: number;
}

export interface Counts {
  succeeded: number;
  failed: number;
  completed: Set<number>;
  /** epoch ms of the latest pod failure, for back-off */
  lastFailure?: number;
}

/** The plan of one pass: at most `burst` pods created or removed (the rest in later passes). */
export function planJob(job: Obj, active: Obj[], c: Counts, now: number, backoffBaseMs = 10_000, burst = BURST_REPLICAS): JobPlan {
  const plan: JobPlan = { create: 0, indexes: [], remove: [] };
  const stopAll = (target?: Target): JobPlan => ({ ...plan, remove: deletionOrder(active).slice(0, burst), target });
  if (outcome(job)) return stopAll();
  if (job.spec?.suspend) return stopAll();
  const start = timeMs(job.status?.startTime);
  const ads = job.spec?.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null && start) {
    if (start + ads * 1000 <= now)
      return stopAll({ type: 'FailureTarget', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' });
    plan.wakeAt = start + ads * 1000;
  }
  if (c.failed > (job.spec?.backoffLimit ?? 6))
    return stopAll({ type: 'FailureTarget', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
  const parallelism = job.spec?.parallelism ?? 1;
  const completions: number | undefined = job.spec?.completions ?? undefined;
  const success: Target = { type: 'SuccessCriteriaMet', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' };
  let want: number;
  if (job.spec?.completionMode === 'Indexed' && completions !== undefined) {
    if (c.completed.size >= completions) return stopAll(success);
    // the lowest indexes neither done nor running: the scan stops once it has this pass's share,
    // so it costs what exists plus the burst, not `completions` (up to 2147483647)
    const need = Math.min(Math.max(0, parallelism - active.length), burst);
    const running = new Set(active.map(indexOf));
    for (let i = 0; i < completions && plan.indexes.length < need; i++) if (!c.completed.has(i) && !running.has(i)) plan.indexes.push(i);
    want = active.length + plan.indexes.length;
  } else if (completions !== undefined) {
    if (c.succeeded >= completions) return stopAll(success);
    want = Math.min(parallelism, completions - c.succeeded);
  } else {
    if (c.succeeded > 0 && active.length === 0) return stopAll(success);
    want = c.succeeded > 0 ? active.length : parallelism;
  }
  const diff = want - active.length;
  if (diff < 0) plan.remove = deletionOrder(active).slice(0, Math.min(-diff, burst));
  if (diff > 0 || plan.indexes.length) {
    const ready = (c.lastFailure ?? 0) + backoffMs(c.failed, backoffBaseMs);
    if (c.failed > 0 && ready > now) {
      plan.indexes = [];
      plan.wakeAt = Math.min(plan.wakeAt ?? Infinity, ready);
    } else if (!plan.indexes.length) plan.create = Math.min(diff, burst);
  }
  return plan;
}
