// The scheduler against the real API handler and SQLite store (in process, no HTTPS): many pods
// onto few nodes never overfill one; taints and nodeSelector hold under concurrent binding; a
// binding that fails is forgotten and the pod retried; an unschedulable pod gets PodScheduled=False
// and is placed as soon as a fitting node appears.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logger } from '../../agents/api/log.ts';
import { ApiError } from '../../agents/control-plane/apiserver/errors.ts';
import { ApiHandler } from '../../agents/control-plane/apiserver/handler.ts';
import { Registry } from '../../agents/control-plane/apiserver/registry.ts';
import type { Obj } from '../../agents/control-plane/apiserver/strategies/types.ts';
import { bootstrap } from '../../agents/control-plane/bootstrap.ts';
import { LoopbackClient } from '../../agents/control-plane/client/loopback.ts';
import { Scheduler } from '../../agents/control-plane/scheduler/scheduler.ts';
import { SqliteStore } from '../../agents/control-plane/storage/sqlite.ts';
import { until } from './_apiserver-kit.ts';

const admin = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };
const schedulerUser = { name: 'system:kube-scheduler', groups: ['system:authenticated'] };

/** A client whose first `failures` bindings fail with a 500, as a flaky API server would. */
class FlakyBinder extends LoopbackClient {
  failures = 0;
  failed: string[] = [];
  override create(path: string, obj: unknown): Promise<Obj> {
    if (path.endsWith('/binding') && this.failures > 0) {
      this.failures--;
      this.failed.push(path);
      return Promise.reject(new ApiError(500, 'InternalError', 'injected binding failure'));
    }
    return super.create(path, obj);
  }
}

async function cluster(t: { teardown(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), `hawser-sched-${randomBytes(3).toString('hex')}-`));
  const store = new SqliteStore(join(dir, 'state.db'));
  const handler = new ApiHandler({ store, registry: new Registry(), serverAddress: '127.0.0.1:6443', serviceCIDR: '10.96.0.0/12' });
  const api = new LoopbackClient(handler, admin);
  const binder = new FlakyBinder(handler, schedulerUser);
  const scheduler = new Scheduler(binder, logger('scheduler-test', 'error'));
  t.teardown(async () => {
    scheduler.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await bootstrap(api, { serviceCIDR: '10.96.0.0/12', advertiseAddress: '127.0.0.1', port: 6443 });
  return { api, binder, scheduler };
}

const node = (name: string, o: { cpu?: string; pods?: string; labels?: Record<string, string>; taints?: Record<string, string>[] } = {}) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
  spec: o.taints ? { taints: o.taints } : {},
  status: {
    allocatable: { cpu: o.cpu ?? '4', memory: '8Gi', pods: o.pods ?? '110' },
    capacity: { cpu: o.cpu ?? '4', memory: '8Gi', pods: o.pods ?? '110' },
    conditions: [{ type: 'Ready', status: 'True' }],
  },
});
const pod = (name: string, spec: Record<string, unknown> = {}, cpu = '100m') => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'c', image: 'registry.local/app:1', resources: { requests: { cpu, memory: '64Mi' } } }], ...spec },
});

const pods = async (api: LoopbackClient) => (await api.list('/api/v1/namespaces/default/pods')).items;

test('many pods onto few nodes: allocatable pods and cpu, taints and nodeSelector hold', async (t) => {
  const { api, scheduler } = await cluster(t);
  // capacity: a 10 pods, b 1 CPU (ten 100m pods), c tainted for nobody, d labelled and tainted
  // for the "ssd" pods, which tolerate the taint and select the label (so fit nowhere else)
  const ssdTaint = { key: 'disk', value: 'ssd', effect: 'NoSchedule' };
  await api.create('/api/v1/nodes', node('a', { pods: '10' }));
  await api.create('/api/v1/nodes', node('b', { cpu: '1' }));
  await api.create('/api/v1/nodes', node('c', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }));
  await api.create('/api/v1/nodes', node('d', { labels: { disk: 'ssd' }, taints: [ssdTaint] }));
  for (let i = 0; i < 25; i++) await api.create('/api/v1/namespaces/default/pods', pod(`p${i}`));
  const ssd = { nodeSelector: { disk: 'ssd' }, tolerations: [{ ...ssdTaint, operator: 'Equal' }] };
  for (let i = 0; i < 5; i++) await api.create('/api/v1/namespaces/default/pods', pod(`ssd${i}`, ssd));
  await scheduler.start();
  // 25 plain pods want 10 (a) + 10 (b) places, the 5 ssd pods go to d
  const all = await until('25 pods bound', async () => {
    const ps = await pods(api);
    return ps.filter((p) => p.spec.nodeName).length === 25 ? ps : undefined;
  });
  await new Promise((r) => setTimeout(r, 300)); // nothing more may bind
  const now = await pods(api);
  const per = new Map<string, string[]>();
  for (const p of now) if (p.spec.nodeName) per.set(p.spec.nodeName, [...(per.get(p.spec.nodeName) ?? []), p.metadata.name!]);
  t.is(now.filter((p) => p.spec.nodeName).length, 25, `bound: ${JSON.stringify([...per])}`);
  t.is(per.get('a')?.length, 10);
  t.is(per.get('b')?.length, 10);
  t.falsy(per.get('c'), 'the tainted node gets nothing');
  t.deepEqual(per.get('d')?.sort(), ['ssd0', 'ssd1', 'ssd2', 'ssd3', 'ssd4'], 'the ssd pods, and only they, on d');
  const waiting = all.filter((p) => !p.spec.nodeName).map((p) => p.metadata.name);
  t.is(waiting.length, 5);
  const one = await until('PodScheduled=False', async () => {
    const p = await api.get(`/api/v1/namespaces/default/pods/${waiting[0]}`);
    const c = (p.status.conditions ?? []).find((x: Obj) => x.type === 'PodScheduled');
    return c?.status === 'False' ? c : undefined;
  });
  t.is(
    one.message,
    '0/4 nodes are available: 1 Insufficient cpu, 1 Too many pods, 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) had untolerated taint {disk: ssd}.',
  );
  // a new node makes room: the waiting pods go there at once
  await api.create('/api/v1/nodes', node('e'));
  await until('the waiting pods bound to the new node', async () => ((await pods(api)).filter((p) => p.spec.nodeName === 'e').length === 5 ? true : undefined));
});

test('a failed binding is forgotten and the pod retried', async (t) => {
  const { api, binder, scheduler } = await cluster(t);
  await api.create('/api/v1/nodes', node('only', { pods: '3' }));
  binder.failures = 2;
  for (let i = 0; i < 3; i++) await api.create('/api/v1/namespaces/default/pods', pod(`f${i}`));
  await scheduler.start();
  // the node has room for exactly three: had a failed assumption not been forgotten, a pod would
  // find the node full ("Too many pods") and stay pending
  await until('all three bound after retries', async () => ((await pods(api)).every((p) => p.spec.nodeName === 'only') ? true : undefined));
  t.is(binder.failed.length, 2);
  t.is(binder.failures, 0);
});
