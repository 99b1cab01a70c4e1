// What the kubelet reads for persistentVolumeClaim volumes: the claims its pods use (the Node
// authorizer serves only those) and the PersistentVolumes, one watch each. A change to either
// requeues the pods of that claim (a pod waiting for its claim to bind retries), and a deleted
// local-path volume of this node has its directory removed before its cleanup finalizer is dropped.
// That cleanup goes through a work queue keyed by volume name, so a failed PATCH (the API server
// restarting under it) is retried with back-off: after a restart the watch resumes where it was
// and may send no further event for the volume (seen in storage-crash: volumes left Released,
// their directories gone, the finalizer never dropped).
import { rmSync } from 'node:fs';
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import type { ApiClient } from '../../api/client.ts';
import { Informer } from '../../api/informer.ts';
import type { Logger } from '../../api/log.ts';
import { core } from '../../api/paths.ts';
import { WorkQueue } from '../../api/queue.ts';
import { type ClaimLookups, cleanupDir, LOCAL_PATH_CLEANUP } from './claims.ts';

const claimNames = (p: V1Pod) => (p.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []));

export class ClaimSource implements ClaimLookups {
  private readonly claims: Informer<V1PersistentVolumeClaim>;
  private readonly volumes: Informer<V1PersistentVolume>;
  private readonly cleanups = new WorkQueue();

  constructor(
    private readonly api: ApiClient,
    readonly nodeName: string,
    private readonly log: Logger,
    pods: () => V1Pod[],
    requeue: (uid: string) => void,
  ) {
    this.claims = new Informer<V1PersistentVolumeClaim>(api, core('persistentvolumeclaims'), {}, log);
    this.volumes = new Informer<V1PersistentVolume>(api, '/api/v1/persistentvolumes', {}, log);
    const touched = (ns: string | undefined, claim: string | undefined) => {
      for (const p of pods()) if (p.metadata?.namespace === ns && claim && claimNames(p).includes(claim)) requeue(p.metadata!.uid!);
    };
    const onClaim = (c: V1PersistentVolumeClaim) => touched(c.metadata?.namespace, c.metadata?.name);
    const onVolume = (v: V1PersistentVolume) => {
      touched(v.spec?.claimRef?.namespace, v.spec?.claimRef?.name);
      if (cleanupDir(v, this.nodeName)) this.cleanups.add(v.metadata!.name!);
    };
    this.claims.on({ add: onClaim, update: onClaim, delete: onClaim });
    this.volumes.on({ add: onVolume, update: onVolume });
  }

  claim(namespace: string, name: string): V1PersistentVolumeClaim | undefined {
    return this.claims.get(`${namespace}/${name}`);
  }

  volume(name: string): V1PersistentVolume | undefined {
    return this.volumes.get(name);
  }

  async start(): Promise<void> {
    this.claims.start();
    this.volumes.start();
    this.cleanups.run(
      1,
      (name) => this.cleanup(name),
      (name, err) => this.log.warn({ err, volume: name }, 'local-path volume cleanup failed; retrying'),
    );
    await Promise.all([this.claims.waitForSync(), this.volumes.waitForSync()]);
  }

  stop(): void {
    this.claims.stop();
    this.volumes.stop();
    this.cleanups.stop();
  }

  /**
   * A deleted local-path volume of this node, as the cache has it now: remove its directory, then
   * let the object go. A rejection makes the queue retry it (with the cache's newer copy by then).
   */
  private async cleanup(name: string): Promise<void> {
    const pv = this.volumes.get(name);
    const dir = pv && cleanupDir(pv, this.nodeName);
    if (!pv || !dir) return;
    rmSync(dir, { recursive: true, force: true });
    const finalizers = (pv.metadata?.finalizers ?? []).filter((f) => f !== LOCAL_PATH_CLEANUP);
    await this.api.patch(`/api/v1/persistentvolumes/${name}`, { metadata: { finalizers, resourceVersion: pv.metadata!.resourceVersion } }, 'merge');
    this.log.info({ volume: name, dir }, 'removed local-path volume directory');
  }
}
