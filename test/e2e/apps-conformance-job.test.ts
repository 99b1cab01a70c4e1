// [sig-apps] Job conformance tests, mirrored from upstream's test/e2e/apps/job.go with the same
// steps and checks. upstream's e2ejob.NewTestJob (busybox, a /data emptyDir, behaviours "succeed",
// "notTerminate", "failOnce") is built here on the testapp image, which is busybox.
import { conformance, type Ctx } from '../conformance/fixture.ts';
import { collectionPath, controllerUid, deleteCollection, getRaw, type Obj, patch, podsOf, updateWithRetries, waitGone, waitObj } from './helpers/apps-e2e.ts';

const it = conformance('job', { timeoutMs: 300_000 });
const jobPath = (c: Ctx, name = '') => `${collectionPath('batch/v1', c.ns, 'jobs')}${name ? `/${name}` : ''}`;
const podPath = (c: Ctx, name: string) => `${collectionPath('v1', c.ns, 'pods')}/${name}`;

const COMMANDS = {
  succeed: 'exit 0',
  notTerminate: 'sleep 1000000',
  // fails the first time, succeeds once restarted in place (the emptyDir outlives the container)
  failOnce: 'if [ -r /data/foo ] ; then exit 0 ; else touch /data/foo ; exit 1 ; fi',
};

/** upstream's e2ejob.NewTestJob. */
function newTestJob(
  c: Ctx,
  behavior: keyof typeof COMMANDS,
  name: string,
  restartPolicy: 'Never' | 'OnFailure',
  parallelism: number,
  completions: number,
  backoffLimit: number,
): Obj {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      parallelism,
      completions,
      backoffLimit,
      template: {
        metadata: { labels: { job: name } },
        spec: {
          restartPolicy,
          terminationGracePeriodSeconds: 1,
          volumes: [{ name: 'data', emptyDir: {} }],
          containers: [{ name: 'c', image: c.env.image, command: ['sh', '-c', COMMANDS[behavior]], volumeMounts: [{ mountPath: '/data', name: 'data' }] }],
        },
      },
    },
  };
}

const jobPods = (c: Ctx, name: string) => podsOf(c.k, `job-name=${name}`);

/** upstream's WaitForJobPodsRunning: exactly n pods of the job Running. */
const waitJobPodsRunning = (c: Ctx, name: string, n: number) =>
  waitObj(c.k, jobPath(c, name), `${n} running pods of job ${name}`, () => jobPods(c, name).filter((p) => p.status?.phase === 'Running').length === n, 120_000);

/** upstream's WaitForJobComplete(CompletionsReached): succeeded == completions and Complete with that reason. */
const waitJobComplete = (c: Ctx, name: string, completions: number) =>
  waitObj(
    c.k,
    jobPath(c, name),
    `job ${name} complete`,
    (j) =>
      j.status?.succeeded === completions &&
      (j.status?.conditions ?? []).some((x: Obj) => x.type === 'Complete' && x.status === 'True' && x.reason === 'CompletionsReached'),
    180_000,
  );

it('[sig-apps] Job should run a job to completion when tasks sometimes fail and are locally restarted [Conformance]', async (t, c) => {
  c.k.create(newTestJob(c, 'failOnce', 'fail-once-local', 'OnFailure', 2, 4, 6));
  const j = await waitJobComplete(c, 'fail-once-local', 4);
  t.is(j.status.succeeded, 4);
});

it('[sig-apps] Job should delete a job [Conformance]', async (t, c) => {
  c.k.create(newTestJob(c, 'notTerminate', 'foo', 'Never', 2, 2, 6));
  await waitJobPodsRunning(c, 'foo', 2);
  // upstream's DeleteResourceAndWaitForGC: a background delete, then the pods go too
  c.k.ok(['delete', 'job', 'foo', '--cascade=background', '--wait=false']);
  await waitGone(c.k, jobPath(c, 'foo'), 'the job deleted');
  await waitObj(c.k, collectionPath('v1', c.ns, 'pods'), "the job's pods collected", () => jobPods(c, 'foo').length === 0, 120_000);
  t.is(c.k.get('job', 'foo'), undefined);
});

it('[sig-apps] Job should adopt matching orphans and release non-matching pods [Conformance]', async (t, c) => {
  c.k.create(newTestJob(c, 'notTerminate', 'adopt-release', 'Never', 2, 2, 6));
  const job = await waitJobPodsRunning(c, 'adopt-release', 2);
  const [pod] = jobPods(c, 'adopt-release');
  // orphaning one of the Job's pods
  await updateWithRetries(c.k, podPath(c, pod.metadata.name), (o) => {
    o.metadata.ownerReferences = null;
  });
  await waitObj(c.k, podPath(c, pod.metadata.name), 'the Job to re-adopt the pod', (o) => controllerUid(o) === job.metadata.uid, 60_000);
  // removing the labels from the Job's pod
  await updateWithRetries(c.k, podPath(c, pod.metadata.name), (o) => {
    o.metadata.labels = null;
  });
  const released = await waitObj(c.k, podPath(c, pod.metadata.name), 'the Job to release the pod', (o) => !controllerUid(o), 60_000);
  t.falsy(controllerUid(released));
});

it('[sig-apps] Job should apply changes to a job status [Conformance]', async (t, c) => {
  const job = JSON.parse(c.k.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(newTestJob(c, 'notTerminate', 'suspend-false-to-true', 'Never', 2, 4, 6))));
  await waitJobPodsRunning(c, 'suspend-false-to-true', 2);
  const now1 = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000).toISOString().replace('.000Z', 'Z');
  const patched = patch(
    c.k,
    'job',
    job.metadata.name,
    'merge',
    {
      metadata: { annotations: { patchedstatus: 'true' } },
      status: { conditions: [{ type: 'CustomConditionType', status: 'True', lastTransitionTime: now1 }] },
    },
    'status',
  );
  const cond = (o: Obj) => (o.status.conditions ?? []).find((x: Obj) => x.type === 'CustomConditionType');
  t.is(cond(patched)?.lastTransitionTime, now1, 'the patched condition with its lastTransitionTime');
  t.is(patched.metadata.annotations?.patchedstatus, 'true', 'the annotation patched through /status');

  const now2 = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  const updated = await updateWithRetries(
    c.k,
    jobPath(c, job.metadata.name),
    (o) => {
      const x = cond(o);
      if (!x) throw new Error('the patched condition is gone');
      x.lastTransitionTime = now2;
    },
    '/status',
  );
  t.is(cond(updated)?.lastTransitionTime, now2, 'UpdateStatus sets the lastTransitionTime');
  t.is(getRaw(c.k, `${jobPath(c, job.metadata.name)}/status`).metadata.uid, job.metadata.uid, 'GET /status is the same job');
});

it('[sig-apps] Job should manage the lifecycle of a job [Conformance]', async (t, c) => {
  const name = `e2e-${Math.random().toString(36).slice(2, 7)}`;
  const selector = `e2e-job-label=${name}`;
  const j = newTestJob(c, 'succeed', name, 'Never', 2, 4, 6);
  j.metadata.labels = { 'e2e-job-label': name };
  j.spec.suspend = true;
  const created = JSON.parse(c.k.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(j)));
  t.regex(created.metadata.resourceVersion, /^[0-9]+$/);

  const patched = patch(c.k, 'job', name, 'strategic', { metadata: { labels: { [name]: 'patched' } } });
  t.true(BigInt(patched.metadata.resourceVersion) > BigInt(created.metadata.resourceVersion), 'patched object should have a larger resource version');
  t.is(patched.metadata.labels[name], 'patched');

  const updated = await updateWithRetries(c.k, jobPath(c, name), (o) => {
    o.spec.suspend = false;
    o.metadata.annotations = { ...(o.metadata.annotations ?? {}), updated: 'true' };
  });
  t.is(updated.metadata.annotations.updated, 'true', 'updated Job should have the applied annotation');

  const listed = getRaw(c.kc, `/apis/batch/v1/jobs?labelSelector=${encodeURIComponent(selector)}`).items as Obj[];
  t.is(listed.length, 1, 'one Job with the label');
  await waitJobComplete(c, name, 4);

  deleteCollection(c.k, jobPath(c), selector);
  await waitGone(c.k, jobPath(c, name), 'the Job deleted by collection');
  t.is(getRaw(c.kc, `/apis/batch/v1/jobs?labelSelector=${encodeURIComponent(selector)}`).items.length, 0);
});
