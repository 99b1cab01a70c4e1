// The disruption controller (upstream pkg/controller/disruption): keeps each PodDisruptionBudget's
// status (currentHealthy, desiredHealthy, expectedPods, disruptionsAllowed, the disruptedPods the
// eviction subresource recorded and not yet seen deleted, observedGeneration, DisruptionAllowed)
// from its pods and the replicas of the controllers owning them. A budget whose expected count
// cannot be worked out allows no disruption (SyncFailed), as upstream's failSafe.
import type { Logger } from '../../../api/log.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import { recordEvent } from '../../client/events.ts';
import { keyOf } from '../../client/informer.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { type ControllerOptions, QueueController, splitKey } from '../workloads/controller.ts';
import { controllerOf, type OwnerRef } from '../workloads/meta.ts';
import type { SharedInformer } from '../workloads/shared-informers.ts';
import { countHealthy, expectedCounts, failSafeStatus, pdbSelects, pdbStatus, pendingDisruptions } from './rules.ts';

const PDBS = '/apis/policy/v1/poddisruptionbudgets';
const COMPONENT = 'controllermanager';
/** a budget whose sync failed is tried again after this long (upstream's rate-limited requeue) */
const RETRY_MS = 5_000;

export class DisruptionController extends QueueController {
  private readonly pdbs: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly owners: Record<'ReplicaSet' | 'Deployment' | 'StatefulSet' | 'ReplicationController', SharedInformer>;

  constructor(client: LoopbackClient, log: Logger, o: ControllerOptions = {}) {
    super(client, log, o);
    this.pdbs = this.informers.get(PDBS);
    this.pods = this.informers.get('/api/v1/pods');
    this.owners = {
      ReplicaSet: this.informers.get('/apis/apps/v1/replicasets'),
      Deployment: this.informers.get('/apis/apps/v1/deployments'),
      StatefulSet: this.informers.get('/apis/apps/v1/statefulsets'),
      ReplicationController: this.informers.get('/api/v1/replicationcontrollers'),
    };
    const pdb = (p: Obj) => this.enqueue(keyOf(p));
    this.pdbs.addHandlers({ add: pdb, update: pdb, delete: pdb });
    const pod = (p: Obj, old?: Obj) => this.wakeBudgetsOf(p, old);
    this.pods.addHandlers({ add: (p) => pod(p), update: pod, delete: (p) => pod(p) });
  }

  protected watched(): SharedInformer[] {
    return [this.pdbs, this.pods, ...Object.values(this.owners)];
  }

  protected initialKeys(): Iterable<string> {
    return this.pdbs.cache.keys();
  }

  private wakeBudgetsOf(pod: Obj, old?: Obj): void {
    for (const b of this.pdbs.cache.values()) {
      if (b.metadata.namespace !== pod.metadata.namespace) continue;
      if (pdbSelects(b, pod.metadata.labels) || (old && pdbSelects(b, old.metadata.labels))) this.enqueue(keyOf(b));
    }
  }

  /** upstream's finders: ReplicaSets (or the Deployment controlling one), StatefulSets, ReplicationControllers. */
  private scaleOf = (ref: OwnerRef, ns: string): { uid: string; replicas: number } | undefined => {
    const get = (kind: keyof DisruptionController['owners'], name: string, uid: string) => {
      const o = this.owners[kind].cache.get(`${ns}/${name}`);
      return o && o.metadata.uid === uid ? o : undefined;
    };
    const group = ref.apiVersion.split('/')[0];
    if (ref.kind === 'ReplicationController' && ref.apiVersion === 'v1') {
      const rc = get('ReplicationController', ref.name, ref.uid);
      return rc && { uid: rc.metadata.uid!, replicas: rc.spec?.replicas ?? 1 };
    }
    if (group !== 'apps') return undefined;
    if (ref.kind === 'StatefulSet') {
      const ss = get('StatefulSet', ref.name, ref.uid);
      return ss && { uid: ss.metadata.uid!, replicas: ss.spec?.replicas ?? 1 };
    }
    if (ref.kind !== 'ReplicaSet') return undefined;
    const rs = get('ReplicaSet', ref.name, ref.uid);
    if (!rs) return undefined;
    const dref = controllerOf(rs);
    if (dref?.kind !== 'Deployment') return { uid: rs.metadata.uid!, replicas: rs.spec?.replicas ?? 1 };
    const d = get('Deployment', dref.name, dref.uid);
    return d && { uid: d.metadata.uid!, replicas: d.spec?.replicas ?? 1 };
  };

  protected async sync(key: string): Promise<void> {
    const pdb = this.pdbs.cache.get(key);
    if (!pdb || pdb.metadata.deletionTimestamp) return;
    const about = { ...pdb, kind: 'PodDisruptionBudget', apiVersion: 'policy/v1' };
    const { namespace, name } = splitKey(key);
    const path = `/apis/policy/v1/namespaces/${namespace}/poddisruptionbudgets/${name}`;
    const pods = [...this.pods.cache.values()].filter((p) => p.metadata.namespace === namespace && pdbSelects(pdb, p.metadata.labels));
    if (!pods.length) await recordEvent(this.client, about, 'Normal', 'NoPods', 'No matching pods found', COMPONENT);
    const now = new Date(this.now());
    let counts: ReturnType<typeof expectedCounts>;
    try {
      counts = expectedCounts(pdb, pods, this.scaleOf);
    } catch (e) {
      const msg = (e as Error).message;
      await recordEvent(this.client, about, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${msg}`, COMPONENT);
      await this.writeStatus(path, pdb, { ...failSafeStatus(pdb, msg, now) });
      this.enqueueAfter(key, RETRY_MS);
      return;
    }
    if (counts.unmanaged.length)
      await recordEvent(
        this.client,
        about,
        'Normal',
        'UnmanagedPods',
        `Pods selected by this PodDisruptionBudget (selector: ${JSON.stringify(pdb.spec?.selector)}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
        COMPONENT,
      );
    const { pending, overdue, recheckAt } = pendingDisruptions(pdb, pods, now.getTime());
    for (const podName of overdue) {
      const p = this.pods.cache.get(`${namespace}/${podName}`);
      if (p)
        await recordEvent(
          this.client,
          { ...p, kind: 'Pod' },
          'Warning',
          'NotDeleted',
          `Pod was expected by PDB ${namespace}/${name} to be deleted but it wasn't`,
          COMPONENT,
        );
    }
    const status = pdbStatus(
      pdb,
      { currentHealthy: countHealthy(pods, pending, now.getTime()), desiredHealthy: counts.desired, expected: counts.expected, pending },
      now,
    );
    await this.writeStatus(path, pdb, { ...status });
    if (recheckAt !== undefined) this.enqueueAfter(key, recheckAt - now.getTime());
  }
}
