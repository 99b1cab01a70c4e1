// Job and CronJob decisions: exactly-once counting through the tracking finalizer, the plan
// (parallelism, completions, indexes, back-off, deadline, suspend, success and failure), cron
// schedules with time zones, due activations, concurrency policy, history.
import test from 'ava';
import type { Obj } from '../../agents/control-plane/apiserver/strategies/types.ts';
import type { OwnerRef } from '../../agents/control-plane/controllers/workloads/meta.ts';
import { parseDuration, parseSchedule } from '../../agents/control-plane/controllers/workloads/cron.ts';
import { decide, dueTimes, historyVictims, jobFor, jobNameFor } from '../../agents/control-plane/controllers/workloads/cronjob-rules.ts';
import {
  backoffMs,
  formatIndexes,
  orphanFinalizerRemovable,
  outcome,
  parseIndexes,
  planJob,
  tally,
  TRACKING_FINALIZER,
} from '../../agents/control-plane/controllers/workloads/job-rules.ts';

const F = TRACKING_FINALIZER;
const jpod = (uid: string, phase: string, o: { fin?: boolean; deleting?: boolean; index?: number } = {}): Obj => ({
  metadata: {
    name: uid,
    uid,
    finalizers: o.fin === false ? [] : [F],
    deletionTimestamp: o.deleting ? 'x' : undefined,
    annotations: o.index === undefined ? undefined : { 'batch.kubernetes.io/job-completion-index': String(o.index) },
  },
  status: { phase },
});
const job = (spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}): Obj => ({ metadata: { name: 'j', uid: 'ju' }, spec, status });
const counts = (succeeded = 0, failed = 0, extra: Record<string, unknown> = {}) => ({ succeeded, failed, completed: new Set<number>(), ...extra });

test("orphanFinalizerRemovable: the finalizer goes when the Job is gone, replaced or finished, never from another controller's pod", (t) => {
  const owned = (kind = 'Job', apiVersion = 'batch/v1', uid = 'ju'): Obj => {
    const p = jpod('p', 'Pending', { deleting: true });
    const ref: OwnerRef = { apiVersion, kind, name: 'j', uid, controller: true };
    return { ...p, metadata: { ...p.metadata, ownerReferences: [ref] } };
  };
  t.true(orphanFinalizerRemovable(owned(), undefined), 'Job gone');
  t.true(orphanFinalizerRemovable(owned('Job', 'batch/v1', 'old'), job()), 'a new Job of the same name');
  t.false(orphanFinalizerRemovable(owned(), job()), 'a live Job keeps tracking its pod');
  t.true(orphanFinalizerRemovable(owned(), job({}, { conditions: [{ type: 'Complete', status: 'True' }] })), 'finished Job');
  t.false(orphanFinalizerRemovable(owned('ReplicaSet', 'apps/v1'), undefined), 'not ours');
  t.true(orphanFinalizerRemovable(jpod('p', 'Running'), undefined), 'no controller at all');
  t.false(orphanFinalizerRemovable(jpod('p', 'Running', { fin: false }), undefined), 'nothing to remove');
});

test('tally: finished pods are recorded first, then released, then settled into the counters', (t) => {
  const pods = [
    jpod('a', 'Succeeded'),
    jpod('b', 'Failed'),
    jpod('c', 'Running'),
    jpod('d', 'Running', { deleting: true }),
    jpod('e', 'Succeeded', { fin: false }),
  ];
  const first = tally(job(), pods);
  t.deepEqual(first.newSucceeded, ['a']);
  t.deepEqual(first.newFailed, ['b', 'd'], 'a deleted running pod counts as failed');
  t.deepEqual(
    first.release.map((p) => p.metadata.uid),
    ['a', 'b', 'd'],
  );
  // recorded already: released again if still holding, settled once the finalizer is gone
  const recorded = job({}, { uncountedTerminatedPods: { succeeded: ['a'], failed: ['b', 'gone'] } });
  const again = tally(recorded, [jpod('a', 'Succeeded'), jpod('b', 'Failed', { fin: false })]);
  t.deepEqual(again.newSucceeded, []);
  t.deepEqual(again.newFailed, []);
  t.deepEqual(
    again.release.map((p) => p.metadata.uid),
    ['a'],
  );
  t.deepEqual(again.settledSucceeded, []);
  t.deepEqual(again.settledFailed, ['b', 'gone']);
  // a Job that succeeded does not count the pods it stops as failures
  const done = job({}, { conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }] });
  t.deepEqual(tally(done, [jpod('x', 'Running', { deleting: true })]).newFailed, []);
});

test('back-off doubles from the base up to six minutes; completion indexes as ranges', (t) => {
  t.is(backoffMs(0), 0);
  t.is(backoffMs(1), 10_000);
  t.is(backoffMs(3), 40_000);
  t.is(backoffMs(20), 360_000);
  t.deepEqual([...parseIndexes('0-2,5,7-8')], [0, 1, 2, 5, 7, 8]);
  t.is(formatIndexes(new Set([8, 0, 1, 2, 5, 7])), '0-2,5,7-8');
  t.is(formatIndexes(new Set()), '');
});

test('plan: parallelism against remaining completions, excess pods removed', (t) => {
  const active = (n: number) => Array.from({ length: n }, (_, i) => jpod(`p${i}`, 'Running'));
  t.like(planJob(job({ completions: 5, parallelism: 2 }), [], counts(), 0), { create: 2 });
  t.like(planJob(job({ completions: 5, parallelism: 2 }), active(1), counts(3), 0), { create: 1 });
  t.like(planJob(job({ completions: 5, parallelism: 2 }), active(2), counts(4), 0), { create: 0 });
  t.is(planJob(job({ completions: 5, parallelism: 2 }), active(2), counts(4), 0).remove.length, 1);
  t.like(planJob(job({ completions: 5, parallelism: 2 }), [], counts(5), 0).target, { type: 'SuccessCriteriaMet', reason: 'CompletionsReached' });
  // no completions: a work queue; done when one succeeded and none runs
  t.like(planJob(job({ parallelism: 3 }), [], counts(), 0), { create: 3 });
  t.like(planJob(job({ parallelism: 3 }), active(2), counts(1), 0), { create: 0, target: undefined });
  t.like(planJob(job({ parallelism: 3 }), [], counts(1), 0).target, { type: 'SuccessCriteriaMet' });
});

test('plan: failures back off, then the backoffLimit fails the Job; deadline and suspend stop it', (t) => {
  const j = job({ completions: 1, backoffLimit: 2 });
  t.like(planJob(j, [], counts(0, 1, { lastFailure: 1000 }), 5000, 10_000), { create: 0, wakeAt: 11_000 });
  t.like(planJob(j, [], counts(0, 1, { lastFailure: 1000 }), 11_000, 10_000), { create: 1 });
  t.like(planJob(j, [], counts(0, 3), 0).target, { type: 'FailureTarget', reason: 'BackoffLimitExceeded' });
  const running = [jpod('r', 'Running')];
  const start = Date.parse('2025-01-01T00:00:00Z');
  const late = job({ completions: 1, activeDeadlineSeconds: 10 }, { startTime: new Date(start).toISOString() });
  t.like(planJob(late, running, counts(), start + 10_000), { target: { type: 'FailureTarget', reason: 'DeadlineExceeded' }, remove: running });
  t.like(planJob(late, running, counts(), start + 5_000), { wakeAt: start + 10_000 });
  t.like(planJob(job({ completions: 1, suspend: true }), running, counts(), 0), { create: 0, remove: running });
  t.like(planJob(job({}, { conditions: [{ type: 'Failed', status: 'True' }] }), running, counts(), 0), { create: 0, remove: running });
  t.is(outcome(job({}, { conditions: [{ type: 'FailureTarget', status: 'True' }] })), 'Failed');
  t.is(outcome(job()), undefined);
});

test('plan: Indexed jobs start the missing indexes up to parallelism', (t) => {
  const j = job({ completions: 4, parallelism: 2, completionMode: 'Indexed' });
  t.deepEqual(planJob(j, [], counts(0, 0, { completed: new Set([0]) }), 0).indexes, [1, 2]);
  t.deepEqual(planJob(j, [jpod('x', 'Running', { index: 1 })], counts(0, 0, { completed: new Set([0]) }), 0).indexes, [2]);
  t.like(planJob(j, [], counts(0, 0, { completed: new Set([0, 1, 2, 3]) }), 0).target, { type: 'SuccessCriteriaMet' });
});

const at = (s: string) => Date.parse(s);
const fmt = (ms: number | undefined) => (ms === undefined ? 'none' : new Date(ms).toISOString());

test('cron: fields, names, ranges, steps, macros, day-of-month OR day-of-week', (t) => {
  const next = (spec: string, from: string) => fmt(parseSchedule(spec, 'UTC').next(at(from)));
  t.is(next('*/15 * * * *', '2025-03-10T10:07:30Z'), '2025-03-10T10:15:00.000Z');
  t.is(next('0 9 * * mon-fri', '2025-03-07T09:00:00Z'), '2025-03-10T09:00:00.000Z', 'Friday 9:00 sharp is past; next is Monday');
  t.is(next('30 2 1 jan,jul *', '2025-03-01T00:00:00Z'), '2025-07-01T02:30:00.000Z');
  t.is(next('@hourly', '2025-03-10T10:00:00Z'), '2025-03-10T11:00:00.000Z');
  t.is(next('@weekly', '2025-03-10T10:00:00Z'), '2025-03-16T00:00:00.000Z');
  t.is(next('0 0 13 * 5', '2025-06-01T00:00:00Z'), '2025-06-06T00:00:00.000Z', 'restricted dom and dow: either matches');
  t.is(next('0 0 */10 * *', '2025-06-02T00:00:00Z'), '2025-06-11T00:00:00.000Z');
  t.is(next('5/20 * * * *', '2025-06-02T00:06:00Z'), '2025-06-02T00:25:00.000Z', 'N/step runs from N to the end');
  t.is(next('0 0 30 2 *', '2025-01-01T00:00:00Z'), 'none', 'February 30th never comes');
  t.is(parseSchedule('@every 90s').next(at('2025-01-01T00:00:00Z')), at('2025-01-01T00:01:30Z'));
  t.is(parseDuration('1h30m'), 5_400_000);
  for (const bad of ['* * * *', '61 * * * *', '* * * * 8', 'a b c d e', '1-0 * * * *', '@every x']) t.throws(() => parseSchedule(bad, 'UTC'), undefined, bad);
  t.throws(() => parseSchedule('* * * * *', 'Mars/Olympus'));
});

test('cron: time zones, including the daylight saving jumps', (t) => {
  const ny = parseSchedule('0 9 * * *', 'America/New_York');
  t.is(fmt(ny.next(at('2025-01-15T00:00:00Z'))), '2025-01-15T14:00:00.000Z');
  t.is(fmt(ny.next(at('2025-07-15T00:00:00Z'))), '2025-07-15T13:00:00.000Z');
  // 02:30 does not exist on 2025-03-09 in New York: that day is skipped
  t.is(fmt(parseSchedule('30 2 * * *', 'America/New_York').next(at('2025-03-09T00:00:00Z'))), '2025-03-10T06:30:00.000Z');
  t.is(fmt(parseSchedule('CRON_TZ=Asia/Tokyo 0 0 * * *').next(at('2025-01-01T00:00:00Z'))), '2025-01-01T15:00:00.000Z');
  t.throws(() => parseSchedule('TZ=UTC 0 0 * * *', 'UTC'));
});

const cj = (spec: Record<string, unknown>, status: Record<string, unknown> = {}, created = '2025-01-01T00:00:00Z'): Obj => ({
  metadata: { name: 'tick', namespace: 'ns', uid: 'cu', creationTimestamp: created },
  spec: { schedule: '*/5 * * * *', ...spec },
  status,
});

test('due activations since the last one, within the starting deadline', (t) => {
  const s = parseSchedule('*/5 * * * *', 'UTC');
  const d = dueTimes(cj({}, { lastScheduleTime: '2025-01-01T00:05:00Z' }), s, at('2025-01-01T00:17:00Z'));
  t.is(fmt(d.scheduled), '2025-01-01T00:15:00.000Z');
  t.is(d.count, 2);
  t.is(fmt(d.next), '2025-01-01T00:20:00.000Z');
  t.is(dueTimes(cj({}, { lastScheduleTime: '2025-01-01T00:15:00Z' }), s, at('2025-01-01T00:17:00Z')).scheduled, undefined);
  const many = dueTimes(cj({}), parseSchedule('* * * * *', 'UTC'), at('2025-01-02T00:00:30Z'));
  t.true(many.count > 100);
  t.is(fmt(many.scheduled), '2025-01-02T00:00:00.000Z', 'the latest activation even after many misses');
  const windowed = dueTimes(cj({ startingDeadlineSeconds: 120 }), s, at('2025-01-01T00:16:00Z'));
  t.is(windowed.count, 1, 'only 00:15 lies within the last 120 s');
});

test('concurrency policy and starting deadline decide; the Job is named by minutes since epoch', (t) => {
  const due = { scheduled: at('2025-01-01T00:15:00Z'), count: 1 };
  const now = at('2025-01-01T00:15:30Z');
  t.is(decide(cj({}), due, 1, now), 'start');
  t.is(decide(cj({ concurrencyPolicy: 'Forbid' }), due, 1, now), 'forbid');
  t.is(decide(cj({ concurrencyPolicy: 'Forbid' }), due, 0, now), 'start');
  t.is(decide(cj({ concurrencyPolicy: 'Replace' }), due, 1, now), 'replace');
  t.is(decide(cj({ startingDeadlineSeconds: 10 }), due, 0, now), 'missed');
  t.is(decide(cj({ suspend: true }), due, 0, now), 'wait');
  t.is(decide(cj({}), { count: 0 }, 0, now), 'wait');
  const j = jobFor(cj({ jobTemplate: { metadata: { labels: { a: 'b' } }, spec: { parallelism: 2 } } }), due.scheduled);
  t.is(j.metadata.name, `tick-${Math.floor(due.scheduled / 60_000)}`);
  t.is(jobNameFor(cj({}), due.scheduled), j.metadata.name!);
  t.like(j, {
    metadata: { labels: { a: 'b' }, annotations: { 'batch.kubernetes.io/cronjob-scheduled-timestamp': '2025-01-01T00:15:00Z' } },
    spec: { parallelism: 2 },
  });
  t.like(j.metadata.ownerReferences?.[0], { kind: 'CronJob', uid: 'cu', controller: true });
});

test('history limits keep the newest finished Jobs of each outcome', (t) => {
  const fin = (name: string, type: string, s: number): Obj => ({
    metadata: { name, creationTimestamp: new Date(s * 1000).toISOString() },
    status: { conditions: [{ type, status: 'True' }] },
  });
  const jobs = [
    fin('ok1', 'Complete', 1),
    fin('ok2', 'Complete', 2),
    fin('bad1', 'Failed', 3),
    fin('bad2', 'Failed', 4),
    { metadata: { name: 'run' }, status: {} } as Obj,
  ];
  t.deepEqual(
    historyVictims(cj({ successfulJobsHistoryLimit: 1 }), jobs).map((j) => j.metadata.name),
    ['ok1', 'bad1'],
  );
  t.deepEqual(
    historyVictims(cj({}), jobs).map((j) => j.metadata.name),
    ['bad1'],
    'defaults: 3 successful, 1 failed',
  );
});
