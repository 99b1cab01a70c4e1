// /livez, /readyz and /healthz on a real control plane, asked anonymously as load balancers and
// kubeadm-style probes do: upstream's named checks and text, ?verbose, ?exclude, per-check paths,
// and the store check failing (500, reason withheld) once the SQLite store is closed.
import test from 'ava';
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiHandler } from '../../agents/control-plane/apiserver/handler.ts';
import { Registry } from '../../agents/control-plane/apiserver/registry.ts';
import { SqliteStore } from '../../agents/control-plane/storage/sqlite.ts';
import type { Cluster } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';

let c: Cluster | undefined;
fileCluster((cluster) => {
  c = cluster;
});

function anonymous(path: string): Promise<{ status: number; type: string; body: string }> {
  const u = new URL(c!.url);
  return new Promise((resolve, reject) => {
    const req = https.request({ host: u.hostname, port: u.port, path, rejectUnauthorized: false, timeout: 10_000 }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => (body += d));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, type: String(r.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test.serial('readyz, livez and healthz answer anonymous probes with upstream checks and text', async (t) => {
  t.like(await anonymous('/livez'), { status: 200, type: 'text/plain; charset=utf-8', body: 'ok' });
  t.like(await anonymous('/healthz'), { status: 200, body: 'ok' });
  const ready = await anonymous('/readyz?verbose');
  t.is(ready.status, 200);
  t.is(
    ready.body,
    [
      '[+]ping ok',
      '[+]log ok',
      '[+]etcd ok',
      '[+]etcd-readiness ok',
      '[+]informer-sync ok',
      '[+]poststarthook/crd-informer-synced ok',
      '[+]poststarthook/bootstrap-controller ok',
      '[+]poststarthook/rbac/bootstrap-roles ok',
      '[+]shutdown ok',
      'readyz check passed',
      '',
    ].join('\n'),
  );
  const live = await anonymous('/livez?verbose&exclude=etcd&exclude=nothing');
  t.regex(live.body, /^\[\+\]etcd excluded: ok$/m);
  t.regex(live.body, /^warn: some health checks cannot be excluded: no matches for "nothing"$/m);
  t.notRegex(live.body, /^\[\+\](informer-sync|shutdown) /m, 'livez has no readiness checks');
  t.regex(live.body, /livez check passed\n$/);
  t.like(await anonymous('/readyz/etcd'), { status: 200, body: 'ok' });
  t.like(await anonymous('/readyz/poststarthook/rbac/bootstrap-roles'), { status: 200, body: 'ok' });
  const missing = await anonymous('/readyz/nothing');
  t.is(missing.status, 404);
});

test.serial('a closed store fails etcd: 500 with the reason withheld on the root, given on the check path', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'health-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new SqliteStore(join(dir, 'state.db'));
  const handler = new ApiHandler({ store, registry: new Registry(), serverAddress: '127.0.0.1:6443', serviceCIDR: '10.96.0.0/12' });
  const get = async (path: string, query = '') => {
    const r = await handler.handle({
      method: 'GET',
      path,
      query: new URLSearchParams(query),
      headers: {},
      user: { name: 'system:anonymous', groups: ['system:unauthenticated'] },
    });
    if (r.kind !== 'raw') throw new Error(`not a raw reply: ${r.kind}`);
    return { status: r.status, body: String(r.text) };
  };
  t.like(await get('/readyz'), { status: 200, body: 'ok' });
  await store.close();
  const ready = await get('/readyz');
  t.is(ready.status, 500);
  t.regex(ready.body, /^\[-\]etcd failed: reason withheld$/m);
  t.regex(ready.body, /^\[\+\]ping ok$/m);
  t.regex(ready.body, /readyz check failed\n$/);
  t.like(await get('/livez'), { status: 500 });
  const one = await get('/readyz/etcd');
  t.is(one.status, 500);
  t.regex(one.body, /^internal server error: .+\n$/);
  t.like(await get('/readyz', 'exclude=etcd&exclude=etcd-readiness'), { status: 200, body: 'ok' });
});
