// batch/v1 Jobs and CronJobs: defaulting (a Job's generated selector included), validation and
// printing. Their controllers live in controllers/.
import { AGE_COLUMN, NAME_COLUMN, age, col, humanDuration } from '../tables/table.ts';
import { type FieldError, invalid, required } from '../validation/field.ts';
import { selectorString, validateTemplate } from './apps.ts';
import { defaultPodSpec } from '../../../api/pod-defaults.ts';
import type { Obj, Strategy } from './types.ts';

const JOB_UID_LABEL = 'batch.kubernetes.io/controller-uid';
const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';

function defaultJobSpec(spec: Record<string, any>): void {
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex !== undefined ? 2147483647 : 6;
  spec.completionMode ||= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ||= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  spec.template ??= {};
  spec.template.spec ??= {};
  defaultPodSpec(spec.template.spec);
}

/** Job pods restart OnFailure or Never; the rest of the template is checked like any workload's. */
function validateJobSpec(spec: Record<string, any>, path: string): FieldError[] {
  const errs = validateTemplate('job', spec, path);
  const rp = spec.template?.spec?.restartPolicy;
  if (rp !== 'OnFailure' && rp !== 'Never')
    errs.push({ type: 'NotSupported', field: `${path}.template.spec.restartPolicy`, value: rp, detail: 'supported values: "OnFailure", "Never"' });
  for (const f of ['parallelism', 'completions', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished'])
    if (typeof spec[f] === 'number' && spec[f] < 0) errs.push(invalid(`${path}.${f}`, spec[f], 'must be greater than or equal to 0'));
  if (spec.completionMode && !['NonIndexed', 'Indexed'].includes(spec.completionMode))
    errs.push({ type: 'NotSupported', field: `${path}.completionMode`, value: spec.completionMode, detail: 'supported values: "NonIndexed", "Indexed"' });
  return errs;
}

function containersOf(tpl: Record<string, any> | undefined): [string, string] {
  const cs: { name: string; image?: string }[] = tpl?.spec?.containers ?? [];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image ?? '').join(',')];
}

/** The STATUS column of kubectl get jobs, from the Job's conditions (upstream's printer). */
export function jobStatus(o: Obj): string {
  const has = (type: string) => (o.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === type && c.status === 'True');
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (o.metadata.deletionTimestamp) return 'Terminating';
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (has('FailureTarget')) return 'FailureTarget';
  if (has('Suspended')) return 'Suspended';
  return 'Running';
}

function jobCompletions(o: Obj): string {
  const succeeded = o.status?.succeeded ?? 0;
  if (o.spec?.completions !== undefined && o.spec?.completions !== null) return `${succeeded}/${o.spec.completions}`;
  const p = o.spec?.parallelism ?? 0;
  return p > 1 ? `${succeeded}/1 of ${p}` : `${succeeded}/1`;
}

function jobDuration(o: Obj, now: Date): string {
  const start = o.status?.startTime;
  if (!start) return '';
  const end = o.status?.completionTime ? new Date(o.status.completionTime) : now;
  return humanDuration(end.getTime() - new Date(start).getTime());
}

export const jobStrategy: Strategy = {
  defaults(o) {
    o.spec ??= {};
    defaultJobSpec(o.spec);
  },
  prepareForCreate(o) {
    o.status = {};
    // upstream generates the selector from the Job's uid unless the user chose one (manualSelector)
    if (o.spec.manualSelector !== true) {
      const uid = o.metadata.uid!;
      const labels = { [JOB_UID_LABEL]: uid, [JOB_NAME_LABEL]: o.metadata.name!, 'controller-uid': uid, 'job-name': o.metadata.name! };
      o.spec.template.metadata ??= {};
      o.spec.template.metadata.labels = { ...(o.spec.template.metadata.labels ?? {}), ...labels };
      o.spec.selector ??= { matchLabels: { [JOB_UID_LABEL]: uid } };
    }
  },
  validate: (o) => validateJobSpec(o.spec ?? {}, 'spec'),
  validateUpdate(next, old) {
    const errs: FieldError[] = [];
    if (JSON.stringify(next.spec?.selector) !== JSON.stringify(old.spec?.selector))
      errs.push(invalid('spec.selector', next.spec?.selector, 'field is immutable'));
    if (JSON.stringify(next.spec?.completions) !== JSON.stringify(old.spec?.completions) && old.spec?.completionMode !== 'Indexed')
      errs.push(invalid('spec.completions', next.spec?.completions, 'field is immutable'));
    // the template may change only while the Job is suspended (upstream: mutable scheduling directives)
    if (!old.spec?.suspend && JSON.stringify(next.spec?.template) !== JSON.stringify(old.spec?.template))
      errs.push(invalid('spec.template', next.spec?.template, 'field is immutable'));
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Status', 'Status of the job.'),
      col('Completions', 'The completion status of the job.'),
      col('Duration', 'Time required to complete the job.'),
      AGE_COLUMN,
      col('Containers', 'Names of each container in the template.', 1),
      col('Images', 'Images referenced by each container in the template.', 1),
      col('Selector', 'Selector used for filtering by labels.', 1),
    ],
    row: (o, now) => [
      o.metadata.name,
      jobStatus(o),
      jobCompletions(o),
      jobDuration(o, now),
      age(o.metadata.creationTimestamp, now),
      ...containersOf(o.spec?.template),
      selectorString(o.spec?.selector),
    ],
  },
};

const CRON_MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);
const CRON_FIELD = /^(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/\d+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/\d+)?)*$/;

/** Why a cron schedule does not parse, or undefined (5 fields, a macro, or @every <duration>). */
export function cronScheduleError(schedule: string): string | undefined {
  const s = schedule.trim().replace(/^(TZ|CRON_TZ)=\S+\s+/, '');
  if (CRON_MACROS.has(s)) return undefined;
  if (s.startsWith('@every ')) return /^@every (\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(s) ? undefined : `failed to parse duration ${s.slice(7)}`;
  const fields = s.split(/\s+/).filter(Boolean);
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: ${schedule}`;
  const bad = fields.find((f) => !CRON_FIELD.test(f));
  return bad ? `failed to parse int from ${bad}` : undefined;
}

export const cronJobStrategy: Strategy = {
  defaults(o) {
    o.spec ??= {};
    o.spec.concurrencyPolicy ||= 'Allow';
    o.spec.suspend ??= false;
    o.spec.successfulJobsHistoryLimit ??= 3;
    o.spec.failedJobsHistoryLimit ??= 1;
    o.spec.jobTemplate ??= {};
    o.spec.jobTemplate.spec ??= {};
    defaultJobSpec(o.spec.jobTemplate.spec);
  },
  prepareForCreate(o) {
    o.status = {};
  },
  validate(o) {
    const spec = o.spec ?? {};
    const errs: FieldError[] = [];
    if (!spec.schedule) errs.push(required('spec.schedule'));
    else {
      const why = cronScheduleError(spec.schedule);
      if (why) errs.push(invalid('spec.schedule', spec.schedule, why));
    }
    if (spec.schedule && /^\s*(TZ|CRON_TZ)=/.test(spec.schedule))
      errs.push(invalid('spec.schedule', spec.schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
    if (!['Allow', 'Forbid', 'Replace'].includes(spec.concurrencyPolicy))
      errs.push({
        type: 'NotSupported',
        field: 'spec.concurrencyPolicy',
        value: spec.concurrencyPolicy,
        detail: 'supported values: "Allow", "Forbid", "Replace"',
      });
    // the job template's selector is generated per Job: only the pod template is checked here
    const js = { ...(spec.jobTemplate?.spec ?? {}) };
    if (!js.selector) js.selector = { matchLabels: js.template?.metadata?.labels ?? {} };
    errs.push(...validateJobSpec(js, 'spec.jobTemplate.spec').filter((e) => !e.field.endsWith('.selector')));
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Schedule', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
      col('Timezone', 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.'),
      col('Suspend', 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.', 0, 'boolean'),
      col('Active', 'A list of pointers to currently running jobs.', 0, 'integer'),
      col('Last Schedule', 'Information when was the last time the job was successfully scheduled.'),
      AGE_COLUMN,
      col('Containers', 'Names of each container in the template.', 1),
      col('Images', 'Images referenced by each container in the template.', 1),
      col('Selector', 'Selector used for filtering by labels.', 1),
    ],
    row: (o, now) => [
      o.metadata.name,
      o.spec?.schedule ?? '',
      o.spec?.timeZone ?? '<none>',
      o.spec?.suspend ? 'True' : 'False',
      (o.status?.active ?? []).length,
      o.status?.lastScheduleTime ? age(o.status.lastScheduleTime, now) : '<none>',
      age(o.metadata.creationTimestamp, now),
      ...containersOf(o.spec?.jobTemplate?.spec?.template),
      selectorString(o.spec?.jobTemplate?.spec?.selector),
    ],
  },
};
