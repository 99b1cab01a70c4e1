// Crash safety: the control plane (the real bundle, `node dist/hawser.cjs control-plane`) is
// killed with SIGKILL while writers stream creates and updates at it; after a restart on the same
// data, every write the server acknowledged must be there, on SQLite and on a real etcd.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdAvailable, startEtcd } from '../support/etcd-server.ts';
import { type Client, controlPlaneArgs, freePort, killServer, requireBundle, type Server, startServer, waitReady } from './_control-plane-proc.ts';

const KILL_CYCLES = 2;
const WRITERS = 4;

test.before(() => requireBundle('--datastore-endpoint'));

interface Acked {
  /** configmap name -> value the server acknowledged */
  creates: Map<string, string>;
  /** highest counter value the server acknowledged (-1: none) */
  counter: number;
}

/** Writers that stop at their first failed request (the kill); returns when all have stopped. */
async function writeUntilKilled(c: Client, round: number, acked: Acked, killAfter: number, kill: () => void): Promise<number> {
  let total = 0;
  let killed = false;
  const maybeKill = () => {
    if (!killed && ++total >= killAfter) {
      killed = true;
      kill();
    }
  };
  const creator = async (w: number) => {
    for (let i = 0; i < 100_000; i++) {
      const name = `r${round}-w${w}-${i}`;
      const value = `${name}:${Math.random().toString(36).slice(2)}`;
      const r = await c
        .request('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: value } })
        .catch(() => undefined);
      if (!r || r.status !== 201) return;
      acked.creates.set(name, value);
      maybeKill();
    }
  };
  const updater = async () => {
    for (let n = acked.counter + 1; n < acked.counter + 100_000; n++) {
      const r = await c
        .request('PATCH', '/api/v1/namespaces/default/configmaps/counter', { data: { n: String(n) } }, 'application/merge-patch+json')
        .catch(() => undefined);
      if (!r || r.status !== 200) return;
      acked.counter = Math.max(acked.counter, n);
      maybeKill();
    }
  };
  await Promise.all([...Array.from({ length: WRITERS }, (_, w) => creator(w)), updater()]);
  return total;
}

async function crashTest(t: import('ava').ExecutionContext, datastore?: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-crash-'));
  const port = await freePort();
  const { args, kubeconfig } = controlPlaneArgs(dir, port, datastore);
  let srv: Server | undefined;
  t.teardown(async () => {
    await killServer(srv);
    rmSync(dir, { recursive: true, force: true });
  });

  srv = startServer(args);
  let c = await waitReady(kubeconfig, port, srv, WRITERS + 2);
  t.is((await c.request('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'counter' }, data: { n: '-1' } })).status, 201);
  const acked: Acked = { creates: new Map(), counter: -1 };
  for (let round = 0; round < KILL_CYCLES; round++) {
    const victim: Server = srv;
    // kill somewhere inside the stream, never at a request boundary the test controls
    const killAfter = 150 + Math.floor(Math.random() * 150);
    const writes = await writeUntilKilled(c, round, acked, killAfter, () => victim.proc.kill('SIGKILL'));
    await victim.exited;
    t.is(victim.proc.signalCode, 'SIGKILL');
    t.true(writes >= killAfter, `round ${round}: ${writes} acknowledged writes before the kill`);
    c.close();
    srv = startServer(args);
    c = await waitReady(kubeconfig, port, srv, WRITERS + 2);
    const list = await c.request('GET', '/api/v1/namespaces/default/configmaps');
    const stored = new Map<string, string>((list.body.items as any[]).map((cm) => [cm.metadata.name, cm.data?.v ?? cm.data?.n]));
    const lost = [...acked.creates].filter(([name, v]) => stored.get(name) !== v).map(([name]) => name);
    t.deepEqual(lost, [], `round ${round}: acknowledged creates lost`);
    // an update in flight at the kill may or may not have landed; an acknowledged one must have
    t.true(Number(stored.get('counter')) >= acked.counter, `round ${round}: counter ${stored.get('counter')} < acknowledged ${acked.counter}`);
    acked.counter = Number(stored.get('counter'));
  }
  t.log(`${acked.creates.size} acknowledged creates and ${acked.counter + 1} counter updates survived ${KILL_CYCLES} SIGKILLs`);
  c.close();
}

test('kill -9 during a write stream loses no acknowledged write (SQLite)', async (t) => {
  await crashTest(t);
});

test('kill -9 during a write stream loses no acknowledged write (etcd)', async (t) => {
  if (!etcdAvailable()) throw new Error('etcd is not installed: apt-get install etcd-server');
  const etcd = await startEtcd();
  t.teardown(() => etcd.stop());
  await crashTest(t, etcd.endpoint);
});
