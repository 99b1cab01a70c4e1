// Pod GC from informers against the real API handler and SQLite store: pods of a node that is gone
// are force-deleted (at once when the Node is deleted, and by the periodic sweep), pods of live
// nodes stay.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logger } from '../../agents/api/log.ts';
import { ApiHandler } from '../../agents/control-plane/apiserver/handler.ts';
import { Registry } from '../../agents/control-plane/apiserver/registry.ts';
import { bootstrap } from '../../agents/control-plane/bootstrap.ts';
import { LoopbackClient } from '../../agents/control-plane/client/loopback.ts';
import { PodGC } from '../../agents/control-plane/controllers/podgc.ts';
import { SqliteStore } from '../../agents/control-plane/storage/sqlite.ts';
import { until } from './_apiserver-kit.ts';

const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
const pod = (name: string, nodeName: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { nodeName, containers: [{ name: 'c', image: 'registry.local/app:1' }] },
});

test('pods of missing nodes are deleted, pods of live nodes stay', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), `hawser-podgc-${randomBytes(3).toString('hex')}-`));
  const store = new SqliteStore(join(dir, 'state.db'));
  const handler = new ApiHandler({ store, registry: new Registry(), serverAddress: '127.0.0.1:6443', serviceCIDR: '10.96.0.0/12' });
  const api = new LoopbackClient(handler, { name: 'admin', groups: ['system:masters', 'system:authenticated'] });
  const gc = new PodGC(
    new LoopbackClient(handler, { name: 'system:kube-controller-manager', groups: ['system:authenticated'] }),
    logger('pod-gc-test', 'error'),
    300,
  );
  t.teardown(async () => {
    gc.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await bootstrap(api, { serviceCIDR: '10.96.0.0/12', advertiseAddress: '127.0.0.1', port: 6443 });
  await api.create('/api/v1/nodes', node('live'));
  await api.create('/api/v1/nodes', node('doomed'));
  await api.create('/api/v1/namespaces/default/pods', pod('keep', 'live'));
  await api.create('/api/v1/namespaces/default/pods', pod('on-doomed', 'doomed'));
  await api.create('/api/v1/namespaces/default/pods', pod('never-had-a-node', 'ghost'));
  await gc.start();
  const names = async () => (await api.list('/api/v1/namespaces/default/pods')).items.map((p) => p.metadata.name).sort();
  await until("the ghost node's pod deleted by the periodic sweep", async () => ((await names()).includes('never-had-a-node') ? undefined : true));
  t.deepEqual(await names(), ['keep', 'on-doomed']);
  await api.delete('/api/v1/nodes/doomed');
  await until("the deleted node's pod deleted", async () => ((await names()).includes('on-doomed') ? undefined : true));
  t.deepEqual(await names(), ['keep']);
});
