// CronJob controller: starts a Job named <cronjob>-<minutes since epoch> at each activation of
// the schedule (time zone aware), honouring suspend, startingDeadlineSeconds and
// concurrencyPolicy (Allow, Forbid, Replace), tracks active Jobs and the last schedule/success
// times, and keeps only the configured history of finished Jobs.
import type { Logger } from '../../../api/log.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { isoNow, type Obj } from '../../apiserver/strategies/types.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { recordEvent } from '../../client/events.ts';
import { type ControllerOptions, inNamespace, isNotFound, OwnerController } from './controller.ts';
import { parseSchedule, type Schedule } from './cron.ts';
import { decide, dueTimes, historyVictims, jobFinished, jobFor, jobRef } from './cronjob-rules.ts';
import { type Any, timeMs } from './meta.ts';

const COMPONENT = 'cronjob-controller';
const JOBS = '/apis/batch/v1/jobs';

export class CronJobController extends OwnerController {
  constructor(client: LoopbackClient, log: Logger, o: ControllerOptions = {}) {
    super(client, log, o, { path: '/apis/batch/v1/cronjobs', kind: 'CronJob', apiVersion: 'batch/v1', childPath: JOBS });
  }

  /** CronJobs have no selector: they own exactly the Jobs they made. */
  protected selects(): undefined {
    return undefined;
  }

  private event(cj: Obj, type: 'Normal' | 'Warning', reason: string, message: string): void {
    void recordEvent(this.client, { ...cj, kind: 'CronJob', apiVersion: 'batch/v1' }, type, reason, message, COMPONENT);
  }

  private async deleteJob(j: Obj): Promise<void> {
    try {
      await this.client.request('DELETE', `${inNamespace(JOBS, j.metadata.namespace!)}/${j.metadata.name}`, {
        body: { propagationPolicy: 'Background', preconditions: { uid: j.metadata.uid } },
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  protected async sync(key: string): Promise<void> {
    const cj = this.owners.cache.get(key);
    if (!cj) return;
    const now = this.now();
    const jobs = await this.claim(cj);
    const status: Any = structuredClone(cj.status ?? {});
    let active = jobs.filter((j) => !jobFinished(j) && !j.metadata.deletionTimestamp);
    for (const j of jobs) {
      const done = jobFinished(j) === 'Complete' ? timeMs(j.status?.completionTime) : 0;
      if (done > timeMs(status.lastSuccessfulTime)) status.lastSuccessfulTime = j.status.completionTime;
    }
    for (const j of historyVictims(cj, jobs)) {
      await this.deleteJob(j);
      this.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata.name}`);
    }
    const path = `${inNamespace(this.kind.path, cj.metadata.namespace!)}/${cj.metadata.name}`;
    let schedule: Schedule | undefined;
    try {
      schedule = parseSchedule(cj.spec?.schedule ?? '', cj.spec?.timeZone ?? undefined);
    } catch (e) {
      const tz = e instanceof RangeError;
      this.event(
        cj,
        'Warning',
        tz ? 'UnknownTimeZone' : 'UnparseableSchedule',
        tz ? `invalid timeZone: "${cj.spec?.timeZone}": ${e.message}` : `unparseable schedule: "${cj.spec?.schedule}" : ${(e as Error).message}`,
      );
    }
    if (schedule && !cj.metadata.deletionTimestamp) {
      const due = dueTimes(cj, schedule, now);
      if (due.count > 100)
        this.event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
      const d = decide(cj, due, active.length, now);
      if (d === 'missed') this.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${isoNow(new Date(due.scheduled!))}`);
      if (d === 'forbid') this.log.info({ cronjob: key }, 'not starting a Job: the previous one still runs and concurrencyPolicy is Forbid');
      if (d === 'replace') {
        for (const j of active) {
          await this.deleteJob(j);
          this.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata.name}`);
        }
        active = [];
      }
      if (d === 'start' || d === 'replace') {
        const started = await this.startJob(cj, due.scheduled!);
        if (started) active = [...active.filter((j) => j.metadata.uid !== started.metadata.uid), started];
        status.lastScheduleTime = isoNow(new Date(due.scheduled!));
      }
      if (due.next !== undefined) this.enqueueAfter(key, due.next - now + 100);
    }
    if (active.length) status.active = active.map(jobRef);
    else delete status.active;
    await this.writeStatus(path, cj, status);
  }

  private async startJob(cj: Obj, scheduled: number): Promise<Obj | undefined> {
    const want = jobFor(cj, scheduled);
    try {
      const job = await this.client.create(inNamespace(JOBS, cj.metadata.namespace!), want);
      this.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${job.metadata.name}`);
      return job;
    } catch (e) {
      // made already (our status write was lost): adopting the existing one is enough
      if (e instanceof ApiError && e.code === 409) return this.children.cache.get(`${cj.metadata.namespace}/${want.metadata.name}`);
      this.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${(e as Error).message}`);
      throw e;
    }
  }
}
