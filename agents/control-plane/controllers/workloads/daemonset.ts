// DaemonSet controller: one pod per eligible node, pinned there by required node affinity on
// metadata.name (the scheduler binds it, as upstream since 1.12), with the daemon tolerations;
// misplaced and duplicate pods deleted; RollingUpdate (maxUnavailable) or OnDelete on template
// changes, told apart by the controller-revision-hash label.
import type { Logger } from '../../../api/log.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { type ControllerOptions, inNamespace, OwnerController } from './controller.ts';
import { daemonSetStatus, GENERATION_LABEL, pinToNode, planNodes, REVISION_LABEL, rollingDeletes } from './daemonset-rules.ts';
import { controllerRefTo, selectorMatcher, templateHash } from './meta.ts';
import { podFromTemplate } from './pod-template.ts';
import { nextAvailability } from './replicaset-rules.ts';
import type { SharedInformer } from './shared-informers.ts';

const COMPONENT = 'daemonset-controller';

function nodeSignature(n: Obj): string {
  return JSON.stringify([n.metadata.labels, n.spec?.taints]);
}

export class DaemonSetController extends OwnerController {
  private readonly nodes: SharedInformer;

  constructor(client: LoopbackClient, log: Logger, o: ControllerOptions = {}) {
    super(client, log, o, { path: '/apis/apps/v1/daemonsets', kind: 'DaemonSet', apiVersion: 'apps/v1', childPath: '/api/v1/pods' });
    this.nodes = this.informers.get('/api/v1/nodes');
    const all = () => {
      for (const k of this.owners.cache.keys()) this.enqueue(k);
    };
    this.nodes.addHandlers({ add: all, delete: all, update: (n, old) => nodeSignature(n) !== nodeSignature(old) && all() });
  }

  protected watched(): SharedInformer[] {
    return [...super.watched(), this.nodes];
  }

  protected selects(ds: Obj, pod: Obj): boolean {
    return selectorMatcher(ds.spec?.selector)(pod.metadata.labels);
  }

  protected async sync(key: string): Promise<void> {
    const ds = this.owners.cache.get(key);
    if (!ds) return;
    const ns = ds.metadata.namespace!;
    const pods = await this.claim(ds);
    const nodes = [...this.nodes.cache.values()];
    const hash = templateHash(ds.spec?.template, ds.status?.collisionCount);
    const now = this.now();
    if (!ds.metadata.deletionTimestamp && this.expectations.satisfied(key)) {
      const plan = planNodes(ds, nodes, pods);
      const update = plan.create.length || plan.delete.length ? [] : rollingDeletes(ds, nodes, pods, hash, now);
      await this.apply(ds, key, hash, plan.create, [...plan.delete, ...update]);
    }
    const path = `${inNamespace(this.kind.path, ns)}/${ds.metadata.name}`;
    await this.writeStatus(path, ds, daemonSetStatus(ds, nodes, pods, hash, now));
    const next = nextAvailability(pods, ds.spec?.minReadySeconds ?? 0, now);
    if (next !== undefined) this.enqueueAfter(key, next - now + 50);
  }

  private async apply(ds: Obj, key: string, hash: string, create: string[], del: Obj[]): Promise<void> {
    const ns = ds.metadata.namespace!;
    const src = this.eventSource(ds, COMPONENT);
    const owner = controllerRefTo(ds, 'apps/v1', 'DaemonSet');
    const labels = { [REVISION_LABEL]: hash, [GENERATION_LABEL]: String(ds.metadata.generation ?? 1) };
    const pods = create.map((node) => podFromTemplate(ds.spec?.template, { namespace: ns, owner, labels, spec: (s) => pinToNode(s, node) }));
    const [made] = await Promise.all([this.podControl.create(src, key, pods), this.podControl.delete(src, key, del)]);
    if (made) throw made;
  }
}
