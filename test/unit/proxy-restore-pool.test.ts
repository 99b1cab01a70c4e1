// The iptables syncer's restore concurrency as data: a fake restore that the test finishes by hand
// shows how many inputs are in flight, in which order they start, and what a failure does.
import test from 'ava';
import { RestorePool } from '../../agents/kube-proxy/iptables/pool.ts';
import { chainsRestore } from '../../agents/kube-proxy/iptables/plan.ts';
import { IptablesBackend } from '../../agents/kube-proxy/iptables/syncer.ts';
import { ChangeTracker } from '../../agents/kube-proxy/tracker.ts';

function manual() {
  const started: string[] = [];
  const pending = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  const restore = (text: string) => new Promise<void>((resolve, reject) => { started.push(text); pending.set(text, { resolve, reject }); });
  const tick = () => new Promise((r) => setImmediate(r));
  return { started, pending, restore, tick };
}

test('pool: at most `limit` in flight, started in the order handed in', async (t) => {
  const m = manual();
  const pool = new RestorePool(m.restore, 2);
  const handing = (async () => { for (const x of ['a', 'b', 'c', 'd']) await pool.run(x); })();
  await m.tick();
  t.deepEqual(m.started, ['a', 'b']);
  m.pending.get('b')!.resolve();
  await m.tick();
  t.deepEqual(m.started, ['a', 'b', 'c']);
  m.pending.get('a')!.resolve();
  await handing;
  t.deepEqual(m.started, ['a', 'b', 'c', 'd']);
  let drained = false;
  const d = pool.drain().then(() => { drained = true; });
  await m.tick();
  t.false(drained, 'drain waits for c and d');
  m.pending.get('c')!.resolve();
  m.pending.get('d')!.resolve();
  await d;
  t.true(drained);
});

test('pool: a failure starts nothing more and is thrown once the rest have ended', async (t) => {
  const m = manual();
  const pool = new RestorePool(m.restore, 2);
  await pool.run('a');
  await pool.run('b');
  m.pending.get('a')!.reject(new Error('iptables-restore exited 1'));
  await pool.run('c'); // a slot is free, but the sync has failed
  t.deepEqual(m.started, ['a', 'b']);
  let settled = false;
  const d = pool.drain().catch((e: Error) => { settled = true; return e; });
  await m.tick();
  t.false(settled, 'b is still running');
  m.pending.get('b')!.resolve();
  const e = await d;
  t.regex(String(e), /exited 1/);
});

test('chain declarations go in descending name order, rules in their given order', (t) => {
  const text = chainsRestore([[['KUBE-SVC-B', ['-A KUBE-SVC-B -j KUBE-SEP-A']], ['KUBE-SEP-A', ['-A KUBE-SEP-A -j DNAT']]], [['KUBE-SVC-C', []]]]);
  t.is(text, '*nat\n:KUBE-SVC-C - [0:0]\n:KUBE-SVC-B - [0:0]\n:KUBE-SEP-A - [0:0]\n-A KUBE-SVC-B -j KUBE-SEP-A\n-A KUBE-SEP-A -j DNAT\nCOMMIT\n');
});

function setup(n: number, command?: string) {
  const tracker = new ChangeTracker('node0');
  for (let i = 0; i < n; i++) {
    tracker.setService(`ns/svc${i}`, { metadata: { namespace: 'ns', name: `svc${i}` }, spec: { clusterIP: `10.96.${i >> 8}.${i & 255}`, ports: [{ port: 80, protocol: 'TCP' }] } });
    tracker.setSlice({
      addressType: 'IPv4', metadata: { namespace: 'ns', name: `svc${i}-x`, labels: { 'kubernetes.io/service-name': `svc${i}` } },
      ports: [{ port: 8080, protocol: 'TCP' }],
      endpoints: [1, 2, 3].map((e) => ({ addresses: [`10.1.${i & 255}.${e}`], conditions: { ready: true } })),
    });
  }
  tracker.takeChanges();
  let inflight = 0;
  let most = 0;
  const log: Array<{ input: string; concurrent: number }> = [];
  const exec = async (cmd: string, _args: string[], input?: string) => {
    if (!cmd.endsWith('-restore')) return '';
    inflight++;
    most = Math.max(most, inflight);
    log.push({ input: input ?? '', concurrent: inflight });
    await new Promise((r) => setTimeout(r, 2));
    inflight--;
    return '';
  };
  const backend = new IptablesBackend(tracker, exec, { clusterCIDR: '10.244.0.0/16', masqueradeAll: false, nodePortIPs: [], command });
  return { backend, log, most: () => most };
}

test('full sync: the static chains land alone, Service chains two at a time, shared chains after all', async (t) => {
  const s = setup(700); // 2,800 chains: 4 inputs of Service chains, the static chains in the first
  await s.backend.sync(true);
  const kinds = s.log.map((r) => (r.input.includes(':KUBE-MARK-MASQ') ? 'static' : r.input.includes(':KUBE-SEP-') ? 'chains' : 'shared'));
  t.is(kinds[0], 'static');
  t.is(s.log[0].concurrent, 1, 'nothing runs beside the first input: the others jump to its chains');
  t.is(kinds[kinds.length - 1], 'shared');
  t.is(s.log[s.log.length - 1].concurrent, 1, 'KUBE-SERVICES goes in once every Service chain is there');
  t.is(s.most(), 2);
  t.is(kinds.filter((k) => k === 'chains').length, 3);
});

test('a resync writes the same chains in fewer inputs; iptables-legacy one input at a time', async (t) => {
  const s = setup(700);
  await s.backend.sync(true);
  const first = s.log.length;
  await s.backend.sync(true);
  t.true(s.log.length - first < first, `${s.log.length - first} inputs for the resync, ${first} for the first sync`);
  const legacy = setup(700, 'iptables-legacy');
  await legacy.backend.sync(true);
  t.is(legacy.most(), 1);
});
