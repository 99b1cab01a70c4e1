// ResourceQuota controller: mirrors spec.hard into status.hard and keeps status.used equal to
// what the namespace's pods, services, configmaps, secrets (and RCs, quotas) take. Admission
// (apiserver/quota-admission.ts) refuses what would pass hard; this keeps the reported numbers true
// as objects come and go.
import type { Logger } from '../../../api/log.ts';
import { addUsage, COUNTED, inScope, quotaScopes, type Usage, usageOf, usedFor } from '../../apiserver/quota.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import { keyOf } from '../../client/informer.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { type ControllerOptions, QueueController } from './controller.ts';
import type { SharedInformer } from './shared-informers.ts';

const QUOTAS = '/api/v1/resourcequotas';

export class ResourceQuotaController extends QueueController {
  private readonly quotas: SharedInformer;
  private readonly tracked: [string, SharedInformer][];

  constructor(client: LoopbackClient, log: Logger, o: ControllerOptions = {}) {
    super(client, log, o);
    this.quotas = this.informers.get(QUOTAS);
    this.quotas.addHandlers({ add: (q) => this.enqueue(keyOf(q)), update: (q) => this.enqueue(keyOf(q)) });
    this.tracked = COUNTED.filter((p) => p !== 'resourcequotas').map((p) => [p, this.informers.get(`/api/v1/${p}`)]);
    const wake = (o: Obj) => this.wakeNamespace(o.metadata.namespace);
    for (const [, inf] of this.tracked) inf.addHandlers({ add: wake, update: wake, delete: wake });
  }

  protected initialKeys(): Iterable<string> {
    return this.quotas.cache.keys();
  }

  protected watched(): SharedInformer[] {
    return [this.quotas, ...this.tracked.map(([, i]) => i)];
  }

  private wakeNamespace(ns: string | undefined): void {
    for (const q of this.quotas.cache.values()) if (q.metadata.namespace === ns) this.enqueue(keyOf(q));
  }

  /** What the namespace uses now within the quota's scopes, from the informers' caches. */
  private usage(ns: string, scopes: string[], hard: Record<string, unknown>): Usage {
    let u: Usage = {};
    const wanted = (plural: string) =>
      Object.keys(hard).some(
        (k) =>
          k === plural || k === `count/${plural}` || (plural === 'pods' && /(cpu|memory)$/.test(k)) || (plural === 'services' && k.startsWith('services.')),
      );
    for (const [plural, inf] of this.tracked) {
      if (!wanted(plural)) continue; // kinds the quota does not name are not walked
      for (const o of inf.cache.values()) if (o.metadata.namespace === ns && inScope(scopes, plural, o)) u = addUsage(u, usageOf(plural, o));
    }
    if (!scopes.length) for (const q of this.quotas.cache.values()) if (q.metadata.namespace === ns) u = addUsage(u, usageOf('resourcequotas', q));
    return u;
  }

  protected async sync(key: string): Promise<void> {
    const q = this.quotas.cache.get(key);
    if (!q || q.metadata.deletionTimestamp) return;
    const scopes = quotaScopes(q);
    if (!scopes) return; // a scope this server does not evaluate: no status rather than a wrong one
    const hard = q.spec?.hard ?? {};
    const status = { hard, used: usedFor(hard, this.usage(q.metadata.namespace!, scopes, hard)) };
    await this.writeStatus(`/api/v1/namespaces/${q.metadata.namespace}/resourcequotas/${q.metadata.name}`, q, status);
  }
}
