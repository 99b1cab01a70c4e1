import test from 'ava';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore, prefixEnd } from '../../agents/control-plane/storage/sqlite.ts';
import { compactionTarget } from '../../agents/control-plane/storage/compactor.ts';
import { storeConformance } from '../support/store-conformance.ts';

function tempStore(t: { teardown(fn: () => void): void }, o: { pageSize?: number } = {}): { store: SqliteStore; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-store-'));
  const store = new SqliteStore(join(dir, 'state.db'), o);
  t.teardown(() => {
    void store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, dir };
}

// the backend-independent behaviour, shared with the etcd store's test
storeConformance(test, async (t, o) => tempStore(t, o).store, 'sqlite');

test('prefixEnd bounds a prefix', (t) => {
  t.is(prefixEnd('/registry/pods/'), '/registry/pods0');
  t.is(prefixEnd(''), '');
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
  t.throws(
    () => {
      const s = new SqliteStore(join(dir, 'state.db'));
      s.logRows();
      void s.close();
    },
    { any: true, message: /locked|busy/i },
  );
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

test('the database and its write-ahead log are readable by their owner alone, also when an older file was not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'state.db');
  const modes = () => Object.fromEntries(readdirSync(dir).map((f) => [f, (statSync(join(dir, f)).mode & 0o777).toString(8)]));
  let store = new SqliteStore(file);
  await store.create('/a', 'secret');
  t.deepEqual(modes(), { 'state.db': '600', 'state.db-wal': '600' });
  await store.close();
  writeFileSync(`${file}-wal`, '');
  chmodSync(file, 0o644);
  chmodSync(`${file}-wal`, 0o644);
  store = new SqliteStore(file);
  await store.create('/b', 'secret');
  // a WAL left behind makes SQLite open a -shm file too: it gets the database's mode as well
  t.like(modes(), { 'state.db': '600', 'state.db-wal': '600' });
  t.deepEqual(new Set(Object.values(modes())), new Set(['600']));
  await store.close();
});
