// The store conformance suite against a real etcd (Debian's etcd-server) started on loopback for
// this file, plus what only etcd does: survive its client reconnecting, refuse oversized values.
import test from 'ava';
import { EtcdStore } from '../../agents/control-plane/storage/etcd.ts';
import { ValueTooLargeError } from '../../agents/control-plane/storage/types.ts';
import { etcdAvailable, startEtcd, type EtcdServer } from '../support/etcd-server.ts';
import { storeConformance } from '../support/store-conformance.ts';

let etcd: EtcdServer | undefined;

test.before(async () => {
  if (!etcdAvailable()) throw new Error('etcd is not installed: apt-get install etcd-server');
  etcd = await startEtcd({ maxRequestBytes: 1024 * 1024 });
});
test.after.always(async () => {
  await etcd?.stop();
});

async function open(t: { teardown(fn: () => void | Promise<void>): void }, o: { pageSize?: number } = {}): Promise<EtcdStore> {
  const store = new EtcdStore({ endpoints: etcd!.endpoint, ...o });
  t.teardown(() => store.close());
  return store;
}

storeConformance(test, open, 'etcd');

test('etcd: a value over the server request limit is refused with ValueTooLargeError', async (t) => {
  const store = await open(t);
  await t.throwsAsync(store.create('/big/one', 'x'.repeat(1.5 * 1024 * 1024)), { instanceOf: ValueTooLargeError });
  t.is(await store.get('/big/one'), undefined);
});

test('etcd: closing watches releases them', async (t) => {
  const store = await open(t);
  const ws = Array.from({ length: 20 }, (_, i) => store.watch(`/w${i}/`, 0));
  t.is(store.watcherCount, 20);
  for (const w of ws) w.close();
  t.is(store.watcherCount, 0);
});
