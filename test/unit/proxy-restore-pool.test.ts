// The restore pool as data: a fake restore that the test finishes by hand shows how many inputs
// are in flight, in which order they start, and what a failure does. And the order of chain
// declarations in an input, which iptables-nft's cost depends on.
import test from 'ava';
import { RestorePool } from '../../agents/kube-proxy/iptables/pool.ts';
import { chainsRestore } from '../../agents/kube-proxy/iptables/plan.ts';

function manual() {
  const started: string[] = [];
  const pending = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  const restore = (text: string) =>
    new Promise<void>((resolve, reject) => {
      started.push(text);
      pending.set(text, { resolve, reject });
    });
  const tick = () => new Promise((r) => setImmediate(r));
  return { started, pending, restore, tick };
}

test('pool: at most `limit` in flight, started in the order handed in', async (t) => {
  const m = manual();
  const pool = new RestorePool(m.restore, 2);
  const handing = (async () => {
    for (const x of ['a', 'b', 'c', 'd']) await pool.run(x);
  })();
  await m.tick();
  t.deepEqual(m.started, ['a', 'b']);
  m.pending.get('b')!.resolve();
  await m.tick();
  t.deepEqual(m.started, ['a', 'b', 'c']);
  m.pending.get('a')!.resolve();
  await handing;
  t.deepEqual(m.started, ['a', 'b', 'c', 'd']);
  let drained = false;
  const d = pool.drain().then(() => {
    drained = true;
  });
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
  const d = pool.drain().catch((e: Error) => {
    settled = true;
    return e;
  });
  await m.tick();
  t.false(settled, 'b is still running');
  m.pending.get('b')!.resolve();
  const e = await d;
  t.regex(String(e), /exited 1/);
});

test('chain declarations go in descending name order, rules in their given order', (t) => {
  const text = chainsRestore([
    [
      ['KUBE-SVC-B', ['-A KUBE-SVC-B -j KUBE-SEP-A']],
      ['KUBE-SEP-A', ['-A KUBE-SEP-A -j DNAT']],
    ],
    [['KUBE-SVC-C', []]],
  ]);
  t.is(text, '*nat\n:KUBE-SVC-C - [0:0]\n:KUBE-SVC-B - [0:0]\n:KUBE-SEP-A - [0:0]\n-A KUBE-SVC-B -j KUBE-SEP-A\n-A KUBE-SEP-A -j DNAT\nCOMMIT\n');
});
