// Namespace lifecycle: every namespace gets its `default` ServiceAccount and the kube-root-ca.crt
// ConfigMap (upstream's service account and root CA publisher controllers); a deleted namespace
// has its content deleted, and once nothing is left its `kubernetes` finalizer is removed, which
// lets the API server drop it.
import type { Logger } from '../../api/log.ts';
import { ApiError } from '../apiserver/errors.ts';
import type { ApiHandler } from '../apiserver/handler.ts';
import type { ResourceInfo } from '../apiserver/registry.ts';
import type { Obj } from '../apiserver/strategies/types.ts';
import { Informer } from '../client/informer.ts';
import type { LoopbackClient } from '../client/loopback.ts';
import { rootCAConfigMap } from './serviceaccount/root-ca.ts';

const RETRY_MS = 2000;

function collectionPath(r: ResourceInfo, ns: string): string {
  const root = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  return `${root}/namespaces/${ns}/${r.plural}`;
}

export class NamespaceController {
  private readonly informer: Informer;
  private readonly busy = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly client: LoopbackClient,
    private readonly log: Logger,
    private readonly handler: ApiHandler,
    private readonly caPem: string,
  ) {
    this.informer = new Informer(client, '/api/v1/namespaces', { add: (n) => this.sync(n), update: (n) => this.sync(n) }, log);
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.synced;
  }

  stop(): void {
    this.stopped = true;
    this.informer.stop();
    for (const t of this.timers) clearTimeout(t);
  }

  private sync(ns: Obj): void {
    const name = ns.metadata.name!;
    if (this.busy.has(name) || this.stopped) return;
    this.busy.add(name);
    const work = ns.metadata.deletionTimestamp ? this.finalize(name) : this.populate(name);
    void work
      .catch((e) => this.log.warn({ err: e, namespace: name }, 'namespace sync failed'))
      .then((again) => {
        this.busy.delete(name);
        if (again && !this.stopped) {
          const t = setTimeout(() => {
            this.timers.delete(t);
            const cur = this.informer.cache.get(name);
            if (cur) this.sync(cur);
          }, RETRY_MS);
          this.timers.add(t);
        }
      });
  }

  private async createIfMissing(path: string, obj: Obj): Promise<void> {
    try {
      await this.client.create(path, obj);
    } catch (e) {
      if (!(e instanceof ApiError && (e.code === 409 || e.code === 403 || e.code === 404))) throw e;
    }
  }

  private async populate(ns: string): Promise<boolean> {
    await this.createIfMissing(`/api/v1/namespaces/${ns}/serviceaccounts`, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'default', namespace: ns },
    });
    await this.createIfMissing(`/api/v1/namespaces/${ns}/configmaps`, rootCAConfigMap(ns, this.caPem));
    return false;
  }

  /** Deletes everything in the namespace; true while something is still there. */
  private async finalize(ns: string): Promise<boolean> {
    const namespaced = this.handler.registryResources().filter((r) => r.namespaced && r.verbs.includes('deletecollection'));
    let remaining = 0;
    for (const r of namespaced) {
      const path = collectionPath(r, ns);
      await this.client.request('DELETE', path);
      remaining += (await this.client.list(path)).items.length;
    }
    if (remaining > 0) return true;
    const cur = this.informer.cache.get(ns);
    if (!cur) return false;
    try {
      await this.client.update(`/api/v1/namespaces/${ns}/finalize`, { ...cur, spec: { finalizers: [] } });
      this.log.info({ namespace: ns }, 'namespace deleted');
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
    return false;
  }
}
