// StatefulSet controller: pods <set>-0..n-1 with stable names, hostname and subdomain (the
// governing Service), created and removed in order (OrderedReady) or all at once (Parallel), and
// rolled from the highest ordinal down (RollingUpdate with partition) or left for the user
// (OnDelete). Each pod gets its ordinal's claims from volumeClaimTemplates before it is made
// (statefulset-claims-rules.ts), and keeps them across restarts and rescheduling.
import type { Logger } from '../../../api/log.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { type ControllerOptions, inNamespace, OwnerController } from './controller.ts';
import { controllerRefTo, selectorMatcher, templateHash } from './meta.ts';
import { podFromTemplate } from './pod-template.ts';
import { nextAvailability } from './replicaset-rules.ts';
import { claimsForOrdinal, condemnedClaims } from './statefulset-claims-rules.ts';
import type { SharedInformer } from './shared-informers.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { ordinalOf, planStatefulSet, podIdentity, revisionName, statefulSetStatus } from './statefulset-rules.ts';

const COMPONENT = 'statefulset-controller';

export class StatefulSetController extends OwnerController {
  private readonly claims: SharedInformer;

  constructor(client: LoopbackClient, log: Logger, o: ControllerOptions = {}) {
    super(client, log, o, { path: '/apis/apps/v1/statefulsets', kind: 'StatefulSet', apiVersion: 'apps/v1', childPath: '/api/v1/pods' });
    this.claims = this.informers.get('/api/v1/persistentvolumeclaims');
  }

  protected watched(): SharedInformer[] {
    return [...super.watched(), this.claims];
  }

  /** The ordinal's missing claims, made before its pod (upstream createPersistentVolumeClaims). */
  private async ensureClaims(set: Obj, ordinal: number): Promise<void> {
    for (const c of claimsForOrdinal(set, ordinal)) {
      if (this.claims.cache.has(`${c.metadata.namespace}/${c.metadata.name}`)) continue;
      try {
        await this.client.create(`/api/v1/namespaces/${c.metadata.namespace}/persistentvolumeclaims`, c);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 409)) throw e;
      }
    }
  }

  /** whenScaled=Delete: the claims of ordinals scaled away go once their pods have. */
  private async dropCondemnedClaims(set: Obj, pods: Obj[]): Promise<void> {
    const live = new Set(pods.map((p) => ordinalOf(set.metadata.name!, p)));
    for (const c of condemnedClaims(set, this.claims.cache.values(), live)) {
      try {
        await this.client.delete(`/api/v1/namespaces/${c.metadata.namespace}/persistentvolumeclaims/${c.metadata.name}`);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
  }

  protected selects(set: Obj, pod: Obj): boolean {
    return selectorMatcher(set.spec?.selector)(pod.metadata.labels);
  }

  protected async sync(key: string): Promise<void> {
    const set = this.owners.cache.get(key);
    if (!set) return;
    const ns = set.metadata.namespace!;
    const pods = await this.claim(set);
    const revision = revisionName(set, templateHash(set.spec?.template, set.status?.collisionCount));
    if (!set.metadata.deletionTimestamp && this.expectations.satisfied(key)) {
      const plan = planStatefulSet(set, pods, revision);
      await this.apply(set, key, revision, plan.create, plan.delete);
      await this.dropCondemnedClaims(set, pods);
    }
    const now = this.now();
    await this.writeStatus(`${inNamespace(this.kind.path, ns)}/${set.metadata.name}`, set, statefulSetStatus(set, pods, revision, now));
    const next = nextAvailability(pods, set.spec?.minReadySeconds ?? 0, now);
    if (next !== undefined) this.enqueueAfter(key, next - now + 50);
  }

  private async apply(set: Obj, key: string, revision: string, create: number[], del: Obj[]): Promise<void> {
    const ns = set.metadata.namespace!;
    const name = set.metadata.name;
    const src = this.eventSource(set, COMPONENT);
    const owner = controllerRefTo(set, 'apps/v1', 'StatefulSet');
    const deleted = await this.podControl.delete(src, key, del, { message: (p) => `delete Pod ${p} in StatefulSet ${name} successful` });
    if (deleted) throw deleted;
    for (const n of create) await this.ensureClaims(set, n);
    const pods = create.map((n) => {
      const id = podIdentity(set, n, revision);
      return podFromTemplate(set.spec?.template, { namespace: ns, owner, name: id.name, labels: id.labels, spec: id.spec });
    });
    // a pod of the same name still terminating is no error: its deletion wakes us again
    const made = await this.podControl.create(src, key, pods, { exists: 'skip', message: (p) => `create Pod ${p} in StatefulSet ${name} successful` });
    if (made) throw made;
  }
}
