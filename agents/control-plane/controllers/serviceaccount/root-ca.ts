// Root CA publisher (upstream's root-ca-cert-publisher): every active namespace holds the
// kube-root-ca.crt ConfigMap with the cluster CA, which pods' kube-api-access volumes project as
// ca.crt. One that is deleted comes back, and one whose ca.crt was changed is set back.
import type { Logger } from '../../../api/log.ts';
import { ApiError } from '../../apiserver/errors.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { type ControllerOptions, QueueController } from '../workloads/controller.ts';
import type { SharedInformer } from '../workloads/shared-informers.ts';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

export function rootCAConfigMap(ns: string, caPem: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: ROOT_CA_CONFIGMAP, namespace: ns, annotations: { 'kubernetes.io/description': DESCRIPTION } },
    data: { 'ca.crt': caPem },
  };
}

export class RootCAPublisher extends QueueController {
  private readonly namespaces: SharedInformer;
  private readonly configMaps: SharedInformer;

  constructor(
    client: LoopbackClient,
    log: Logger,
    private readonly caPem: string,
    o: ControllerOptions = {},
  ) {
    super(client, log, o);
    this.namespaces = this.informers.get('/api/v1/namespaces');
    this.configMaps = this.informers.get('/api/v1/configmaps');
    const ns = (n: Obj) => this.enqueue(n.metadata.name!);
    const cm = (c: Obj) => c.metadata.name === ROOT_CA_CONFIGMAP && this.enqueue(c.metadata.namespace!);
    this.namespaces.addHandlers({ add: ns, update: ns });
    this.configMaps.addHandlers({ update: cm, delete: cm });
  }

  protected watched(): SharedInformer[] {
    return [this.namespaces, this.configMaps];
  }

  protected initialKeys(): Iterable<string> {
    return this.namespaces.cache.keys();
  }

  protected async sync(name: string): Promise<void> {
    const ns = this.namespaces.cache.get(name);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    const cur = this.configMaps.cache.get(`${name}/${ROOT_CA_CONFIGMAP}`);
    if (cur?.data?.['ca.crt'] === this.caPem) return;
    const want = rootCAConfigMap(name, this.caPem);
    const path = `/api/v1/namespaces/${name}/configmaps`;
    try {
      if (!cur) await this.client.create(path, want);
      else await this.client.update(`${path}/${ROOT_CA_CONFIGMAP}`, { ...cur, data: want.data });
      this.log.info({ namespace: name }, 'published the root CA');
    } catch (e) {
      // our cache is behind (409: the next event brings it back), or the namespace is going away
      if (!(e instanceof ApiError && (e.code === 409 || e.code === 403 || e.code === 404))) throw e;
    }
  }
}
