// Watches under load against an in-process control plane (issue 24, findings 3 and 6): long
// timeoutSeconds must neither spin a timer nor end early, many watches without a resourceVersion
// share one cache of the resource instead of each building the whole list, and a watcher that
// does not read is cut off instead of buffering without bound.
import test from 'ava';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { loadKubeconfig } from '../../agents/api/kubeconfig.ts';
import { etcdAvailable } from '../support/etcd-server.ts';
import { type Cluster, startCluster } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';

let c: Cluster;
let tlsOf: ReturnType<typeof loadKubeconfig>;
fileCluster((cluster) => {
  c = cluster;
  tlsOf = loadKubeconfig(c.admin);
});

interface OpenWatch {
  res: IncomingMessage;
  /** frames received so far */
  frames: { type: string; object: { metadata?: { name?: string; resourceVersion?: string } } }[];
  ended: Promise<void>;
  close(): void;
}

/** A raw watch over HTTPS with the admin certificate; frames are parsed as they arrive. */
function openWatch(path: string, o: { read?: boolean; on?: Cluster } = {}): Promise<OpenWatch> {
  const on = o.on ?? c;
  const { hostname, port } = new URL(on.url);
  const tls = on === c ? tlsOf : loadKubeconfig(on.admin);
  return new Promise((resolve, reject) => {
    const req = https.request({ host: hostname, port, ca: tls.ca, cert: tls.cert, key: tls.key, method: 'GET', path, agent: false }, (res) => {
      const frames: OpenWatch['frames'] = [];
      let buf = '';
      const ended = new Promise<void>((r) => {
        res.on('end', () => r());
        res.on('close', () => r());
        res.on('error', () => r());
      });
      if (o.read === false) res.pause();
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          frames.push(JSON.parse(buf.slice(0, nl)));
          buf = buf.slice(nl + 1);
        }
      });
      resolve({ res, frames, ended, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

async function rv(): Promise<string> {
  return JSON.parse(await c.ok(['get', '--raw', '/api/v1/namespaces/default/configmaps?limit=1'])).metadata.resourceVersion;
}

test.serial("watches with timeoutSeconds past setTimeout's range stay open and idle", async (t) => {
  const from = await rv();
  const watches = await Promise.all(
    Array.from({ length: 50 }, () => openWatch(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${from}&timeoutSeconds=3000000`)),
  );
  t.teardown(() => watches.forEach((w) => w.close()));
  await new Promise((r) => setTimeout(r, 500));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 3000));
  const cpu = process.cpuUsage(cpu0);
  const share = (cpu.user + cpu.system) / 1000 / (performance.now() - t0);
  t.log(`process CPU with 50 idle watches: ${(share * 100).toFixed(1)}% of a core`);
  // upstream keeps such a watch open for its whole 34.7 days; it costs nothing while idle
  t.true(share < 0.08, `CPU ${(share * 100).toFixed(1)}% of a core`);
  t.true(
    watches.every((w) => !w.res.complete),
    'every watch is still open',
  );
});

test.serial('a watch ends at its timeoutSeconds; timeoutSeconds=0 means the server default', async (t) => {
  const from = await rv();
  const started = Date.now();
  const w = await openWatch(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${from}&timeoutSeconds=1`);
  await w.ended;
  const took = Date.now() - started;
  t.true(took >= 900 && took < 5000, `ended after ${took} ms`);
  const z = await openWatch(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${from}&timeoutSeconds=0`);
  t.teardown(() => z.close());
  const early = await Promise.race([z.ended.then(() => 'ended'), new Promise((r) => setTimeout(() => r('open'), 1500))]);
  t.is(early, 'open', 'upstream treats 0 as unset: between --min-request-timeout and twice that');
});

test.serial("watches without a resourceVersion share the resource's cache: memory does not grow per watch, and each gets every object", async (t) => {
  const N = 400;
  const data = Object.fromEntries(Array.from({ length: 16 }, (_, k) => [`k${k}`, 'v'.repeat(100)]));
  const { hostname, port } = new URL(c.url);
  const post = (i: number) =>
    new Promise<number>((resolve, reject) => {
      const body = JSON.stringify({ metadata: { name: `share-${i}` }, data });
      const req = https.request(
        {
          host: hostname,
          port,
          ca: tlsOf.ca,
          cert: tlsOf.cert,
          key: tlsOf.key,
          method: 'POST',
          path: '/api/v1/namespaces/default/configmaps',
          headers: { 'content-type': 'application/json' },
        },
        (res) => (res.resume(), res.on('end', () => resolve(res.statusCode ?? 0))),
      );
      req.on('error', reject);
      req.end(body);
    });
  for (let i = 0; i < N; i += 20) t.deepEqual(new Set(await Promise.all(Array.from({ length: 20 }, (_, k) => post(i + k)))), new Set([201]));
  const heap0 = process.memoryUsage().heapUsed;
  // readers that do not read: the server may hold what it has not sent, but not a copy per watch
  const stalled = await Promise.all(Array.from({ length: 100 }, () => openWatch('/api/v1/namespaces/default/configmaps?watch=true', { read: false })));
  t.teardown(() => stalled.forEach((w) => w.close()));
  await new Promise((r) => setTimeout(r, 2000));
  const grown = (process.memoryUsage().heapUsed - heap0) / (1 << 20);
  t.log(`heap growth with 100 stalled watches of ${N} ConfigMaps: ${grown.toFixed(0)} MB`);
  t.true(grown < 70, `heap grew ${grown.toFixed(0)} MB`);
  const w = await openWatch('/api/v1/namespaces/default/configmaps?watch=true');
  t.teardown(() => w.close());
  for (let i = 0; i < 100 && w.frames.filter((f) => f.object.metadata?.name?.startsWith('share-')).length < N; i++)
    await new Promise((r) => setTimeout(r, 100));
  const names = w.frames
    .filter((f) => f.type === 'ADDED')
    .map((f) => f.object.metadata!.name!)
    .filter((n) => n.startsWith('share-'));
  t.is(new Set(names).size, N);
  t.is(names.length, N, 'each object once');
  // a watch from a recent resourceVersion (the cache's window) sees exactly the later events
  const from = String(Math.max(...w.frames.map((f) => Number(f.object.metadata?.resourceVersion))));
  await c.ok(['label', 'configmap', 'share-1', 'x=1']);
  await c.ok(['delete', 'configmap', 'share-2']);
  const r = await openWatch(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${from}`);
  t.teardown(() => r.close());
  for (let i = 0; i < 50 && r.frames.length < 2; i++) await new Promise((res) => setTimeout(res, 100));
  t.deepEqual(
    r.frames.map((f) => `${f.type} ${f.object.metadata?.name}`),
    ['MODIFIED share-1', 'DELETED share-2'],
  );
});

test.serial('over etcd too: initial state and live events from the cache, a recent resourceVersion from its window', async (t) => {
  if (!etcdAvailable()) return t.pass('etcd is not installed');
  const e = await startCluster('etcd');
  t.teardown(() => e.close());
  for (const n of ['e1', 'e2']) await e.ok(['create', 'configmap', n, '--from-literal=a=b']);
  const w = await openWatch('/api/v1/namespaces/default/configmaps?watch=true&labelSelector=x%3D1', { on: e });
  t.teardown(() => w.close());
  const frames = w.frames;
  const rv0 = JSON.parse(await e.ok(['get', '--raw', '/api/v1/namespaces/default/configmaps'])).metadata.resourceVersion;
  await e.ok(['label', 'configmap', 'e1', 'x=1']);
  await e.ok(['label', 'configmap', 'e1', 'x-']);
  for (let i = 0; i < 50 && frames.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
  // a selector with previous values: entering is ADDED, leaving is DELETED
  t.deepEqual(
    frames.map((f) => `${f.type} ${f.object.metadata?.name}`),
    ['ADDED e1', 'DELETED e1'],
  );
  const r = await openWatch(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv0}`, { on: e });
  t.teardown(() => r.close());
  for (let i = 0; i < 50 && r.frames.length < 2; i++) await new Promise((res) => setTimeout(res, 100));
  t.deepEqual(
    r.frames.map((f) => `${f.type} ${f.object.metadata?.name}`),
    ['MODIFIED e1', 'MODIFIED e1'],
  );
});
