import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiHandler } from '../../agents/control-plane/apiserver/handler.ts';
import { parseDeleteOptions } from '../../agents/control-plane/apiserver/body.ts';
import { withPropagationFinalizers } from '../../agents/control-plane/apiserver/lifecycle.ts';
import { Registry } from '../../agents/control-plane/apiserver/registry.ts';
import { cronScheduleError, jobStatus } from '../../agents/control-plane/apiserver/strategies/batch.ts';
import { formatSelector, scaleOf } from '../../agents/control-plane/apiserver/subresources.ts';
import { SqliteStore } from '../../agents/control-plane/storage/sqlite.ts';

function server(t: { teardown(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-wl-'));
  const store = new SqliteStore(join(dir, 'db'));
  t.teardown(() => {
    void store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const h = new ApiHandler({ store, registry: new Registry(), serverAddress: '127.0.0.1:6443', serviceCIDR: '10.96.0.0/12' });
  const user = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };
  const call = async (method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const r = await h.handle({
      method,
      path: path.split('?')[0],
      query: new URLSearchParams(path.split('?')[1] ?? ''),
      headers: { 'content-type': contentType },
      body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
      user,
    });
    if (r.kind !== 'object') throw new Error(r.kind);
    return { status: r.status, body: r.body as any };
  };
  return { h, call, store, ready: () => call('POST', '/api/v1/namespaces', { metadata: { name: 'default' } }) };
}

const tpl = (restartPolicy?: string) => ({
  metadata: { labels: { app: 'x' } },
  spec: { ...(restartPolicy ? { restartPolicy } : {}), containers: [{ name: 'c', image: 'busybox' }] },
});

test('a Job gets upstream defaults and a selector generated from its uid', async (t) => {
  const { call, ready } = server(t);
  await ready();
  const r = await call('POST', '/apis/batch/v1/namespaces/default/jobs', {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'j' },
    spec: { template: tpl('Never') },
  });
  t.is(r.status, 201, JSON.stringify(r.body));
  const j = r.body;
  t.like(j.spec, {
    completions: 1,
    parallelism: 1,
    backoffLimit: 6,
    completionMode: 'NonIndexed',
    suspend: false,
    podReplacementPolicy: 'TerminatingOrFailed',
  });
  t.deepEqual(j.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': j.metadata.uid } });
  t.like(j.spec.template.metadata.labels, { 'batch.kubernetes.io/job-name': 'j', 'job-name': 'j', 'controller-uid': j.metadata.uid, app: 'x' });
  const bad = await call('POST', '/apis/batch/v1/namespaces/default/jobs', { metadata: { name: 'k' }, spec: { template: tpl() } });
  t.is(bad.status, 422);
  t.regex(bad.body.message, /spec\.template\.spec\.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"/);
});

test('CronJobs: defaults, schedule validation, printing', async (t) => {
  const { call, ready } = server(t);
  await ready();
  const ok = await call('POST', '/apis/batch/v1/namespaces/default/cronjobs', {
    metadata: { name: 'c' },
    spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: tpl('OnFailure') } } },
  });
  t.is(ok.status, 201, JSON.stringify(ok.body));
  t.like(ok.body.spec, { concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
  const bad = await call('POST', '/apis/batch/v1/namespaces/default/cronjobs', {
    metadata: { name: 'd' },
    spec: { schedule: 'every minute', jobTemplate: { spec: { template: tpl('Never') } } },
  });
  t.is(bad.status, 422);
  t.regex(bad.body.message, /spec\.schedule: Invalid value: "every minute"/);
  t.is(cronScheduleError('@hourly'), undefined);
  t.is(cronScheduleError('0 0 * * MON-FRI'), undefined);
  t.is(cronScheduleError('@every 1h30m'), undefined);
  t.regex(cronScheduleError('* * *')!, /exactly 5 fields/);
  t.is(jobStatus({ metadata: {}, status: { conditions: [{ type: 'Complete', status: 'True' }] } }), 'Complete');
  t.is(jobStatus({ metadata: {}, status: {} }), 'Running');
});

test('DaemonSets and StatefulSets: defaults and selector checks', async (t) => {
  const { call, ready } = server(t);
  await ready();
  const ds = await call('POST', '/apis/apps/v1/namespaces/default/daemonsets', {
    metadata: { name: 'd' },
    spec: { selector: { matchLabels: { app: 'x' } }, template: tpl() },
  });
  t.is(ds.status, 201, JSON.stringify(ds.body));
  t.deepEqual(ds.body.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  t.like(ds.body.status, { desiredNumberScheduled: 0, numberReady: 0 });
  const sts = await call('POST', '/apis/apps/v1/namespaces/default/statefulsets', {
    metadata: { name: 's' },
    spec: { serviceName: 's', selector: { matchLabels: { app: 'x' } }, template: tpl() },
  });
  t.is(sts.status, 201, JSON.stringify(sts.body));
  t.like(sts.body.spec, { replicas: 1, podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } } });
  const mismatch = await call('POST', '/apis/apps/v1/namespaces/default/statefulsets', {
    metadata: { name: 't' },
    spec: { selector: { matchLabels: { app: 'y' } }, template: tpl() },
  });
  t.regex(mismatch.body.message, /`selector` does not match template `labels`/);
  const changed = await call('PATCH', '/apis/apps/v1/namespaces/default/statefulsets/s', { spec: { serviceName: 'other' } }, 'application/merge-patch+json');
  t.is(changed.status, 422);
  t.regex(changed.body.message, /updates to statefulset spec for fields other than/);
});

test('scale subresource: get, patch and put through autoscaling/v1 Scale', async (t) => {
  const { call, ready } = server(t);
  await ready();
  await call('POST', '/apis/apps/v1/namespaces/default/deployments', {
    metadata: { name: 'web' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'x' } }, template: tpl() },
  });
  const s = await call('GET', '/apis/apps/v1/namespaces/default/deployments/web/scale');
  t.like(s.body, { kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 2 }, status: { replicas: 0, selector: 'app=x' } });
  const p = await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/web/scale', { spec: { replicas: 4 } }, 'application/merge-patch+json');
  t.is(p.body.spec.replicas, 4);
  const d = (await call('GET', '/apis/apps/v1/namespaces/default/deployments/web')).body;
  t.is(d.spec.replicas, 4);
  t.is(d.metadata.generation, 2);
  const stale = await call('PUT', '/apis/apps/v1/namespaces/default/deployments/web/scale', {
    metadata: { name: 'web', resourceVersion: '1' },
    spec: { replicas: 1 },
  });
  t.is(stale.status, 409);
  const neg = await call('PUT', '/apis/apps/v1/namespaces/default/deployments/web/scale', { metadata: { name: 'web' }, spec: { replicas: -1 } });
  t.is(neg.status, 422);
  t.regex(neg.body.message, /spec\.replicas: Invalid value: -1: must be greater than or equal to 0/);
  t.is(
    formatSelector({
      matchLabels: { b: '2', a: '1' },
      matchExpressions: [
        { key: 'c', operator: 'In', values: ['y', 'x'] },
        { key: 'd', operator: 'DoesNotExist' },
      ],
    }),
    'a=1,b=2,c in (x,y),!d',
  );
  t.is(scaleOf({ metadata: { name: 'n' }, spec: {} }).status.selector, undefined);
});

test('eviction deletes the pod gracefully; an unbound pod goes at once', async (t) => {
  const { call, ready } = server(t);
  await ready();
  await call('POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'p' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i' }] } });
  const e = await call('POST', '/api/v1/namespaces/default/pods/p/eviction', {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: 'p', namespace: 'default' },
  });
  t.is(e.status, 201);
  t.like(e.body, { kind: 'Status', status: 'Success' });
  t.truthy((await call('GET', '/api/v1/namespaces/default/pods/p')).body.metadata.deletionTimestamp);
  t.is((await call('POST', '/api/v1/namespaces/default/pods/missing/eviction', { metadata: { name: 'missing' } })).status, 404);
});

test('delete propagation policies become garbage-collector finalizers', async (t) => {
  const { call, ready } = server(t);
  await ready();
  await call('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'fg' } });
  const fg = await call('DELETE', '/api/v1/namespaces/default/configmaps/fg', { propagationPolicy: 'Foreground' });
  t.deepEqual(fg.body.metadata.finalizers, ['foregroundDeletion']);
  t.truthy(fg.body.metadata.deletionTimestamp);
  await call('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'or' } });
  const or = await call('DELETE', '/api/v1/namespaces/default/configmaps/or?propagationPolicy=Orphan');
  t.deepEqual(or.body.metadata.finalizers, ['orphan']);
  await call('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'bg' } });
  t.is((await call('DELETE', '/api/v1/namespaces/default/configmaps/bg', { propagationPolicy: 'Background' })).body.status, 'Success');
  t.is((await call('GET', '/api/v1/namespaces/default/configmaps/bg')).status, 404);
  // the garbage collector releasing the finalizer completes the deletion
  await call('PATCH', '/api/v1/namespaces/default/configmaps/fg', [{ op: 'remove', path: '/metadata/finalizers' }], 'application/json-patch+json');
  t.is((await call('GET', '/api/v1/namespaces/default/configmaps/fg')).status, 404);
  t.throws(() => parseDeleteOptions({ propagationPolicy: 'Sometimes' }, new URLSearchParams()), { message: /Unsupported value: "Sometimes"/ });
  t.throws(() => parseDeleteOptions({ propagationPolicy: 'Orphan', orphanDependents: true }, new URLSearchParams()), { message: /Cannot both set/ });
  t.is(parseDeleteOptions({ orphanDependents: true }, new URLSearchParams()).propagationPolicy, 'Orphan');
  const o = { metadata: { finalizers: ['x', 'orphan'] } };
  t.deepEqual(withPropagationFinalizers(o, 'Foreground').metadata.finalizers, ['x', 'foregroundDeletion']);
  t.is(withPropagationFinalizers(o, undefined), o);
});
