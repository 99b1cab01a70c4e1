// [sig-apps] StatefulSet conformance tests, mirrored from upstream's test/e2e/apps/statefulset.go
// ("Basic StatefulSet functionality", which makes the headless Service "test" first) with the same
// steps and checks. upstream's webserver (httpd) container is the testapp image (busybox httpd on
// 8080), so setHTTPProbe's readiness GET goes to / on 8080 instead of /index.html on 80.
import { conformance, type Ctx } from '../conformance/fixture.ts';
import { collectionPath, deleteCollection, getRaw, isReady, type Obj, patch, podsOf, putRaw, updateWithRetries, waitObj } from './helpers/apps-e2e.ts';

const it = conformance('statefulset', { timeoutMs: 300_000 });
const SS = 'ss2';
const LABELS = { foo: 'bar', baz: 'blah' };
const ssPath = (c: Ctx, name = '') => `${collectionPath('apps/v1', c.ns, 'statefulsets')}${name ? `/${name}` : ''}`;

/** upstream's e2estatefulset.NewStatefulSet plus setHTTPProbe. */
function newStatefulSet(c: Ctx, name: string, replicas: number, labels: Record<string, string>): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      replicas,
      serviceName: 'test',
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'webserver',
              image: c.env.image,
              readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1, successThreshold: 1, failureThreshold: 1 },
            },
          ],
        },
      },
    },
  };
}

/** upstream's BeforeEach: the governing headless Service. */
function headlessService(c: Ctx): void {
  c.k.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'test' },
    spec: { clusterIP: 'None', selector: LABELS, ports: [{ name: 'http', port: 80 }] },
  });
}

/** upstream's WaitForRunningAndReady then waitForStatus (observedGeneration caught up). */
async function runningAndReady(c: Ctx, name: string, n: number, selector: Record<string, string>): Promise<Obj> {
  const sel = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  await waitObj(
    c.k,
    ssPath(c, name),
    `${n} running and ready pods of ${name}`,
    () => {
      const ps = podsOf(c.k, sel);
      return ps.length === n && ps.every((p) => p.status?.phase === 'Running' && isReady(p));
    },
    180_000,
  );
  return waitObj(c.k, ssPath(c, name), `${name} status observed`, (o) => (o.status?.observedGeneration ?? 0) >= o.metadata.generation, 60_000);
}

it('[sig-apps] StatefulSet Basic StatefulSet functionality [StatefulSetBasic] should have a working scale subresource [Conformance]', async (t, c) => {
  headlessService(c);
  c.k.create(newStatefulSet(c, SS, 1, LABELS));
  await runningAndReady(c, SS, 1, LABELS);
  const scale = getRaw(c.k, `${ssPath(c, SS)}/scale`);
  t.is(scale.spec.replicas, 1, 'getting scale subresource');
  scale.metadata.resourceVersion = '';
  scale.spec.replicas = 2;
  t.is(putRaw(c.k, `${ssPath(c, SS)}/scale`, scale).spec.replicas, 2, 'updating a scale subresource');
  t.is(getRaw(c.k, ssPath(c, SS)).spec.replicas, 2, 'the statefulset Spec.Replicas was modified');
  patch(c.k, 'statefulset', SS, 'strategic', { spec: { replicas: 4 } }, 'scale');
  t.is(getRaw(c.k, ssPath(c, SS)).spec.replicas, 4, 'statefulset should have 4 replicas');
});

it('[sig-apps] StatefulSet Basic StatefulSet functionality [StatefulSetBasic] should list, patch and delete a collection of StatefulSets [Conformance]', async (t, c) => {
  headlessService(c);
  const labels = { name: 'sample-pod', pod: 'httpd' };
  c.k.create(newStatefulSet(c, 'test-ss', 1, labels));
  await runningAndReady(c, 'test-ss', 1, labels);
  // upstream's patch, its capitalised "TerminationGracePeriodSeconds" (an unknown field, dropped) included
  patch(c.k, 'statefulset', 'test-ss', 'strategic', {
    metadata: { labels: { 'test-ss': 'patched' } },
    spec: { replicas: 2, template: { spec: { TerminationGracePeriodSeconds: 1, containers: [{ name: 'test-ss', image: c.env.altImage }] } } },
  });
  const ss = getRaw(c.k, ssPath(c, 'test-ss'));
  t.is(ss.spec.replicas, 2, 'statefulset should have 2 replicas');
  t.is(ss.spec.template.spec.containers[0].image, c.env.altImage, 'statefulset using ssPatchImage');
  await runningAndReady(c, 'test-ss', 2, labels);
  t.is(getRaw(c.kc, '/apis/apps/v1/statefulsets?labelSelector=test-ss%3Dpatched').items.length, 1, 'filtered list');
  deleteCollection(c.k, ssPath(c), 'test-ss=patched');
  t.is(getRaw(c.kc, '/apis/apps/v1/statefulsets?labelSelector=test-ss%3Dpatched').items.length, 0, 'filtered list should have no Statefulsets');
});

it('[sig-apps] StatefulSet Basic StatefulSet functionality [StatefulSetBasic] should validate Statefulset Status endpoints [Conformance]', async (t, c) => {
  headlessService(c);
  c.k.create(newStatefulSet(c, SS, 1, LABELS));
  await runningAndReady(c, SS, 1, LABELS);
  t.is(patch(c.k, 'statefulset', SS, 'strategic', { metadata: { labels: { e2e: 'testing' } } }).metadata.labels.e2e, 'testing');
  t.is(getRaw(c.k, `${ssPath(c, SS)}/status`).kind, 'StatefulSet');
  await updateWithRetries(
    c.k,
    ssPath(c, SS),
    (o) => {
      o.status.conditions = [...(o.status.conditions ?? []), { type: 'StatusUpdate', status: 'True', reason: 'E2E', message: 'Set from e2e test' }];
    },
    '/status',
  );
  await waitObj(
    c.k,
    ssPath(c, SS),
    'the StatusUpdate condition',
    (o) =>
      o.metadata.labels?.e2e === 'testing' &&
      (o.status.conditions ?? []).some((x: Obj) => x.type === 'StatusUpdate' && x.reason === 'E2E' && x.message === 'Set from e2e test'),
    30_000,
  );
  patch(c.k, 'statefulset', SS, 'merge', { status: { conditions: [{ type: 'StatusPatched', status: 'True' }] } }, 'status');
  await waitObj(c.k, ssPath(c, SS), 'the StatusPatched condition', (o) => (o.status.conditions ?? []).some((x: Obj) => x.type === 'StatusPatched'), 30_000);
});
