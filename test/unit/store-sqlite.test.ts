import test from 'ava';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore, prefixEnd } from '../../agents/control-plane/storage/sqlite.ts';
import { compactionTarget } from '../../agents/control-plane/storage/compactor.ts';
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  type WatchEvent,
} from '../../agents/control-plane/storage/types.ts';

function tempStore(t: { teardown(fn: () => void): void }): { store: SqliteStore; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-store-'));
  const store = new SqliteStore(join(dir, 'state.db'));
  t.teardown(() => {
    void store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, dir };
}

async function take(w: AsyncIterable<WatchEvent>, n: number): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  for await (const ev of w) {
    out.push(ev);
    if (out.length >= n) break;
  }
  return out;
}

test('prefixEnd bounds a prefix', (t) => {
  t.is(prefixEnd('/registry/pods/'), '/registry/pods0');
  t.is(prefixEnd(''), '');
});

test('create, get, update with compare-and-swap, delete', async (t) => {
  const { store } = tempStore(t);
  t.is(await store.currentRevision(), 0);
  const a = await store.create('/a', 'v1');
  t.deepEqual(a, { key: '/a', value: 'v1', createRevision: 1, modRevision: 1 });
  await t.throwsAsync(store.create('/a', 'again'), { instanceOf: KeyExistsError });
  const b = await store.update('/a', 'v2', 1);
  t.is(b.modRevision, 2);
  t.is(b.createRevision, 1);
  const stale = await t.throwsAsync(store.update('/a', 'v3', 1), { instanceOf: ConflictError });
  t.is((stale as ConflictError).current?.modRevision, 2);
  await t.throwsAsync(store.update('/missing', 'x', 1), { instanceOf: KeyNotFoundError });
  await t.throwsAsync(store.delete('/a', 1), { instanceOf: ConflictError });
  const d = await store.delete('/a', 2);
  t.is(d.modRevision, 3);
  t.is(d.value, 'v2');
  t.is(await store.get('/a'), undefined);
  await t.throwsAsync(store.delete('/a'), { instanceOf: KeyNotFoundError });
  // re-created key gets a new create revision
  const again = await store.create('/a', 'v4');
  t.is(again.createRevision, 4);
  t.is(await store.currentRevision(), 4);
});

test('get and list at a past revision', async (t) => {
  const { store } = tempStore(t);
  await store.create('/p/x', '1'); // rev 1
  await store.create('/p/y', '1'); // rev 2
  await store.update('/p/x', '2', 1); // rev 3
  await store.delete('/p/y'); // rev 4
  t.is((await store.get('/p/x', 2))?.value, '1');
  t.is((await store.get('/p/y', 3))?.value, '1');
  t.is(await store.get('/p/y', 4), undefined);
  const at2 = await store.list('/p/', { revision: 2 });
  t.deepEqual(at2.items.map((i) => [i.key, i.value]), [['/p/x', '1'], ['/p/y', '1']]);
  t.is(at2.revision, 2);
  const now = await store.list('/p/');
  t.deepEqual(now.items.map((i) => [i.key, i.value]), [['/p/x', '2']]);
  t.is(now.revision, 4);
  await t.throwsAsync(store.list('/p/', { revision: 9 }), { instanceOf: FutureRevisionError });
});

test('list pages with limit and startAfter, and stays inside the prefix', async (t) => {
  const { store } = tempStore(t);
  for (const k of ['c', 'a', 'e', 'b', 'd']) await store.create(`/r/${k}`, k);
  await store.create('/r0', 'outside');
  await store.create('/q/a', 'outside');
  const p1 = await store.list('/r/', { limit: 2 });
  t.deepEqual(p1.items.map((i) => i.value), ['a', 'b']);
  t.true(p1.more);
  t.is(p1.remaining, 3);
  const p2 = await store.list('/r/', { limit: 2, startAfter: p1.items[1].key, revision: p1.revision });
  t.deepEqual(p2.items.map((i) => i.value), ['c', 'd']);
  const p3 = await store.list('/r/', { limit: 2, startAfter: p2.items[1].key });
  t.deepEqual(p3.items.map((i) => i.value), ['e']);
  t.false(p3.more);
  t.is(await store.count('/r/'), 5);
});

test('watch replays history after a revision, then streams live events with prev values', async (t) => {
  const { store } = tempStore(t);
  await store.create('/w/a', '1'); // 1
  await store.create('/x/other', '1'); // 2
  await store.update('/w/a', '2', 1); // 3
  const w = store.watch('/w/', 1);
  const pending = take(w, 3);
  await store.delete('/w/a'); // 4
  await store.create('/w/b', 'b'); // 5
  const evs = await pending;
  w.close();
  t.deepEqual(
    evs.map((e) => [e.type, e.kv.key, e.kv.value, e.revision, e.prev?.value]),
    [
      ['put', '/w/a', '2', 3, '1'],
      ['delete', '/w/a', '2', 4, '2'],
      ['put', '/w/b', 'b', 5, undefined],
    ],
  );
  t.is(store.watcherCount, 0);
});

test('compaction keeps live keys, drops history, and makes old revisions Compacted', async (t) => {
  const { store } = tempStore(t);
  await store.create('/k/live', '0'); // 1
  for (let i = 1; i <= 20; i++) await store.update('/k/live', String(i), i); // 2..21
  await store.create('/k/gone', 'x'); // 22
  await store.delete('/k/gone'); // 23
  await store.create('/k/late', 'y'); // 24
  await store.compact(23);
  t.is(await store.compactedRevision(), 23);
  t.is((await store.get('/k/live'))?.value, '20');
  t.is(store.logRows(), 2);
  await t.throwsAsync(store.list('/k/', { revision: 10 }), { instanceOf: CompactedError });
  t.throws(() => store.watch('/k/', 5), { instanceOf: CompactedError });
  // the state at the compaction revision itself is still readable
  t.deepEqual((await store.list('/k/', { revision: 23 })).items.map((i) => i.key), ['/k/live']);
  const w = store.watch('/k/', 23);
  const evs = await take(w, 1);
  w.close();
  t.is(evs[0].kv.key, '/k/late');
});

test('data and revision survive reopening', async (t) => {
  const { store, dir } = tempStore(t);
  await store.create('/a', '1');
  await store.create('/b', '1');
  await store.delete('/b');
  await store.compact(3);
  await store.close();
  const again = new SqliteStore(join(dir, 'state.db'));
  t.teardown(() => void again.close());
  t.is(await again.currentRevision(), 3);
  t.is(await again.compactedRevision(), 3);
  t.is((await again.get('/a'))?.value, '1');
  t.is((await again.create('/c', '1')).modRevision, 4);
});

test('a second process-level open of the same file is refused while the first holds it', async (t) => {
  const { store, dir } = tempStore(t);
  await store.create('/a', '1');
  t.throws(() => {
    const s = new SqliteStore(join(dir, 'state.db'));
    s.logRows();
    void s.close();
  }, { any: true, message: /locked|busy/i });
});

test('lease-renewal soak: compaction bounds rows and file size', async (t) => {
  const { store, dir } = tempStore(t);
  const value = JSON.stringify({ spec: { holderIdentity: 'node-1', renewTime: new Date().toISOString() }, pad: 'x'.repeat(400) });
  let rev = (await store.create('/leases/node-1', value)).modRevision;
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 500; i++) rev = (await store.update('/leases/node-1', value, rev)).modRevision;
    await store.compact(rev - 100);
  }
  t.true(store.logRows() <= 101, `rows ${store.logRows()}`);
  const size = statSync(join(dir, 'state.db')).size + statSync(join(dir, 'state.db-wal'), { throwIfNoEntry: false })?.size!;
  t.true(size < 1024 * 1024, `size ${size}`);
});

test('compactionTarget bounds history by count and by age', (t) => {
  t.is(compactionTarget(5000, [], 0, 1000, 300_000), 4000);
  t.is(compactionTarget(500, [], 0, 1000, 300_000), 0);
  // a sample older than the age bound pulls the target forward
  t.is(compactionTarget(5000, [{ at: 0, rev: 4500 }], 400_000, 1000, 300_000), 4500);
  // a recent sample does not
  t.is(compactionTarget(5000, [{ at: 350_000, rev: 4900 }], 400_000, 1000, 300_000), 4000);
});
