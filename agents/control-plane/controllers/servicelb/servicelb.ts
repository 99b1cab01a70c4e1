// The built-in service load balancer (k3s ServiceLB's role, without its per-node pods: kube-proxy
// already forwards ingress IPs): keeps status.loadBalancer of each LoadBalancer Service without a
// loadBalancerClass at the pool's node addresses (rules.ts), following Services and Nodes.
import type { Logger } from '../../../api/log.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import { recordEvent } from '../../client/events.ts';
import { keyOf } from '../../client/informer.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { type ControllerOptions, QueueController, splitKey } from '../workloads/controller.ts';
import type { SharedInformer } from '../workloads/shared-informers.ts';
import { desiredLoadBalancer, nodeIPs, poolFacts, poolIngress } from './rules.ts';

export class ServiceLBController extends QueueController {
  private readonly services: SharedInformer;
  private readonly nodes: SharedInformer;

  constructor(client: LoopbackClient, log: Logger, o: ControllerOptions = {}) {
    super(client, log, o);
    this.services = this.informers.get('/api/v1/services');
    this.nodes = this.informers.get('/api/v1/nodes');
    const svc = (s: Obj) => this.enqueue(keyOf(s));
    this.services.addHandlers({ add: svc, update: svc });
    // a node joining, leaving, turning Ready or NotReady, or changing its pool label moves every ingress
    const all = () => {
      for (const k of this.services.cache.keys()) this.enqueue(k);
    };
    this.nodes.addHandlers({
      add: all,
      update: (n, old) => {
        if (poolFacts(n) !== poolFacts(old)) all();
      },
      delete: all,
    });
  }

  protected watched(): SharedInformer[] {
    return [this.services, this.nodes];
  }

  protected initialKeys(): Iterable<string> {
    return this.services.cache.keys();
  }

  protected async sync(key: string): Promise<void> {
    const svc = this.services.cache.get(key);
    if (!svc || svc.metadata.deletionTimestamp) return;
    const nodes = [...this.nodes.cache.values()];
    const want = desiredLoadBalancer(svc, poolIngress(nodes), nodeIPs(nodes));
    if (!want) return;
    const { namespace, name } = splitKey(key);
    const had = (svc.status?.loadBalancer?.ingress ?? []).length;
    const stored = await this.writeStatus(`/api/v1/namespaces/${namespace}/services/${name}`, svc, { ...(svc.status ?? {}), loadBalancer: want });
    if (stored !== svc && want.ingress?.length && !had)
      await recordEvent(
        this.client,
        { ...svc, kind: 'Service', apiVersion: 'v1' },
        'Normal',
        'EnsuredLoadBalancer',
        'Ensured load balancer',
        'service-controller',
      );
  }
}
