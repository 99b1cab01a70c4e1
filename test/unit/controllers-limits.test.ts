// Issue #24 finding 2, the pure side: an owner asking for 2147483647 pods gets a plan of at most
// the burst (500) per pass, computed in time proportional to what exists, not to what is asked;
// pod writes keep upstream's client pace (20/s, bursts of 30); events about one object stop
// after a burst of 25 (upstream's spam filter).
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logger } from '../../agents/api/log.ts';
import { ApiHandler } from '../../agents/control-plane/apiserver/handler.ts';
import { Registry } from '../../agents/control-plane/apiserver/registry.ts';
import { LoopbackClient } from '../../agents/control-plane/client/loopback.ts';
import { SqliteStore } from '../../agents/control-plane/storage/sqlite.ts';
import { Expectations } from '../../agents/control-plane/controllers/workloads/expectations.ts';
import { ControllerStopped, PodControl } from '../../agents/control-plane/controllers/workloads/pod-control.ts';
import type { Obj } from '../../agents/control-plane/apiserver/strategies/types.ts';
import { TokenBucket } from '../../agents/api/token-bucket.ts';
import { EventSpamFilter } from '../../agents/api/event-spam.ts';
import { INDEX_KEY, planJob } from '../../agents/control-plane/controllers/workloads/job-rules.ts';
import { podPace } from '../../agents/control-plane/controllers/workloads/rate-rules.ts';
import { BURST_REPLICAS, replicaDiff } from '../../agents/control-plane/controllers/workloads/replicaset-rules.ts';
import { planStatefulSet } from '../../agents/control-plane/controllers/workloads/statefulset-rules.ts';

const MAX = 2147483647;
const counts = () => ({ succeeded: 0, failed: 0, completed: new Set<number>() });
const jpod = (i: number): Obj => ({ metadata: { name: `p${i}`, uid: `u${i}`, annotations: { [INDEX_KEY]: String(i) } }, status: { phase: 'Running' } });

test('a Job asking for 2147483647 pods plans 500 a pass, Indexed from the lowest free index, fast', (t) => {
  const started = Date.now();
  t.is(planJob({ metadata: { name: 'j' }, spec: { parallelism: MAX, completions: MAX } }, [], counts(), 0).create, BURST_REPLICAS);
  const indexed = { metadata: { name: 'j' }, spec: { parallelism: 10000, completions: MAX, completionMode: 'Indexed' } };
  const running = Array.from({ length: 600 }, (_, i) => jpod(i));
  const done = { ...counts(), completed: new Set([600, 601]) };
  const plan = planJob(indexed, running, done, 0);
  t.is(plan.indexes.length, BURST_REPLICAS);
  t.is(plan.indexes[0], 602);
  t.is(plan.indexes.at(-1), 1101);
  // removing is bounded too: a suspended Job stops its pods 500 a pass
  t.is(planJob({ ...indexed, spec: { ...indexed.spec, suspend: true } }, running, counts(), 0).remove.length, BURST_REPLICAS);
  t.true(Date.now() - started < 500, `${Date.now() - started} ms`);
});

test('a Parallel StatefulSet of 2147483647 plans 500 creations a pass; ReplicaSets 500 either way', (t) => {
  const set = { metadata: { name: 'db' }, spec: { replicas: MAX, podManagementPolicy: 'Parallel' } };
  const pods = [
    {
      metadata: { name: 'db-1', labels: { 'controller-revision-hash': 'db-r' } },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    },
  ];
  const plan = planStatefulSet(set, pods, 'db-r');
  t.is(plan.create.length, BURST_REPLICAS);
  t.deepEqual(plan.create.slice(0, 3), [0, 2, 3]);
  t.is(replicaDiff(MAX, 10), BURST_REPLICAS);
  t.is(replicaDiff(0, MAX), -BURST_REPLICAS);
});

test('pod writes keep 20 a second after a burst of 30', (t) => {
  let now = 0;
  const pace = podPace(() => now);
  const waits = Array.from({ length: 40 }, () => pace.reserve());
  t.deepEqual(waits.slice(0, 30), Array(30).fill(0));
  t.deepEqual(waits.slice(30, 33), [50, 100, 150]);
  now = 10_000; // ten idle seconds refill the burst, no more
  t.is(Array.from({ length: 31 }, () => pace.reserve()).filter((w) => w === 0).length, 30);
  const b = new TokenBucket(1, 1, () => now);
  t.true(b.tryTake());
  t.false(b.tryTake(), 'tryTake never goes into debt');
});

test('events about one object stop after 25, then one per five minutes; other objects are unaffected', (t) => {
  let now = 0;
  const f = new EventSpamFilter(() => now);
  const rs = { kind: 'ReplicaSet', apiVersion: 'apps/v1', namespace: 'ns', name: 'rs', uid: 'u1' };
  t.is(Array.from({ length: 100 }, () => f.allow('replicaset-controller', rs)).filter(Boolean).length, 25);
  t.true(f.allow('replicaset-controller', { ...rs, uid: 'u2' }));
  t.true(f.allow('deployment-controller', rs));
  now = 299_000;
  t.false(f.allow('replicaset-controller', rs));
  now = 300_000;
  t.true(f.allow('replicaset-controller', rs));
});

test('creations still waiting for their turn are dropped once the controller stops (a lost lease)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-pace-'));
  const store = new SqliteStore(join(dir, 'state.db'));
  const keepAlive = setInterval(() => {}, 50); // the pace's timers are unref'd: a server keeps the process up
  try {
    const handler = new ApiHandler({ store, registry: new Registry(), serverAddress: '127.0.0.1:6443', serviceCIDR: '10.96.0.0/12' });
    const client = new LoopbackClient(handler, { name: 'admin', groups: ['system:masters'] });
    await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }).catch(() => undefined);
    let live = true;
    const control = new PodControl(client, new Expectations(), logger('test'), new TokenBucket(10, 1), () => live);
    const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs', namespace: 'default', uid: 'u' } };
    const pod = (n: number) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `p${n}`, namespace: 'default' },
      spec: { containers: [{ name: 'c', image: 'i' }] },
    });
    const done = control.create({ owner, component: 'test' }, 'default/rs', [pod(0), pod(1), pod(2)]).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20)); // the first went at once, the others wait 100 ms each
    live = false;
    t.true((await done) instanceof ControllerStopped, 'the pass ends without a FailedCreate event or a status write');
    t.deepEqual(
      (await client.list('/api/v1/namespaces/default/pods')).items.map((p) => p.metadata.name),
      ['p0'],
    );
  } finally {
    clearInterval(keepAlive);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
