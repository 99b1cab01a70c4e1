// [sig-apps] CronJob conformance tests, mirrored from upstream's test/e2e/apps/cronjob.go with the
// same steps and checks, on the testapp image (busybox, as upstream's). The schedules are
// upstream's ("*/1 * * * ?"): the concurrency tests wait for real minutes to pass, as upstream's do.
import { conformance, type Ctx } from '../conformance/fixture.ts';
import { openWatch } from '../conformance/watch.ts';
import { collectionPath, deleteCollection, getRaw, type Obj, patch, updateWithRetries, waitObj } from './helpers/apps-e2e.ts';

const it = conformance('cronjob', { timeoutMs: 420_000 });
const cjPath = (c: Ctx, name = '') => `${collectionPath('batch/v1', c.ns, 'cronjobs')}${name ? `/${name}` : ''}`;
const jobsPath = (c: Ctx) => collectionPath('batch/v1', c.ns, 'jobs');

/** upstream's newTestCronJob. */
function newTestCronJob(
  c: Ctx,
  name: string,
  schedule: string,
  concurrencyPolicy: 'Allow' | 'Forbid' | 'Replace',
  command?: string[],
  successLimit?: number,
  failedLimit?: number,
): Obj {
  const container: Obj = { name: 'c', image: c.env.image, volumeMounts: [{ mountPath: '/data', name: 'data' }] };
  if (command) container.command = command;
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name },
    spec: {
      schedule,
      concurrencyPolicy,
      ...(successLimit !== undefined ? { successfulJobsHistoryLimit: successLimit } : {}),
      ...(failedLimit !== undefined ? { failedJobsHistoryLimit: failedLimit } : {}),
      jobTemplate: {
        spec: {
          parallelism: 1,
          completions: 1,
          backoffLimit: 1,
          template: {
            spec: { restartPolicy: 'OnFailure', terminationGracePeriodSeconds: 1, volumes: [{ name: 'data', emptyDir: {} }], containers: [container] },
          },
        },
      },
    },
  };
}
const SLEEP = ['sleep', '300'];

/** upstream's filterActiveJobs: jobs without a Complete or Failed condition. */
const finished = (j: Obj) => (j.status?.conditions ?? []).some((x: Obj) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
const activeJobs = (c: Ctx) => (getRaw(c.k, jobsPath(c)).items as Obj[]).filter((j) => !finished(j));
const waitForActiveJobs = (c: Ctx, name: string, n: number) =>
  waitObj(c.k, cjPath(c, name), `${n} active jobs of cronjob ${name}`, (o) => (o.status?.active ?? []).length >= n, 300_000);
const deleteCronJob = (c: Ctx, name: string) => c.k.ok(['delete', 'cronjob', name, '--cascade=background', '--wait=false']);

it('[sig-apps] CronJob should schedule multiple jobs concurrently [Conformance]', async (t, c) => {
  c.k.create(newTestCronJob(c, 'concurrent', '*/1 * * * ?', 'Allow', SLEEP));
  await waitForActiveJobs(c, 'concurrent', 2);
  t.true(activeJobs(c).length >= 2, 'at least two running jobs by listing jobs explicitly');
  deleteCronJob(c, 'concurrent');
});

it('[sig-apps] CronJob should replace jobs when ReplaceConcurrent [Conformance]', async (t, c) => {
  c.k.create(newTestCronJob(c, 'replace', '*/1 * * * ?', 'Replace', SLEEP));
  await waitForActiveJobs(c, 'replace', 1);
  t.is(getRaw(c.k, cjPath(c, 'replace')).status.active.length, 1, 'exactly one is scheduled');
  const jobs = activeJobs(c);
  t.is(jobs.length, 1, 'exactly one running job by listing jobs explicitly');
  // upstream's waitForJobReplaced: never more than one live job, and a new one replaces the first
  const first = jobs[0].metadata.name;
  await waitObj(
    c.k,
    jobsPath(c),
    'the job replaced by a new one',
    (l) => {
      const alive = (l.items as Obj[]).filter((j) => !j.metadata.deletionTimestamp);
      if (alive.length > 1) throw new Error(`more than one job is running: ${alive.map((j) => j.metadata.name).join(', ')}`);
      return alive.length === 1 && alive[0].metadata.name !== first;
    },
    300_000,
  );
  deleteCronJob(c, 'replace');
});

it('[sig-apps] CronJob should support CronJob API operations [Conformance]', async (t, c) => {
  const label = `special-label=${c.ns}`;
  const tmpl = newTestCronJob(c, 'test-api', '* */1 * * ?', 'Allow', ['/bin/true'], 1, 0);
  tmpl.metadata.labels = { 'special-label': c.ns };
  const created = JSON.parse(c.k.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(tmpl)));
  t.is(getRaw(c.k, cjPath(c, 'test-api')).metadata.uid, created.metadata.uid, 'getting');
  const list = getRaw(c.k, `${cjPath(c)}?labelSelector=${encodeURIComponent(label)}`);
  t.is(list.items.length, 1, 'filtered list should have 1 item');
  const w = await openWatch(c.env.kubeconfig, cjPath(c), { resourceVersion: list.metadata.resourceVersion, labelSelector: label });
  t.teardown(w.stop);
  t.is(getRaw(c.kc, `/apis/batch/v1/cronjobs?labelSelector=${encodeURIComponent(label)}`).items.length, 1, 'cluster-wide listing');
  const cw = await openWatch(c.env.kubeconfig, '/apis/batch/v1/cronjobs', { resourceVersion: list.metadata.resourceVersion, labelSelector: label });
  cw.stop();

  t.is(patch(c.k, 'cronjob', 'test-api', 'merge', { metadata: { annotations: { patched: 'true' } } }).metadata.annotations.patched, 'true', 'patching');
  const updated = await updateWithRetries(c.k, cjPath(c, 'test-api'), (o) => {
    o.metadata.annotations.updated = 'true';
  });
  t.is(updated.metadata.annotations.updated, 'true', 'updating');
  const seen = await w.next(1);
  t.is(seen[0].type, 'MODIFIED', 'the watch saw the patch');

  const now1 = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000).toISOString().replace('.000Z', 'Z');
  const ps = patch(c.k, 'cronjob', 'test-api', 'merge', { metadata: { annotations: { patchedstatus: 'true' } }, status: { lastScheduleTime: now1 } }, 'status');
  t.is(ps.status.lastScheduleTime, now1, 'patching /status');
  t.is(ps.metadata.annotations.patchedstatus, 'true');
  const now2 = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  const us = await updateWithRetries(
    c.k,
    cjPath(c, 'test-api'),
    (o) => {
      o.status = { ...(o.status ?? {}), lastScheduleTime: now2 };
    },
    '/status',
  );
  t.is(us.status.lastScheduleTime, now2, 'updating /status');
  t.is(getRaw(c.k, `${cjPath(c, 'test-api')}/status`).metadata.uid, created.metadata.uid, 'get /status');

  // delete: gone (404), or held by a finalizer with a deletionTimestamp
  c.k.create({ ...tmpl, metadata: { ...tmpl.metadata, name: 'for-removal' } });
  c.k.ok(['delete', 'cronjob', 'for-removal', '--wait=false']);
  const gone = c.k.get<Obj>('cronjob', 'for-removal');
  if (gone) t.truthy(gone.metadata.deletionTimestamp && gone.metadata.finalizers?.length, 'a cronjob still there after delete is held by a finalizer');
  deleteCollection(c.k, cjPath(c), label);
  const left = getRaw(c.k, `${cjPath(c)}?labelSelector=${encodeURIComponent(label)}`).items as Obj[];
  t.true(left.length <= 2);
  for (const cj of left) t.truthy(cj.metadata.deletionTimestamp && cj.metadata.finalizers?.length, 'what remains is held by a finalizer');
});
