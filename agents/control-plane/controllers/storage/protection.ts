// The shell of the PVC and PV protection controllers: when a claim or volume being deleted is no
// longer in use, its protection finalizer is removed so the API server can drop it.
import type { Logger } from '../../../api/log.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import { PV_PROTECTION, PVC_PROTECTION } from '../../apiserver/strategies/volumes.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { type ControllerOptions, QueueController } from '../workloads/controller.ts';
import type { SharedInformer } from '../workloads/shared-informers.ts';
import { claimInUse, claimsOfPod, releaseFinalizer, volumeInUse } from './protection-rules.ts';

const CLAIMS = '/api/v1/persistentvolumeclaims';
const VOLUMES = '/api/v1/persistentvolumes';

export class StorageProtectionController extends QueueController {
  private readonly claims: SharedInformer;
  private readonly volumes: SharedInformer;
  private readonly pods: SharedInformer;

  constructor(client: LoopbackClient, log: Logger, o: ControllerOptions = {}) {
    super(client, log, o);
    this.claims = this.informers.get(CLAIMS);
    this.volumes = this.informers.get(VOLUMES);
    this.pods = this.informers.get('/api/v1/pods');
    const claim = (c: Obj) => this.enqueue(`pvc:${c.metadata.namespace}/${c.metadata.name}`);
    const volume = (v: Obj) => this.enqueue(`pv:${v.metadata.name}`);
    const pod = (p: Obj) => {
      for (const n of claimsOfPod(p)) this.enqueue(`pvc:${p.metadata.namespace}/${n}`);
    };
    this.claims.addHandlers({ add: claim, update: claim });
    this.volumes.addHandlers({ add: volume, update: volume });
    this.pods.addHandlers({ update: pod, delete: pod });
  }

  protected watched(): SharedInformer[] {
    return [this.claims, this.volumes, this.pods];
  }

  protected *initialKeys(): Iterable<string> {
    for (const k of this.claims.cache.keys()) yield `pvc:${k}`;
    for (const k of this.volumes.cache.keys()) yield `pv:${k}`;
  }

  protected async sync(key: string): Promise<void> {
    if (key.startsWith('pvc:')) {
      const c = this.claims.cache.get(key.slice(4));
      const rest = c && releaseFinalizer(c, PVC_PROTECTION, claimInUse(c, this.pods.cache.values()));
      if (c && rest)
        await this.client.update(`/api/v1/namespaces/${c.metadata.namespace}/persistentvolumeclaims/${c.metadata.name}`, {
          ...c,
          metadata: { ...c.metadata, finalizers: rest },
        });
      return;
    }
    const v = this.volumes.cache.get(key.slice(3));
    const rest = v && releaseFinalizer(v, PV_PROTECTION, volumeInUse(v));
    if (v && rest) await this.client.update(`${VOLUMES}/${v.metadata.name}`, { ...v, metadata: { ...v.metadata, finalizers: rest } });
  }
}
