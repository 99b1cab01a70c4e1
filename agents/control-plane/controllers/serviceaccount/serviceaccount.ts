// ServiceAccount controller: every active namespace has a ServiceAccount "default"; one that is
// deleted comes back (upstream's serviceaccounts-controller). The namespace controller also makes
// it when a namespace first appears; this one keeps it there.
import type { Logger } from '../../../api/log.ts';
import { ApiError } from '../../apiserver/errors.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { type ControllerOptions, QueueController } from '../workloads/controller.ts';
import type { SharedInformer } from '../workloads/shared-informers.ts';

export const DEFAULT_SA = 'default';

/** Pure: does this namespace need its default ServiceAccount made? */
export function needsDefaultAccount(ns: Obj | undefined, accountExists: boolean): boolean {
  return !!ns && !ns.metadata.deletionTimestamp && ns.status?.phase !== 'Terminating' && !accountExists;
}

export class ServiceAccountController extends QueueController {
  private readonly namespaces: SharedInformer;
  private readonly accounts: SharedInformer;

  constructor(client: LoopbackClient, log: Logger, o: ControllerOptions = {}) {
    super(client, log, o);
    this.namespaces = this.informers.get('/api/v1/namespaces');
    this.accounts = this.informers.get('/api/v1/serviceaccounts');
    const ns = (n: Obj) => this.enqueue(n.metadata.name!);
    this.namespaces.addHandlers({ add: ns, update: ns });
    this.accounts.addHandlers({ delete: (sa) => sa.metadata.name === DEFAULT_SA && this.enqueue(sa.metadata.namespace!) });
  }

  protected watched(): SharedInformer[] {
    return [this.namespaces, this.accounts];
  }

  protected initialKeys(): Iterable<string> {
    return this.namespaces.cache.keys();
  }

  protected async sync(name: string): Promise<void> {
    if (!needsDefaultAccount(this.namespaces.cache.get(name), this.accounts.cache.has(`${name}/${DEFAULT_SA}`))) return;
    try {
      await this.client.create(`/api/v1/namespaces/${name}/serviceaccounts`, {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: DEFAULT_SA, namespace: name },
      });
      this.log.info({ namespace: name }, 'created the default ServiceAccount');
    } catch (e) {
      // already there (our cache is behind), or the namespace is going away
      if (!(e instanceof ApiError && (e.code === 409 || e.code === 403 || e.code === 404))) throw e;
    }
  }
}
