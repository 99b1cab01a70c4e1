// The CRD controllers of the apiextensions server, run in every control-plane process as upstream
// runs them in every API server: naming (acceptedNames, NamesAccepted), establishing (Established)
// and the customresourcecleanup finalizer (a deleted CRD's objects are deleted, then the
// finalizer is removed). Decisions are pure in apiserver/crd/names.ts.
import type { Logger } from '../../api/log.ts';
import { decideNames, setCondition } from '../apiserver/crd/names.ts';
import { CRD_PATH } from '../apiserver/crd/serving.ts';
import { CLEANUP_FINALIZER, type CRD } from '../apiserver/crd/types.ts';
import { isoNow, type Obj } from '../apiserver/strategies/types.ts';
import { RESOURCES } from '../apiserver/registry.ts';
import { Informer } from '../client/informer.ts';
import type { LoopbackClient } from '../client/loopback.ts';

const RETRY_MS = 1000;
/** objects deleted per cleanup pass, so one CRD's thousands of objects do not hold the loop */
const CLEANUP_BATCH = 500;

export class CRDController {
  private readonly informer: Informer;
  private pending = false;
  private running = false;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly client: LoopbackClient,
    private readonly log: Logger,
  ) {
    const kick = () => this.kick();
    this.informer = new Informer(client, CRD_PATH, { add: kick, update: kick, delete: kick }, log);
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.synced;
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.informer.stop();
  }

  private kick(): void {
    this.pending = true;
    if (!this.running && !this.stopped) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let pass = 0; this.pending && pass < 100 && !this.stopped; pass++) {
        this.pending = false;
        const all = [...this.informer.cache.values()] as unknown as CRD[];
        for (const crd of all) {
          try {
            if (crd.metadata.deletionTimestamp) await this.cleanup(crd);
            else await this.syncNames(crd, all);
          } catch (e) {
            if ((e as { code?: number }).code === 409 || (e as { code?: number }).code === 404) continue;
            this.log.warn({ err: e, crd: crd.metadata.name }, 'CRD sync failed');
            this.later();
          }
        }
      }
    } finally {
      this.running = false;
    }
  }

  private later(): void {
    clearTimeout(this.retry);
    if (!this.stopped) this.retry = setTimeout(() => this.kick(), RETRY_MS);
  }

  private async syncNames(crd: CRD, all: CRD[]): Promise<void> {
    const d = decideNames(crd, all, RESOURCES);
    const now = isoNow(new Date());
    let conds = crd.status?.conditions ?? [];
    conds = setCondition(conds, d.namesAccepted, now);
    conds = setCondition(conds, d.established, now);
    const status = { ...(crd.status ?? {}), acceptedNames: d.acceptedNames, conditions: conds };
    if (JSON.stringify(status) === JSON.stringify(crd.status)) return;
    await this.client.update(`${CRD_PATH}/${crd.metadata.name}/status`, { ...crd, status });
  }

  /** Deletes the CRD's objects; once none is left, removes the cleanup finalizer. */
  private async cleanup(crd: CRD): Promise<void> {
    if (!crd.metadata.finalizers?.includes(CLEANUP_FINALIZER)) return;
    const version = crd.spec.versions.find((v) => v.storage && v.served) ?? crd.spec.versions.find((v) => v.served);
    const plural = crd.status?.acceptedNames?.plural || crd.spec.names.plural;
    let left = 0;
    if (version) {
      const base = `/apis/${crd.spec.group}/${version.name}`;
      const list = await this.client.list(`${base}/${plural}`, { limit: String(CLEANUP_BATCH) }).catch((e: { code?: number }) => {
        if (e.code === 404) return { items: [] as Obj[], metadata: { resourceVersion: '' } };
        throw e;
      });
      for (const o of list.items) {
        const ns = o.metadata.namespace;
        await this.client.delete(`${base}/${ns ? `namespaces/${ns}/` : ''}${plural}/${o.metadata.name}`).catch((e: { code?: number }) => {
          if (e.code !== 404) throw e;
        });
      }
      left = list.items.length;
    }
    if (left > 0) {
      // deleted objects may wait for their own finalizers: look again
      this.later();
      return;
    }
    await this.client.update(`${CRD_PATH}/${crd.metadata.name}`, {
      ...crd,
      metadata: { ...crd.metadata, finalizers: crd.metadata.finalizers.filter((f) => f !== CLEANUP_FINALIZER) },
    });
  }
}
