// The watch cache over a real SQLite store: a shared snapshot per prefix, a bounded window of
// recent events, and a watcher that does not take its events being closed instead of buffering.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WatchCache } from '../../agents/control-plane/apiserver/watch-cache.ts';
import { SqliteStore } from '../../agents/control-plane/storage/sqlite.ts';

function setup(t: ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-wcache-'));
  const store = new SqliteStore(join(dir, 'state.db'));
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, cache: new WatchCache(store, '/registry/core/configmaps/', { windowEvents: 4, watcherEvents: 3 }) };
}

test('snapshots are key-ordered per prefix, shared until the next write', async (t) => {
  const { store, cache } = setup(t);
  for (const k of ['b/2', 'a/1', 'b/1']) await store.create(`/registry/core/configmaps/${k}`, '{"metadata":{}}');
  const one = await cache.snapshot('/registry/core/configmaps/b/');
  const two = await cache.snapshot('/registry/core/configmaps/');
  t.is(one.snapshot.entries, two.snapshot.entries, 'one sorted array for both');
  t.deepEqual(
    one.snapshot.entries.slice(one.snapshot.lo, one.snapshot.hi).map((e) => e.kv.key.slice(-3)),
    ['b/1', 'b/2'],
  );
  t.is(two.snapshot.hi - two.snapshot.lo, 3);
  one.watcher.close();
  two.watcher.close();
  t.is(cache.watcherCount, 0);
});

test('a recent revision is served from the window, an older one is not', async (t) => {
  const { store, cache } = setup(t);
  const first = await store.create('/registry/core/configmaps/a/x', '{"metadata":{}}');
  (await cache.snapshot('/registry/core/configmaps/')).watcher.close();
  let last = first;
  for (let i = 0; i < 6; i++) last = await store.update('/registry/core/configmaps/a/x', `{"metadata":{},"v":${i}}`, last.modRevision);
  await new Promise((r) => setImmediate(r));
  t.is(await cache.since('/registry/core/configmaps/', first.modRevision), undefined, 'six events since: the window keeps four');
  const w = await cache.since('/registry/core/configmaps/', last.modRevision - 2);
  t.truthy(w);
  const it = w![Symbol.asyncIterator]();
  t.deepEqual([(await it.next()).value?.revision, (await it.next()).value?.revision], [last.modRevision - 1, last.modRevision]);
  w!.close();
});

test('a watcher that does not take its events is closed once its queue is full', async (t) => {
  const { store, cache } = setup(t);
  let kv = await store.create('/registry/core/configmaps/a/x', '{"metadata":{}}');
  const { watcher } = await cache.snapshot('/registry/core/configmaps/');
  for (let i = 0; i < 5; i++) kv = await store.update('/registry/core/configmaps/a/x', `{"metadata":{},"v":${i}}`, kv.modRevision);
  await new Promise((r) => setImmediate(r));
  t.true(watcher.closed);
  t.true(watcher.overflowed);
  t.is(cache.watcherCount, 0);
  // what was queued still goes out, then the stream ends and the client re-watches
  const got: number[] = [];
  for await (const ev of watcher) got.push(ev.revision);
  t.is(got.length, 3);
});
