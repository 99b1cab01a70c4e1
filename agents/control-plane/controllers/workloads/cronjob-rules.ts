// CronJob decisions (pure): the latest activation that is due, whether to start it under the
// concurrency policy and starting deadline, the Job it starts, and which finished Jobs the
// history limits let go.
import { isoNow, type Obj } from '../../apiserver/strategies/types.ts';
import type { Schedule } from './cron.ts';
import { type Any, byCreation, controllerRefTo, timeMs } from './meta.ts';

export const SCHEDULED_AT = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
const MAX_MISSED = 100;

export function jobFinished(job: Obj): 'Complete' | 'Failed' | undefined {
  const c = (job.status?.conditions ?? []).find((x: Any) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  return c?.type;
}

export interface Due {
  /** the most recent activation in (earliest, now], if any */
  scheduled?: number;
  /** activations in that window (capped just past MAX_MISSED) */
  count: number;
  /** the next activation after now */
  next?: number;
}

/** Activations since the last one started (or since creation / the starting deadline). */
export function dueTimes(cj: Obj, schedule: Schedule, now: number): Due {
  let earliest = timeMs(cj.status?.lastScheduleTime) || timeMs(cj.metadata.creationTimestamp);
  const sds = cj.spec?.startingDeadlineSeconds;
  if (sds !== undefined && sds !== null) earliest = Math.max(earliest, now - sds * 1000);
  const due: Due = { count: 0, next: schedule.next(now) };
  for (let t = schedule.next(earliest); t !== undefined && t <= now; t = schedule.next(t)) {
    due.scheduled = t;
    if (++due.count > MAX_MISSED) {
      // too many to walk: only the latest matters, found by stepping back from now
      due.scheduled = latestBefore(schedule, t, now);
      break;
    }
  }
  return due;
}

function latestBefore(schedule: Schedule, from: number, now: number): number {
  let lo = from;
  for (let span = 60_000; ; span *= 2) {
    const probe = now - span;
    if (probe <= lo) break;
    const t = schedule.next(probe);
    if (t !== undefined && t <= now) {
      lo = t;
      break;
    }
  }
  for (let t = schedule.next(lo); t !== undefined && t <= now; t = schedule.next(t)) lo = t;
  return lo;
}

export type Decision = 'wait' | 'start' | 'forbid' | 'replace' | 'missed';

export function decide(cj: Obj, due: Due, activeJobs: number, now: number): Decision {
  if (cj.spec?.suspend || due.scheduled === undefined) return 'wait';
  const sds = cj.spec?.startingDeadlineSeconds;
  if (sds !== undefined && sds !== null && due.scheduled + sds * 1000 < now) return 'missed';
  const policy = cj.spec?.concurrencyPolicy ?? 'Allow';
  if (activeJobs > 0 && policy === 'Forbid') return 'forbid';
  if (activeJobs > 0 && policy === 'Replace') return 'replace';
  return 'start';
}

export const jobNameFor = (cj: Obj, scheduled: number) => `${cj.metadata.name}-${Math.floor(scheduled / 60_000)}`;

export function jobFor(cj: Obj, scheduled: number): Obj {
  const t = structuredClone(cj.spec?.jobTemplate ?? {});
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(cj, scheduled),
      namespace: cj.metadata.namespace,
      labels: t.metadata?.labels ?? {},
      annotations: { ...(t.metadata?.annotations ?? {}), [SCHEDULED_AT]: isoNow(new Date(scheduled)) },
      ownerReferences: [controllerRefTo(cj, 'batch/v1', 'CronJob')],
    },
    spec: t.spec ?? {},
  };
}

/** Finished Jobs beyond successfulJobsHistoryLimit (3) and failedJobsHistoryLimit (1), oldest first. */
export function historyVictims(cj: Obj, jobs: Obj[]): Obj[] {
  const out: Obj[] = [];
  for (const [kind, limit] of [
    ['Complete', cj.spec?.successfulJobsHistoryLimit ?? 3],
    ['Failed', cj.spec?.failedJobsHistoryLimit ?? 1],
  ] as const) {
    const done = jobs.filter((j) => jobFinished(j) === kind && !j.metadata.deletionTimestamp).sort(byCreation);
    out.push(...done.slice(0, Math.max(0, done.length - limit)));
  }
  return out;
}

export const jobRef = (j: Obj) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  namespace: j.metadata.namespace,
  name: j.metadata.name,
  uid: j.metadata.uid,
  resourceVersion: j.metadata.resourceVersion,
});
