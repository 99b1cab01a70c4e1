// Endpoints and EndpointSlice controllers: for every Service with a selector, the pods it selects
// become its core/v1 Endpoints and its discovery.k8s.io/v1 EndpointSlices (owned by the Service,
// labelled kubernetes.io/service-name and managed-by). Services without a selector are left to
// whoever writes their endpoints (the `kubernetes` and kube-dns Services).
import type { Logger } from '../../../api/log.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import { canon } from '../../apiserver/validation/pod.ts';
import { keyOf } from '../../client/informer.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { type ControllerOptions, isNotFound, QueueController } from '../workloads/controller.ts';
import { Expectations } from '../workloads/expectations.ts';
import { controllerRefTo } from '../workloads/meta.ts';
import type { SharedInformer } from '../workloads/shared-informers.ts';
import {
  desiredSlices,
  type DesiredSlice,
  endpointSubsets,
  ENDPOINTS_MANAGED_BY,
  ENDPOINTS_MANAGED_BY_LABEL,
  hasSelector,
  HEADLESS_LABEL,
  isHeadless,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  planSlices,
  selects,
  SERVICE_NAME_LABEL,
} from './rules.ts';

const same = (a: unknown, b: unknown) => JSON.stringify(canon(a ?? null)) === JSON.stringify(canon(b ?? null));

/** Shared shape: Services are the keys; pod changes wake the Services that select the pod. */
abstract class ServiceBacked extends QueueController {
  protected readonly services: SharedInformer;
  protected readonly pods: SharedInformer;

  constructor(client: LoopbackClient, log: Logger, o: ControllerOptions) {
    super(client, log, o);
    this.services = this.informers.get('/api/v1/services');
    this.pods = this.informers.get('/api/v1/pods');
    const svc = (s: Obj) => this.enqueue(keyOf(s));
    this.services.addHandlers({ add: svc, update: svc, delete: svc });
    this.pods.addHandlers({
      add: (p) => this.wake(p),
      update: (p, old) => {
        this.wake(p);
        if (JSON.stringify(p.metadata.labels) !== JSON.stringify(old.metadata.labels)) this.wake(old);
      },
      delete: (p) => this.wake(p),
    });
  }

  protected initialKeys(): Iterable<string> {
    return this.services.cache.keys();
  }

  private wake(pod: Obj): void {
    for (const s of this.services.cache.values()) if (selects(s, pod)) this.enqueue(keyOf(s));
  }

  protected podsIn(ns: string): Obj[] {
    return [...this.pods.cache.values()].filter((p) => p.metadata.namespace === ns);
  }

  protected labelsFor(svc: Obj, extra: Record<string, string>): Record<string, string> {
    return { ...(svc.metadata.labels ?? {}), ...extra, ...(isHeadless(svc) ? { [HEADLESS_LABEL]: '' } : {}) };
  }
}

export class EndpointsController extends ServiceBacked {
  private readonly endpoints: SharedInformer;

  constructor(client: LoopbackClient, log: Logger, o: ControllerOptions = {}) {
    super(client, log, o);
    this.endpoints = this.informers.get('/api/v1/endpoints');
  }

  protected watched(): SharedInformer[] {
    return [this.services, this.pods, this.endpoints];
  }

  protected async sync(key: string): Promise<void> {
    const svc = this.services.cache.get(key);
    const cur = this.endpoints.cache.get(key);
    const [ns, name] = key.split('/');
    const path = `/api/v1/namespaces/${ns}/endpoints`;
    if (!svc) {
      if (cur)
        await this.client.delete(`${path}/${name}`).catch((e) => {
          if (!isNotFound(e)) throw e;
        });
      return;
    }
    if (!hasSelector(svc)) return;
    const subsets = endpointSubsets(svc, this.podsIn(ns));
    const labels = this.labelsFor(svc, { [ENDPOINTS_MANAGED_BY_LABEL]: ENDPOINTS_MANAGED_BY });
    if (cur && same(cur.subsets ?? [], subsets) && same(cur.metadata.labels ?? {}, labels)) return;
    const body = { apiVersion: 'v1', kind: 'Endpoints', metadata: { ...(cur?.metadata ?? { name, namespace: ns }), labels }, subsets };
    if (cur) await this.client.update(`${path}/${name}`, body);
    else await this.client.create(path, body);
  }
}

export class EndpointSliceController extends ServiceBacked {
  private readonly slices: SharedInformer;
  private readonly nodes: SharedInformer;
  private readonly expectations: Expectations;

  constructor(client: LoopbackClient, log: Logger, o: ControllerOptions & { maxEndpointsPerSlice?: number } = {}) {
    super(client, log, o);
    this.expectations = new Expectations(60_000, this.now);
    this.slices = this.informers.get('/apis/discovery.k8s.io/v1/endpointslices');
    this.nodes = this.informers.get('/api/v1/nodes');
    const owner = (s: Obj) =>
      s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY ? `${s.metadata.namespace}/${s.metadata.labels?.[SERVICE_NAME_LABEL]}` : undefined;
    this.slices.addHandlers({
      add: (s) => {
        const k = owner(s);
        if (k) this.expectations.creationObserved(k);
      },
      update: (s) => {
        const k = owner(s);
        if (k) this.enqueue(k);
      },
      delete: (s) => {
        const k = owner(s);
        if (!k) return;
        this.expectations.deletionObserved(k, keyOf(s));
        this.enqueue(k);
      },
    });
  }

  protected watched(): SharedInformer[] {
    return [this.services, this.pods, this.slices, this.nodes];
  }

  private get maxPerSlice(): number {
    return (this.opts as { maxEndpointsPerSlice?: number }).maxEndpointsPerSlice ?? 100;
  }

  protected async sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const path = `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`;
    if (!this.expectations.satisfied(key)) {
      this.enqueueAfter(key, 100); // our last writes are not in the cache yet
      return;
    }
    const svc = this.services.cache.get(key);
    const mine = [...this.slices.cache.values()].filter(
      (s) => s.metadata.namespace === ns && s.metadata.labels?.[SERVICE_NAME_LABEL] === name && s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY,
    );
    if (!svc || !hasSelector(svc)) {
      for (const s of mine)
        await this.client.delete(`${path}/${s.metadata.name}`).catch((e) => {
          if (!isNotFound(e)) throw e;
        });
      return;
    }
    const zoneOf = (node: string) => this.nodes.cache.get(node)?.metadata.labels?.['topology.kubernetes.io/zone'];
    const plan = planSlices(mine, desiredSlices(svc, this.podsIn(ns), zoneOf, this.maxPerSlice));
    const labels = this.labelsFor(svc, { [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MANAGED_BY });
    const body = (d: DesiredSlice, meta: Record<string, unknown>) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { ...meta, labels },
      addressType: d.addressType,
      endpoints: d.endpoints,
      ports: d.ports,
    });
    this.expectations.expect(key, plan.create.length, plan.remove.map(keyOf));
    for (const d of plan.create) {
      await this.client
        .create(path, body(d, { generateName: `${name}-`, namespace: ns, ownerReferences: [controllerRefTo(svc, 'v1', 'Service')] }))
        .catch((e) => {
          this.expectations.creationObserved(key);
          throw e;
        });
    }
    for (const { slice, want } of plan.update) await this.client.update(`${path}/${slice.metadata.name}`, body(want, slice.metadata));
    for (const s of plan.remove) {
      await this.client.delete(`${path}/${s.metadata.name}`).catch((e) => {
        this.expectations.deletionObserved(key, keyOf(s));
        if (!isNotFound(e)) throw e;
      });
    }
    // kept slices follow the Service's labels
    const touched = new Set([...plan.update.map((u) => u.slice), ...plan.remove]);
    for (const s of mine) {
      if (touched.has(s) || same(s.metadata.labels, labels)) continue;
      await this.client.update(`${path}/${s.metadata.name}`, { ...s, metadata: { ...s.metadata, labels } });
    }
  }
}
