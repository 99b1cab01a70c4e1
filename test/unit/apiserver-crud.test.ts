// API semantics through the transport-independent handler (no TLS), on a real SQLite store.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiHandler } from '../../agents/control-plane/apiserver/handler.ts';
import { Registry } from '../../agents/control-plane/apiserver/registry.ts';
import { LoopbackClient, type WatchEventOut } from '../../agents/control-plane/client/loopback.ts';
import { ApiError } from '../../agents/control-plane/apiserver/errors.ts';
import { SqliteStore } from '../../agents/control-plane/storage/sqlite.ts';

async function setup(t: ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-api-'));
  const store = new SqliteStore(join(dir, 'state.db'));
  const handler = new ApiHandler({
    store,
    registry: new Registry(),
    serverAddress: '127.0.0.1:6443',
    serviceCIDR: '10.96.0.0/12',
    watch: { bookmarkIntervalMs: 100 },
  });
  const c = new LoopbackClient(handler, { name: 'admin', groups: ['system:masters'] });
  await c.create('/api/v1/namespaces', { metadata: { name: 'default' } });
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { c, handler, store };
}

const podBody = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
  ...extra,
});
const PODS = '/api/v1/namespaces/default/pods';

async function apiError(t: ExecutionContext, p: Promise<unknown>): Promise<ApiError> {
  return (await t.throwsAsync(p, { instanceOf: ApiError })) as ApiError;
}

test('create sets server fields; duplicates are AlreadyExists; generateName', async (t) => {
  const { c } = await setup(t);
  const p = await c.create(PODS, podBody('a'));
  t.truthy(p.metadata.uid);
  t.regex(p.metadata.creationTimestamp!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.is(p.metadata.generation, 1);
  t.regex(p.metadata.resourceVersion!, /^\d+$/);
  t.is(p.status.phase, 'Pending');
  const dup = await apiError(t, c.create(PODS, podBody('a')));
  t.is(dup.code, 409);
  t.is(dup.reason, 'AlreadyExists');
  const g = await c.create(PODS, { ...podBody(''), metadata: { generateName: 'web-' } });
  t.regex(g.metadata.name!, /^web-[a-z0-9]{5}$/);
  const missingNs = await apiError(t, c.create('/api/v1/namespaces/nope/pods', podBody('x')));
  t.is(missingNs.code, 404);
});

test('nothing is stored on a validation error', async (t) => {
  const { c } = await setup(t);
  const e = await apiError(t, c.create(PODS, { ...podBody('bad'), spec: { containers: [{ name: 'c' }] } }));
  t.is(e.code, 422);
  t.is((await c.list(PODS)).items.length, 0);
  const wrongKind = await apiError(t, c.create(PODS, { ...podBody('k'), kind: 'Service' }));
  t.is(wrongKind.code, 400);
});

test('PUT with a stale resourceVersion is a Conflict; spec changes bump generation, labels do not', async (t) => {
  const { c } = await setup(t);
  const p = await c.create(PODS, podBody('a'));
  const labelled = await c.update(`${PODS}/a`, { ...p, metadata: { ...p.metadata, labels: { app: 'x' } } });
  t.is(labelled.metadata.generation, 1);
  const stale = await apiError(t, c.update(`${PODS}/a`, { ...p, spec: { ...p.spec, containers: [{ ...p.spec.containers[0], image: 'busybox:2' }] } }));
  t.is(stale.code, 409);
  t.is(stale.reason, 'Conflict');
  const img = await c.patch(`${PODS}/a`, { spec: { containers: [{ name: 'c', image: 'busybox:2' }] } }, 'strategic');
  t.is(img.metadata.generation, 2);
  const forbidden = await apiError(t, c.patch(`${PODS}/a`, { spec: { restartPolicy: 'Never' } }));
  t.is(forbidden.code, 422);
  const nf = await apiError(t, c.get(`${PODS}/zzz`));
  t.is(nf.code, 404);
  t.deepEqual(nf.details, { name: 'zzz', group: undefined, kind: 'pods' });
});

test('status subresource: main writes keep status, status writes keep spec', async (t) => {
  const { c } = await setup(t);
  await c.create(PODS, podBody('a'));
  await c.patch(`${PODS}/a/status`, { status: { phase: 'Running', podIP: '10.244.1.2' }, spec: { restartPolicy: 'Never' } });
  const p = await c.get(`${PODS}/a`);
  t.is(p.status.phase, 'Running');
  t.is(p.spec.restartPolicy, 'Always');
  await c.patch(`${PODS}/a`, { status: { phase: 'Failed' }, metadata: { labels: { z: '1' } } });
  const q = await c.get(`${PODS}/a`);
  t.is(q.status.phase, 'Running');
  t.is(q.metadata.labels!.z, '1');
});

test('binding assigns once and sets PodScheduled', async (t) => {
  const { c } = await setup(t);
  await c.create(PODS, podBody('a'));
  const bind = (node: string) =>
    c.create(`${PODS}/a/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'a' }, target: { kind: 'Node', name: node } });
  await bind('n1');
  const p = await c.get(`${PODS}/a`);
  t.is(p.spec.nodeName, 'n1');
  t.like(p.status.conditions[0], { type: 'PodScheduled', status: 'True' });
  t.is(p.metadata.generation, 1);
  const again = await apiError(t, bind('n2'));
  t.is(again.code, 409);
});

test('graceful deletion of bound pods; unbound pods and grace 0 go at once', async (t) => {
  const { c } = await setup(t);
  await c.create(PODS, podBody('bound', { spec: { nodeName: 'n1', terminationGracePeriodSeconds: 20, containers: [{ name: 'c', image: 'i' }] } }));
  const d = await c.delete(`${PODS}/bound`);
  t.truthy(d.metadata.deletionTimestamp);
  t.is(d.metadata.deletionGracePeriodSeconds, 20);
  t.truthy(await c.get(`${PODS}/bound`));
  const shorter = await c.delete(`${PODS}/bound`, { gracePeriodSeconds: 5 });
  t.is(shorter.metadata.deletionGracePeriodSeconds, 5);
  await c.delete(`${PODS}/bound`, { gracePeriodSeconds: 0 });
  t.is((await apiError(t, c.get(`${PODS}/bound`))).code, 404);
  await c.create(PODS, podBody('free'));
  await c.delete(`${PODS}/free`);
  t.is((await apiError(t, c.get(`${PODS}/free`))).code, 404);
});

test('finalizers hold an object until the last one is removed', async (t) => {
  const { c } = await setup(t);
  const CM = '/api/v1/namespaces/default/configmaps';
  await c.create(CM, { metadata: { name: 'f', finalizers: ['example.com/hold'] }, data: { a: 'b' } });
  const r = await c.delete(`${CM}/f`);
  t.truthy(r.metadata.deletionTimestamp, 'a pending deletion answers with the object');
  const held = await c.get(`${CM}/f`);
  t.truthy(held.metadata.deletionTimestamp);
  const noNew = await apiError(t, c.patch(`${CM}/f`, { metadata: { finalizers: ['example.com/hold', 'example.com/more'] } }));
  t.is(noNew.code, 422);
  await c.patch(`${CM}/f`, { metadata: { finalizers: null } });
  t.is((await apiError(t, c.get(`${CM}/f`))).code, 404);
  await c.create(CM, { metadata: { name: 'g' } });
  const gone: any = await c.request('DELETE', `${CM}/g`);
  t.like(gone, { kind: 'Status', status: 'Success', details: { name: 'g', kind: 'configmaps' } });
});

test('list with selectors and pagination', async (t) => {
  const { c } = await setup(t);
  for (let i = 0; i < 7; i++) await c.create(PODS, podBody(`p${i}`, { metadata: { name: `p${i}`, labels: { app: i % 2 ? 'odd' : 'even' } } }));
  t.is((await c.list(PODS, { labelSelector: 'app=odd' })).items.length, 3);
  t.deepEqual(
    (await c.list(PODS, { fieldSelector: 'metadata.name=p3' })).items.map((p) => p.metadata.name),
    ['p3'],
  );
  const names: string[] = [];
  let cont: string | undefined;
  let pages = 0;
  const remaining: (number | undefined)[] = [];
  do {
    const l = await c.list(PODS, { limit: '3', ...(cont ? { continue: cont } : {}) });
    names.push(...l.items.map((p) => p.metadata.name!));
    cont = l.metadata.continue;
    remaining.push((l.metadata as { remainingItemCount?: number }).remainingItemCount);
    pages++;
  } while (cont && pages < 10);
  t.is(pages, 3);
  t.deepEqual(names, ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
  t.deepEqual(remaining, [4, 1, undefined], 'remainingItemCount on every page but the last');
  const selected = await c.list(PODS, { limit: '1', labelSelector: 'app=odd' });
  t.truthy(selected.metadata.continue);
  t.is((selected.metadata as { remainingItemCount?: number }).remainingItemCount, undefined, 'not with a selector, as upstream');
  const bad = await apiError(t, c.list(PODS, { fieldSelector: 'spec.bogus=1' }));
  t.is(bad.code, 400);
});

async function collect(it: AsyncGenerator<WatchEventOut>, n: number, ms = 3000): Promise<WatchEventOut[]> {
  const out: WatchEventOut[] = [];
  const deadline = Date.now() + ms;
  while (out.length < n && Date.now() < deadline) {
    const r = await Promise.race([it.next(), new Promise<'t'>((res) => setTimeout(() => res('t'), deadline - Date.now()))]);
    if (r === 't' || r.done) break;
    out.push(r.value);
  }
  return out;
}

test('watch: from a resourceVersion, with selectors turning into ADDED/DELETED', async (t) => {
  const { c } = await setup(t);
  const p = await c.create(PODS, podBody('w'));
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const it = c.watch(PODS, { resourceVersion: p.metadata.resourceVersion!, labelSelector: 'app=web' }, ac.signal);
  const pending = collect(it, 4);
  await c.patch(`${PODS}/w`, { metadata: { annotations: { a: '1' } } }); // MODIFIED
  await c.patch(`${PODS}/w`, { metadata: { labels: { app: 'other' } } }); // stops matching: DELETED
  await c.patch(`${PODS}/w`, { metadata: { labels: { app: 'web' } } }); // matches again: ADDED
  await c.delete(`${PODS}/w`); // DELETED
  const evs = await pending;
  t.deepEqual(
    evs.map((e) => e.type),
    ['MODIFIED', 'DELETED', 'ADDED', 'DELETED'],
  );
  const rvs = evs.map((e) => Number(e.object.metadata.resourceVersion));
  t.deepEqual(
    [...rvs].sort((a, b) => a - b),
    rvs,
    'resourceVersions increase',
  );
});

test('watch: initial events with sendInitialEvents end in an annotated BOOKMARK', async (t) => {
  const { c } = await setup(t);
  await c.create(PODS, podBody('x'));
  await c.create(PODS, podBody('y'));
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const evs = await collect(c.watch(PODS, { sendInitialEvents: 'true', allowWatchBookmarks: 'true', resourceVersionMatch: 'NotOlderThan' }, ac.signal), 3);
  t.deepEqual(
    evs.map((e) => e.type),
    ['ADDED', 'ADDED', 'BOOKMARK'],
  );
  t.is(evs[2].object.metadata.annotations?.['k8s.io/initial-events-end'], 'true');
});

test('watch: a compacted resourceVersion gets an ERROR frame with 410 Expired', async (t) => {
  const { c, store } = await setup(t);
  const first = await c.create(PODS, podBody('a'));
  await c.create(PODS, podBody('b'));
  await c.create(PODS, podBody('c'));
  await store.compact(await store.currentRevision());
  const evs = await collect(c.watch(PODS, { resourceVersion: String(Number(first.metadata.resourceVersion) - 1) }), 1);
  t.is(evs[0].type, 'ERROR');
  t.like(evs[0].object as any, { code: 410, reason: 'Expired' });
});

test('services get a cluster IP from the range and node ports when asked', async (t) => {
  const { c } = await setup(t);
  const SVC = '/api/v1/namespaces/default/services';
  const s = await c.create(SVC, { metadata: { name: 's1' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80 }] } });
  t.regex(s.spec.clusterIP, /^10\.(9[6-9]|10[0-9]|11[01])\./);
  t.true(s.spec.ports[0].nodePort >= 30000 && s.spec.ports[0].nodePort <= 32767);
  t.is(s.spec.ports[0].targetPort, 80);
  const clash = await apiError(t, c.create(SVC, { metadata: { name: 's2' }, spec: { clusterIP: s.spec.clusterIP, ports: [{ port: 80 }] } }));
  t.is(clash.code, 422);
  t.regex(clash.message, /already allocated/);
});
