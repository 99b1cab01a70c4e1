import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { desiredTaints, evictionTime, lastHeartbeat, NOT_READY, UNREACHABLE } from '../../agents/control-plane/controllers/lifecycle-rules.ts';
import { NodeLifecycleController } from '../../agents/control-plane/controllers/nodelifecycle.ts';
import { orphanedPods } from '../../agents/control-plane/controllers/podgc.ts';
import { ApiHandler } from '../../agents/control-plane/apiserver/handler.ts';
import { Registry } from '../../agents/control-plane/apiserver/registry.ts';
import { LoopbackClient } from '../../agents/control-plane/client/loopback.ts';
import { SqliteStore } from '../../agents/control-plane/storage/sqlite.ts';
import { logger } from '../../agents/api/log.ts';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const node = (ready: string, taints?: any[]) => ({
  metadata: { name: 'n' },
  spec: { taints },
  status: { conditions: [{ type: 'Ready', status: ready, lastHeartbeatTime: iso(T0) }] },
});

test('heartbeat is the newest of lease renewal and Ready heartbeat', (t) => {
  t.is(lastHeartbeat(node('True'), { metadata: {}, spec: { renewTime: '2025-01-01T00:00:30.000000Z' } }), T0 + 30_000);
  t.is(lastHeartbeat(node('True'), undefined), T0);
});

test('taints follow the Ready condition and keep user taints and timeAdded', (t) => {
  const user = { key: 'dedicated', value: 'x', effect: 'NoSchedule' };
  t.deepEqual(desiredTaints(node('True', [user, { key: UNREACHABLE, effect: 'NoSchedule' }]), iso(T0)), [user]);
  const unknown = desiredTaints(node('Unknown', [user]), iso(T0));
  t.deepEqual(
    unknown.map((x) => `${x.key}:${x.effect}`),
    ['dedicated:NoSchedule', `${UNREACHABLE}:NoSchedule`, `${UNREACHABLE}:NoExecute`],
  );
  const kept = desiredTaints(node('Unknown', unknown), iso(T0 + 99_000));
  t.is(kept.find((x) => x.effect === 'NoExecute')?.timeAdded, iso(T0), 'timeAdded is not refreshed');
  t.deepEqual(
    desiredTaints(node('False'), iso(T0)).map((x) => x.key),
    [NOT_READY, NOT_READY],
  );
});

test('eviction time honours tolerations and tolerationSeconds', (t) => {
  const tainted = node('Unknown', [{ key: UNREACHABLE, effect: 'NoExecute', timeAdded: iso(T0) }]);
  const pod = (tolerations?: any[]) => ({ metadata: {}, spec: { tolerations } });
  t.is(evictionTime(pod(), tainted, T0 + 1), T0 + 1, 'untolerated: now');
  t.is(evictionTime(pod([{ key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]), tainted, T0), T0 + 300_000);
  t.is(evictionTime(pod([{ operator: 'Exists' }]), tainted, T0), undefined, 'tolerated for ever');
  t.is(evictionTime(pod(), node('True'), T0), undefined);
});

test('pods of missing nodes are orphans', (t) => {
  const pods = [
    { metadata: { name: 'a' }, spec: { nodeName: 'gone' } },
    { metadata: { name: 'b' }, spec: { nodeName: 'n' } },
    { metadata: { name: 'c' }, spec: {} },
  ];
  t.deepEqual(
    orphanedPods(pods, new Set(['n'])).map((p) => p.metadata.name),
    ['a'],
  );
});

test('controller: a silent node turns Unknown, gets tainted, and intolerant pods are evicted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-nlc-'));
  const store = new SqliteStore(join(dir, 'state.db'));
  const handler = new ApiHandler({ store, registry: new Registry(), serverAddress: 'x', serviceCIDR: '10.96.0.0/12' });
  const c = new LoopbackClient(handler, { name: 'admin', groups: ['system:masters'] });
  let now = Date.now();
  const ctl = new NodeLifecycleController(c, logger('test', 'silent'), { gracePeriodMs: 50_000, tickMs: 3_600_000, now: () => now });
  t.teardown(async () => {
    ctl.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await c.create('/api/v1/namespaces', { metadata: { name: 'default' } });
  await c.create('/api/v1/nodes', { metadata: { name: 'n1' }, status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: iso(now) }] } });
  const pod = (name: string, tolerationSeconds?: number) => ({
    metadata: { name },
    spec: {
      nodeName: 'n1',
      containers: [{ name: 'c', image: 'i' }],
      ...(tolerationSeconds !== undefined ? { tolerations: [{ key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds }] } : {}),
    },
  });
  await c.create('/api/v1/namespaces/default/pods', pod('quick', 0));
  await c.create('/api/v1/namespaces/default/pods', pod('patient'));
  await c.patch('/api/v1/namespaces/default/pods/quick/status', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, 'strategic');
  await ctl.start();
  await ctl.tick();
  t.is((await c.get('/api/v1/nodes/n1')).status.conditions[0].status, 'True', 'within the grace period nothing happens');
  now += 60_000;
  await new Promise((r) => setTimeout(r, 50));
  await ctl.tick();
  const n = await c.get('/api/v1/nodes/n1');
  t.like(
    n.status.conditions.find((x: any) => x.type === 'Ready'),
    { status: 'Unknown', reason: 'NodeStatusUnknown' },
  );
  t.deepEqual(n.spec.taints.map((x: any) => `${x.key}:${x.effect}`).sort(), [`${UNREACHABLE}:NoExecute`, `${UNREACHABLE}:NoSchedule`]);
  await new Promise((r) => setTimeout(r, 50));
  await ctl.tick();
  const quick = await c.get('/api/v1/namespaces/default/pods/quick');
  t.truthy(quick.metadata.deletionTimestamp, 'the pod tolerating 0 s is evicted');
  t.is(quick.status.conditions.find((x: any) => x.type === 'Ready').status, 'False');
  t.falsy((await c.get('/api/v1/namespaces/default/pods/patient')).metadata.deletionTimestamp, 'the default 300 s toleration still holds');
  // the kubelet comes back: the taints go
  await c.patch('/api/v1/nodes/n1/status', { status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: iso(now) }] } }, 'strategic');
  await new Promise((r) => setTimeout(r, 50));
  await ctl.tick();
  t.falsy((await c.get('/api/v1/nodes/n1')).spec.taints);
});
