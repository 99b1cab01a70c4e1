// Named health checks as upstream's healthz package serves them (agents/api/healthz.ts), and the
// kubelet's unauthenticated loopback /healthz with its syncloop check, and podnet's /livez, /readyz,
// /healthz (the shared agents/api/health-server.ts with its informer-sync and reconciled checks).
import test from 'ava';
import http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { healthReply, PING, type HealthCheck } from '../../agents/api/healthz.ts';
import { logger } from '../../agents/api/log.ts';
import { startHealthzServer, SYNC_LOOP_STALE_MS, syncLoopCheck } from '../../agents/kubelet/server/healthz-server.ts';
import { startHealthServer, standardEndpoints } from '../../agents/api/health-server.ts';
import { SyncHealth, syncedCheck } from '../../agents/api/sync-health.ts';

const failing: HealthCheck = {
  name: 'etcd',
  check: async () => {
    throw new Error('database is closed');
  },
};
const q = (s = '') => new URLSearchParams(s);

test('all pass: "ok", or every check and "<endpoint> check passed" with ?verbose', async (t) => {
  const ok: HealthCheck = { name: 'poststarthook/x', check: () => undefined };
  t.like(await healthReply('readyz', [PING, ok], '', q()), { status: 200, body: 'ok' });
  t.is((await healthReply('readyz', [PING, ok], '', q('verbose')))!.body, '[+]ping ok\n[+]poststarthook/x ok\nreadyz check passed\n');
});

test('a failure: 500, the reason withheld, logged for the operator; excluded checks and unknown exclusions', async (t) => {
  const heard: unknown[] = [];
  const r = (await healthReply('livez', [PING, failing], '', q(), (f) => heard.push(...f)))!;
  t.is(r.status, 500);
  t.is(r.body, '[+]ping ok\n[-]etcd failed: reason withheld\nlivez check failed\n');
  t.deepEqual(heard, [{ name: 'etcd', reason: 'database is closed' }]);
  const ex = (await healthReply('livez', [PING, failing], '', q('exclude=etcd&exclude=zz&exclude=aa&verbose')))!;
  t.is(ex.body, '[+]ping ok\n[+]etcd excluded: ok\nwarn: some health checks cannot be excluded: no matches for "aa","zz"\nlivez check passed\n');
});

test('one check by path: "ok" or 500 "internal server error: <reason>"; an unknown name is undefined (404)', async (t) => {
  t.like(await healthReply('readyz', [PING, failing], 'ping', q()), { status: 200, body: 'ok' });
  t.like(await healthReply('readyz', [PING, failing], 'etcd', q()), { status: 500, body: 'internal server error: database is closed\n' });
  t.is(await healthReply('readyz', [PING], 'nothing', q()), undefined);
});

test('syncloop fails once the relist has not run for five minutes', (t) => {
  const now = 1_000_000_000;
  t.notThrows(() =>
    syncLoopCheck(
      () => now - 1000,
      () => now,
    ).check(),
  );
  t.throws(
    () =>
      syncLoopCheck(
        () => now - SYNC_LOOP_STALE_MS - 1000,
        () => now,
      ).check(),
    { message: /sync loop took too long/ },
  );
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
const get = (port: number, path: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (r) => {
        let body = '';
        r.on('data', (d: Buffer) => (body += d));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });

test('the kubelet healthz server: ping, log, syncloop on loopback without authentication; 0 is off; a busy port is not fatal', async (t) => {
  const log = logger('test', 'silent');
  let last = Date.now();
  const port = await freePort();
  const s = await startHealthzServer(port, [syncLoopCheck(() => last)], log);
  t.teardown(() => s?.close());
  t.is(s?.port, port);
  t.deepEqual(await get(port, '/healthz'), { status: 200, body: 'ok' });
  t.is((await get(port, '/healthz?verbose')).body, '[+]ping ok\n[+]log ok\n[+]syncloop ok\nhealthz check passed\n');
  t.deepEqual(await get(port, '/healthz/syncloop'), { status: 200, body: 'ok' });
  t.is((await get(port, '/pods')).status, 404);
  last = Date.now() - SYNC_LOOP_STALE_MS - 1000;
  t.deepEqual(await get(port, '/healthz'), { status: 500, body: '[+]ping ok\n[+]log ok\n[-]syncloop failed: reason withheld\nhealthz check failed\n' });
  t.is(await startHealthzServer(0, [], log), undefined);
  t.is(await startHealthzServer(port, [], log), undefined, 'the port is taken: logged, no server');
});

test("podnet's health endpoints: readyz fails naming informer-sync and reconciled until both hold, and reconciled again after a failed run; livez stays ok", async (t) => {
  const log = logger('test', 'silent');
  const port = await freePort();
  let synced!: () => void;
  const reconciled = new SyncHealth('reconciled');
  const s = await startHealthServer(port, standardEndpoints([], [syncedCheck('informer-sync', [new Promise<void>((r) => (synced = r))]), reconciled]), log);
  t.teardown(() => s?.close());
  t.deepEqual(await get(port, '/readyz'), {
    status: 500,
    body: '[+]ping ok\n[+]log ok\n[-]informer-sync failed: reason withheld\n[-]reconciled failed: reason withheld\nreadyz check failed\n',
  });
  t.deepEqual(await get(port, '/livez?verbose'), { status: 200, body: '[+]ping ok\n[+]log ok\nlivez check passed\n' });
  synced();
  reconciled.succeeded();
  await new Promise((r) => setImmediate(r));
  t.deepEqual(await get(port, '/readyz'), { status: 200, body: 'ok' });
  reconciled.failed(new Error('RTNETLINK answers: Network is unreachable'));
  t.deepEqual(await get(port, '/healthz/reconciled'), {
    status: 500,
    body: 'internal server error: last reconcile failed: RTNETLINK answers: Network is unreachable\n',
  });
  t.deepEqual(await get(port, '/readyz?exclude=reconciled'), { status: 200, body: 'ok' });
  t.is((await get(port, '/metrics')).status, 404);
});
