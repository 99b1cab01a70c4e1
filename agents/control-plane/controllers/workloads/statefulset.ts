// StatefulSet controller: pods <set>-0..n-1 with stable names, hostname and subdomain (the
// governing Service), created and removed in order (OrderedReady) or all at once (Parallel), and
// rolled from the highest ordinal down (RollingUpdate with partition) or left for the user
// (OnDelete). volumeClaimTemplates are not served (no PersistentVolumeClaims in this API).
import type { Logger } from '../../../api/log.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { type ControllerOptions, inNamespace, OwnerController } from './controller.ts';
import { controllerRefTo, selectorMatcher, templateHash } from './meta.ts';
import { podFromTemplate } from './pod-template.ts';
import { nextAvailability } from './replicaset-rules.ts';
import { planStatefulSet, podIdentity, revisionName, statefulSetStatus } from './statefulset-rules.ts';

const COMPONENT = 'statefulset-controller';

export class StatefulSetController extends OwnerController {
  constructor(client: LoopbackClient, log: Logger, o: ControllerOptions = {}) {
    super(client, log, o, { path: '/apis/apps/v1/statefulsets', kind: 'StatefulSet', apiVersion: 'apps/v1', childPath: '/api/v1/pods' });
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
    const pods = create.map((n) => {
      const id = podIdentity(set, n, revision);
      return podFromTemplate(set.spec?.template, { namespace: ns, owner, name: id.name, labels: id.labels, spec: id.spec });
    });
    // a pod of the same name still terminating is no error: its deletion wakes us again
    const made = await this.podControl.create(src, key, pods, { exists: 'skip', message: (p) => `create Pod ${p} in StatefulSet ${name} successful` });
    if (made) throw made;
  }
}
