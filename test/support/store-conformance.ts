// The behaviour every Store must have, as one ava suite that each backend's test file runs
// (SQLite in test/unit, a real etcd in test/integration). Revisions are global and start at
// different numbers per backend, so every check is relative to revisions the test observed,
// and every test works under its own key prefix.
import type { TestFn } from 'ava';
import { randomBytes } from 'node:crypto';
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  type Store,
  type Watch,
  type WatchEvent,
} from '../../agents/control-plane/storage/types.ts';

/** pageSize: how many keys a list reads per backend call (small values exercise paging) */
export type StoreFactory = (t: { teardown(fn: () => void | Promise<void>): void }, o?: { pageSize?: number }) => Promise<Store>;

async function take(w: Watch, n: number, ms = 10_000): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  const timer = setTimeout(() => w.close(), ms);
  try {
    for await (const ev of w) {
      out.push(ev);
      if (out.length >= n) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/** Resolves when the first next() of a watch fails or yields; sync throws count as failures too. */
async function firstOf(start: () => Watch): Promise<WatchEvent | undefined> {
  const w = start();
  try {
    const r = await Promise.race([
      w[Symbol.asyncIterator]().next(),
      new Promise<IteratorResult<WatchEvent>>((_, rej) => setTimeout(() => rej(new Error('watch neither failed nor yielded')), 5000)),
    ]);
    return r.done ? undefined : r.value;
  } finally {
    w.close();
  }
}

const uniq = () => `/conf-${randomBytes(4).toString('hex')}/`;

export function storeConformance(test: TestFn, make: StoreFactory, label: string): void {
  test(`${label}: create, get, compare-and-swap update, delete, re-create`, async (t) => {
    const store = await make(t);
    const p = uniq();
    const a = await store.create(`${p}a`, 'v1');
    t.is(a.createRevision, a.modRevision);
    t.true(a.modRevision >= 1);
    t.deepEqual(await store.get(`${p}a`), a);
    await t.throwsAsync(store.create(`${p}a`, 'again'), { instanceOf: KeyExistsError });
    const b = await store.update(`${p}a`, 'v2', a.modRevision);
    t.true(b.modRevision > a.modRevision);
    t.is(b.createRevision, a.createRevision);
    const stale = await t.throwsAsync(store.update(`${p}a`, 'v3', a.modRevision), { instanceOf: ConflictError });
    t.is((stale as ConflictError).current?.modRevision, b.modRevision);
    t.is((stale as ConflictError).current?.value, 'v2');
    await t.throwsAsync(store.update(`${p}missing`, 'x', b.modRevision), { instanceOf: KeyNotFoundError });
    await t.throwsAsync(store.delete(`${p}a`, a.modRevision), { instanceOf: ConflictError });
    const d = await store.delete(`${p}a`, b.modRevision);
    t.true(d.modRevision > b.modRevision);
    t.is(d.value, 'v2');
    t.is(d.createRevision, a.createRevision);
    t.is(await store.get(`${p}a`), undefined);
    await t.throwsAsync(store.delete(`${p}a`), { instanceOf: KeyNotFoundError });
    const again = await store.create(`${p}a`, 'v4');
    t.true(again.createRevision > d.modRevision, 'a re-created key gets a new create revision');
    t.true((await store.currentRevision()) >= again.modRevision);
  });

  test(`${label}: delete without a precondition removes whatever is current`, async (t) => {
    const store = await make(t);
    const p = uniq();
    const a = await store.create(`${p}k`, '1');
    await store.update(`${p}k`, '2', a.modRevision);
    const d = await store.delete(`${p}k`);
    t.is(d.value, '2');
    t.is(await store.count(p), 0);
  });

  test(`${label}: get and list at a past revision; a future revision is refused`, async (t) => {
    const store = await make(t);
    const p = uniq();
    const x1 = await store.create(`${p}x`, '1');
    const y1 = await store.create(`${p}y`, '1');
    const x2 = await store.update(`${p}x`, '2', x1.modRevision);
    const yd = await store.delete(`${p}y`);
    t.is((await store.get(`${p}x`, y1.modRevision))?.value, '1');
    t.is((await store.get(`${p}y`, x2.modRevision))?.value, '1');
    t.is(await store.get(`${p}y`, yd.modRevision), undefined);
    const old = await store.list(p, { revision: y1.modRevision });
    t.deepEqual(
      old.items.map((i) => [i.key, i.value]),
      [
        [`${p}x`, '1'],
        [`${p}y`, '1'],
      ],
    );
    t.is(old.revision, y1.modRevision);
    const now = await store.list(p);
    t.deepEqual(
      now.items.map((i) => [i.key, i.value]),
      [[`${p}x`, '2']],
    );
    t.true(now.revision >= yd.modRevision);
    const future = (await store.currentRevision()) + 1000;
    await t.throwsAsync(store.list(p, { revision: future }), { instanceOf: FutureRevisionError });
    await t.throwsAsync(store.get(`${p}x`, future), { instanceOf: FutureRevisionError });
  });

  test(`${label}: list pages with limit and startAfter, counts what remains, stays inside the prefix`, async (t) => {
    const store = await make(t);
    const p = uniq();
    for (const k of ['c', 'a', 'e', 'b', 'd']) await store.create(`${p}${k}`, k);
    await store.create(`${p.slice(0, -1)}0`, 'outside');
    await store.create(`${p.slice(0, -1)}x/a`, 'outside');
    const p1 = await store.list(p, { limit: 2 });
    t.deepEqual(
      p1.items.map((i) => i.value),
      ['a', 'b'],
    );
    t.true(p1.more);
    t.is(p1.remaining, 3);
    // a write after the first page does not show in later pages read at the first page's revision
    await store.create(`${p}bb`, 'late');
    const p2 = await store.list(p, { limit: 2, startAfter: p1.items[1].key, revision: p1.revision });
    t.deepEqual(
      p2.items.map((i) => i.value),
      ['c', 'd'],
    );
    t.is(p2.revision, p1.revision);
    const p3 = await store.list(p, { limit: 2, startAfter: p2.items[1].key, revision: p1.revision });
    t.deepEqual(
      p3.items.map((i) => i.value),
      ['e'],
    );
    t.false(p3.more);
    t.is(p3.remaining, 0);
    t.is(await store.count(p), 6);
    t.deepEqual(
      (await store.list(p)).items.map((i) => i.value),
      ['a', 'b', 'late', 'c', 'd', 'e'],
    );
  });

  test(`${label}: watch replays history after a revision, then streams live events with previous values`, async (t) => {
    const store = await make(t);
    const p = uniq();
    const a1 = await store.create(`${p}a`, '1');
    await store.create(`${p.slice(0, -1)}-other`, '1');
    const a2 = await store.update(`${p}a`, '2', a1.modRevision);
    const w = store.watch(p, a1.modRevision);
    const pending = take(w, 3);
    const ad = await store.delete(`${p}a`);
    const b = await store.create(`${p}b`, 'b');
    const evs = await pending;
    w.close();
    t.deepEqual(
      evs.map((e) => [e.type, e.kv.key, e.kv.value, e.revision, e.kv.modRevision, e.prev?.value]),
      [
        ['put', `${p}a`, '2', a2.modRevision, a2.modRevision, '1'],
        ['delete', `${p}a`, '2', ad.modRevision, ad.modRevision, '2'],
        ['put', `${p}b`, 'b', b.modRevision, b.modRevision, undefined],
      ],
    );
    t.is(evs[1].prev?.modRevision, a2.modRevision);
  });

  test(`${label}: a watch delivers a burst of concurrent writes once each, in revision order`, async (t) => {
    const store = await make(t);
    const p = uniq();
    const from = await store.currentRevision();
    const w = store.watch(p, from);
    const n = 200;
    const pending = take(w, n);
    const writes = await Promise.all(Array.from({ length: n }, (_, i) => store.create(`${p}k${i % 50}-${i}`, String(i))));
    const evs = await pending;
    w.close();
    t.is(evs.length, n);
    const revs = evs.map((e) => e.revision);
    t.deepEqual(
      revs,
      [...revs].sort((x, y) => x - y),
    );
    t.deepEqual(
      revs,
      writes.map((x) => x.modRevision).sort((x, y) => x - y),
    );
  });

  test(`${label}: concurrent compare-and-swap on one key: exactly one writer wins`, async (t) => {
    const store = await make(t);
    const p = uniq();
    const a = await store.create(`${p}k`, '0');
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.update(`${p}k`, String(i + 1), a.modRevision)));
    t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') t.true(r.reason instanceof ConflictError);
  });

  test.serial(`${label}: compaction keeps live keys, makes older revisions Compacted for get, list and watch`, async (t) => {
    const store = await make(t);
    const p = uniq();
    let live = await store.create(`${p}live`, '0');
    const early = live.modRevision;
    for (let i = 1; i <= 10; i++) live = await store.update(`${p}live`, String(i), live.modRevision);
    await store.create(`${p}gone`, 'x');
    const gone = await store.delete(`${p}gone`);
    await store.compact(gone.modRevision);
    t.is(await store.compactedRevision(), gone.modRevision);
    const late = await store.create(`${p}late`, 'y');
    t.is((await store.get(`${p}live`))?.value, '10');
    await t.throwsAsync(store.list(p, { revision: early }), { instanceOf: CompactedError });
    await t.throwsAsync(store.get(`${p}live`, early), { instanceOf: CompactedError });
    await t.throwsAsync(
      firstOf(() => store.watch(p, early)),
      { instanceOf: CompactedError },
    );
    // the state at the compaction revision itself is still readable and watchable from
    t.deepEqual(
      (await store.list(p, { revision: gone.modRevision })).items.map((i) => i.key),
      [`${p}live`],
    );
    const ev = await firstOf(() => store.watch(p, gone.modRevision));
    t.is(ev?.kv.key, `${p}late`);
    t.is(ev?.revision, late.modRevision);
    // compacting to an older revision is a no-op
    await store.compact(early);
    t.is(await store.compactedRevision(), gone.modRevision);
  });

  test(`${label}: a list longer than a page is read page by page as one snapshot`, async (t) => {
    const store = await make(t, { pageSize: 3 });
    const p = uniq();
    for (let i = 0; i < 10; i++) await store.create(`${p}k${i}`, String(i));
    const listing = store.list(p);
    // a write racing with the paged read shows in it exactly when the snapshot is at or after it
    const late = await store.create(`${p}k99`, 'late');
    const all = await listing;
    const want = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ...(all.revision >= late.modRevision ? ['late'] : [])];
    t.deepEqual(
      all.items.map((i) => i.value),
      want,
    );
    t.false(all.more);
    const again = await store.list(p, { revision: all.revision });
    t.deepEqual(
      again.items.map((i) => i.value),
      want,
      'the same snapshot read again',
    );
    const first = await store.list(p, { limit: 7 });
    t.deepEqual(
      first.items.map((i) => i.value),
      ['0', '1', '2', '3', '4', '5', '6'],
    );
    t.true(first.more);
    t.is(first.remaining, 4);
  });

  test(`${label}: a closed watch ends its iteration`, async (t) => {
    const store = await make(t);
    const p = uniq();
    const w = store.watch(p, await store.currentRevision());
    const seen = take(w, 10);
    await store.create(`${p}a`, '1');
    await new Promise((r) => setTimeout(r, 200));
    w.close();
    t.is((await seen).length, 1);
  });
}
