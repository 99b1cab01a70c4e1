// ReplicaSet controller: keeps spec.replicas active pods from the template (creating in
// slow-start batches, deleting in upstream's preference order), adopts matching orphans,
// releases pods that stopped matching, and reports replicas/ready/available in status.
import type { Logger } from '../../../api/log.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { type ControllerOptions, inNamespace, type OwnerKind, OwnerController } from './controller.ts';
import { controllerRefTo, isActive, selectorMatcher } from './meta.ts';
import { podFromTemplate } from './pod-template.ts';
import { BURST_REPLICAS, type Failure, nextAvailability, podsToDelete, replicaDiff, replicaSetStatus } from './replicaset-rules.ts';

/** What differs between the replica-keeping kinds: where they live and how they select pods. */
export interface ReplicaKind extends OwnerKind {
  component: string;
  selects(owner: Obj): (labels: Record<string, string> | undefined) => boolean;
}

export const REPLICA_SET: ReplicaKind = {
  path: '/apis/apps/v1/replicasets',
  kind: 'ReplicaSet',
  apiVersion: 'apps/v1',
  childPath: '/api/v1/pods',
  component: 'replicaset-controller',
  selects: (rs) => selectorMatcher(rs.spec?.selector),
};

/** A ReplicaSet or (with REPLICATION_CONTROLLER from replicationcontroller.ts) a ReplicationController. */
export class ReplicaSetController extends OwnerController {
  private readonly flavour: ReplicaKind;
  constructor(client: LoopbackClient, log: Logger, o: ControllerOptions & { burstReplicas?: number } = {}, flavour: ReplicaKind = REPLICA_SET) {
    super(client, log, o, flavour);
    this.flavour = flavour;
  }

  private get burst(): number {
    return (this.opts as { burstReplicas?: number }).burstReplicas ?? BURST_REPLICAS;
  }

  protected selects(rs: Obj, pod: Obj): boolean {
    return this.flavour.selects(rs)(pod.metadata.labels);
  }

  protected async sync(key: string): Promise<void> {
    const rs = this.owners.cache.get(key);
    if (!rs) {
      this.expectations.forget(key);
      return;
    }
    const ready = this.expectations.satisfied(key);
    const active = (await this.claim(rs)).filter(isActive);
    let failure: Failure | undefined;
    if (ready && !rs.metadata.deletionTimestamp) failure = await this.manage(rs, key, active);
    const now = this.now();
    const path = `${inNamespace(this.kind.path, rs.metadata.namespace!)}/${rs.metadata.name}`;
    await this.writeStatus(path, rs, replicaSetStatus(rs, active, now, failure));
    const next = nextAvailability(active, rs.spec?.minReadySeconds ?? 0, now);
    if (next !== undefined) this.enqueueAfter(key, next - now + 50);
  }

  private async manage(rs: Obj, key: string, active: Obj[]): Promise<Failure | undefined> {
    const ns = rs.metadata.namespace!;
    const diff = replicaDiff(rs.spec?.replicas ?? 1, active.length, this.burst);
    const src = this.eventSource(rs, this.flavour.component);
    if (diff > 0) {
      const owner = controllerRefTo(rs, this.flavour.apiVersion, this.flavour.kind);
      const pods = Array.from({ length: diff }, () => podFromTemplate(rs.spec?.template, { namespace: ns, owner }));
      const err = await this.podControl.create(src, key, pods);
      return err ? { reason: 'FailedCreate', message: (err as Error).message } : undefined;
    }
    const err = await this.podControl.delete(src, key, podsToDelete(active, -diff));
    return err ? { reason: 'FailedDelete', message: (err as Error).message } : undefined;
  }
}
