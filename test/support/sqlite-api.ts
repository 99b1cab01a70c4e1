// An in-process API (ApiHandler + LoopbackClient as cluster-admin) on a fresh SQLite store in a temp
// dir with the "default" namespace, for unit tests of the API machinery; removed when the test ends.
import type { ExecutionContext } from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiHandler } from '../../agents/control-plane/apiserver/handler.ts';
import { Registry } from '../../agents/control-plane/apiserver/registry.ts';
import { LoopbackClient } from '../../agents/control-plane/client/loopback.ts';
import { SqliteStore } from '../../agents/control-plane/storage/sqlite.ts';

export async function sqliteApi(t: ExecutionContext, storeOptions?: ConstructorParameters<typeof SqliteStore>[1]) {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-api-'));
  const store = new SqliteStore(join(dir, 'state.db'), storeOptions);
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const handler = new ApiHandler({ store, registry: new Registry(), serverAddress: '127.0.0.1:6443', serviceCIDR: '10.96.0.0/12' });
  const c = new LoopbackClient(handler, { name: 'admin', groups: ['system:masters'] });
  await c.create('/api/v1/namespaces', { metadata: { name: 'default' } });
  return { c, handler, store };
}
