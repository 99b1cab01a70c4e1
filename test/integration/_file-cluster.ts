// One control plane for a whole test file (the leading underscore keeps ava from running it):
// started before the file's tests, then `setup` (set the file's variables, open clients, create
// fixtures); every client `setup` hands to `own` is closed and the cluster stopped after the tests,
// also when a test or the set-up failed. Replaces the before/after pair each file wrote again.
import test from 'ava';
import type { ControlPlaneOptions } from '../../agents/control-plane/index.ts';
import { type Cluster, startCluster } from './_apiserver-kit.ts';

interface Closable {
  close(): void | Promise<void>;
}

export function fileCluster(
  setup: (c: Cluster, own: <T extends Closable>(client: T) => T) => void | Promise<void>,
  o: { backend?: 'sqlite' | 'etcd'; extra?: Partial<ControlPlaneOptions> } = {},
): void {
  let cluster: Cluster | undefined;
  const owned: Closable[] = [];
  test.before(async () => {
    cluster = await startCluster(o.backend ?? 'sqlite', o.extra);
    await setup(cluster, (client) => {
      owned.push(client);
      return client;
    });
  });
  test.after.always(async () => {
    for (const client of owned.splice(0).reverse()) await client.close();
    await cluster?.close();
  });
}
