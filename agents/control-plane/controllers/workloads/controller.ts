// The shell every controller here shares: informers feed a keyed work queue, workers call
// sync(key), a stale write (409) is retried at once against the fresher cache, other failures
// back off. OwnerController adds upstream's owner/child bookkeeping: child events wake their
// controller (or, for orphans, every owner whose selector matches) and settle expectations.
import type { Logger } from '../../../api/log.ts';
import { WorkQueue } from '../../../api/queue.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import { keyOf } from '../../client/informer.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { canon } from '../../apiserver/validation/pod.ts';
import { Expectations } from './expectations.ts';
import { PodControl } from './pod-control.ts';
import { yieldToIO } from './pod-template.ts';
import type { TokenBucket } from '../../../api/token-bucket.ts';
import { controllerOf } from './meta.ts';
import { type SharedInformer, SharedInformers } from './shared-informers.ts';

export interface ControllerOptions {
  /** informers shared with the other controllers of the process; a private set otherwise */
  informers?: SharedInformers;
  workers?: number;
  now?: () => number;
  /** the pace of pod creations and deletions, shared by a controller set; a private one otherwise */
  podPace?: TokenBucket;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

// one implementation (agents/api/errors.ts); controllers import them from here
import { isConflict, isNotFound } from '../../../api/errors.ts';
export { isConflict, isNotFound };

export abstract class QueueController {
  protected readonly queue = new WorkQueue();
  protected readonly informers: SharedInformers;
  protected readonly now: () => number;
  private readonly ownInformers: boolean;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    protected readonly client: LoopbackClient,
    protected readonly log: Logger,
    protected readonly opts: ControllerOptions = {},
  ) {
    this.ownInformers = !opts.informers;
    this.informers = opts.informers ?? new SharedInformers(client, log);
    this.now = opts.now ?? Date.now;
  }

  /** Keys to sync once the informers have synced (every object of the primary type). */
  protected abstract initialKeys(): Iterable<string>;
  protected abstract sync(key: string): Promise<void>;
  /** Every informer that must have synced before the first sync. */
  protected abstract watched(): SharedInformer[];

  async start(): Promise<void> {
    this.informers.start();
    await Promise.all(this.watched().map((i) => i.synced));
    if (this.stopped) return;
    for (const k of this.initialKeys()) this.queue.add(k);
    this.queue.run(
      this.opts.workers ?? 2,
      (k) => this.syncSafely(k),
      (k, err) => {
        this.log.warn({ err, key: k }, 'sync failed; will retry');
      },
    );
  }

  protected get running(): boolean {
    return !this.stopped;
  }

  stop(): void {
    this.stopped = true;
    this.queue.stop();
    for (const t of this.timers) clearTimeout(t);
    if (this.ownInformers) this.informers.stop();
  }

  protected enqueue(key: string): void {
    if (!this.stopped) this.queue.add(key);
  }

  /** Sync `key` again after `ms` (an unref'd timer: it never keeps the process alive). */
  protected enqueueAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        this.enqueue(key);
      },
      Math.max(0, ms),
    );
    t.unref();
    this.timers.add(t);
  }

  private async syncSafely(key: string): Promise<void> {
    // the API server answers between two syncs: in-process requests may never wait on a socket,
    // so a queue of syncs would otherwise run back to back on the loop the server shares
    await yieldToIO();
    try {
      await this.sync(key);
    } catch (e) {
      if (isConflict(e)) {
        // our cache was behind the store: the watch will catch up within milliseconds
        this.enqueueAfter(key, 50);
        return;
      }
      // the object went away under us: its delete event brings the next sync
      if (isNotFound(e)) return;
      throw e;
    }
  }

  /** PUT of the status subresource when it differs; returns the stored object. */
  protected async writeStatus(path: string, obj: Obj, status: Record<string, unknown>): Promise<Obj> {
    if (JSON.stringify(canon(status)) === JSON.stringify(canon(obj.status ?? {}))) return obj;
    return this.client.update(`${path}/status`, { ...obj, status });
  }
}

export interface OwnerKind {
  /** collection path of the owners, e.g. /apis/apps/v1/replicasets */
  path: string;
  kind: string;
  apiVersion: string;
  /** collection path of the children, e.g. /api/v1/pods */
  childPath: string;
}

export abstract class OwnerController extends QueueController {
  protected readonly owners: SharedInformer;
  protected readonly children: SharedInformer;
  protected readonly expectations: Expectations;
  protected readonly podControl: PodControl;

  constructor(
    client: LoopbackClient,
    log: Logger,
    opts: ControllerOptions,
    protected readonly kind: OwnerKind,
  ) {
    super(client, log, opts);
    this.expectations = new Expectations(5 * 60_000, this.now);
    this.podControl = new PodControl(client, this.expectations, log, opts.podPace, () => this.running);
    this.owners = this.informers.get(kind.path);
    this.children = this.informers.get(kind.childPath);
    this.owners.addHandlers({
      add: (o) => this.enqueue(keyOf(o)),
      update: (o) => this.enqueue(keyOf(o)),
      delete: (o) => {
        this.expectations.forget(keyOf(o));
        this.enqueue(keyOf(o));
      },
    });
    this.children.addHandlers({
      add: (c) => (c.metadata.deletionTimestamp ? this.childGone(c) : this.childAdded(c)),
      update: (c, old) => this.childUpdated(c, old),
      delete: (c) => this.childGone(c),
    });
  }

  protected initialKeys(): Iterable<string> {
    return this.owners.cache.keys();
  }

  protected watched(): SharedInformer[] {
    return [this.owners, this.children];
  }

  /** Does this owner's selector match the child? (Owners without a selector return undefined: they keep what they made and adopt nothing.) */
  protected abstract selects(owner: Obj, child: Obj): boolean | undefined;

  /** Hook for controllers that care about more than membership (e.g. readiness timers). */
  protected childChanged(_child: Obj, _ownerKey: string): void {}

  /** Hook for a child event no owner in our cache controls (an orphan, or its owner is gone). */
  protected childUnowned(_child: Obj): void {}

  /** The key of the owner in our cache that controls this child, if any. */
  protected ownerKeyOf(child: Obj): string | undefined {
    const ref = controllerOf(child);
    if (!ref || ref.kind !== this.kind.kind) return undefined;
    const key = child.metadata.namespace ? `${child.metadata.namespace}/${ref.name}` : ref.name;
    const owner = this.owners.cache.get(key);
    return owner && owner.metadata.uid !== ref.uid ? undefined : key;
  }

  private wakeOrphanOwners(child: Obj): void {
    for (const o of this.owners.cache.values()) {
      if (o.metadata.namespace === child.metadata.namespace && this.selects(o, child)) this.enqueue(keyOf(o));
    }
  }

  private childAdded(c: Obj): void {
    const key = this.ownerKeyOf(c);
    if (key) {
      this.expectations.creationObserved(key);
      this.childChanged(c, key);
      this.enqueue(key);
      return;
    }
    if (!controllerOf(c)) this.wakeOrphanOwners(c);
    this.childUnowned(c);
  }

  private childUpdated(c: Obj, old: Obj): void {
    if (c.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) {
      this.childGone(c);
      return;
    }
    const key = this.ownerKeyOf(c);
    const oldKey = this.ownerKeyOf(old);
    if (oldKey && oldKey !== key) this.enqueue(oldKey);
    if (key) {
      this.childChanged(c, key);
      this.enqueue(key);
      return;
    }
    if (!controllerOf(c)) this.wakeOrphanOwners(c);
    this.childUnowned(c);
  }

  private childGone(c: Obj): void {
    const key = this.ownerKeyOf(c);
    if (!key) {
      this.childUnowned(c);
      return;
    }
    this.expectations.deletionObserved(key, keyOf(c));
    this.childChanged(c, key);
    this.enqueue(key);
  }

  /** The owner's children: those it controls, after adopting matching orphans and releasing non-matching ones. */
  protected async claim(owner: Obj): Promise<Obj[]> {
    const ns = owner.metadata.namespace!;
    const base = inNamespace(this.kind.childPath, ns);
    const out: Obj[] = [];
    let fresh: boolean | undefined;
    for (const c of this.children.cache.values()) {
      if (c.metadata.namespace !== ns) continue;
      const ref = controllerOf(c);
      const matches = this.selects(owner, c);
      if (ref) {
        if (ref.uid !== owner.metadata.uid) continue;
        if (matches !== false || owner.metadata.deletionTimestamp) {
          out.push(c);
          continue;
        }
        await this.setOwnerRefs(
          base,
          c,
          (c.metadata.ownerReferences ?? []).filter((r) => r.uid !== owner.metadata.uid),
        );
        continue;
      }
      if (!matches || owner.metadata.deletionTimestamp || c.metadata.deletionTimestamp) continue;
      // re-read the owner once before adopting, as upstream does: never adopt into a deleted owner
      fresh ??= await this.ownerStillLive(owner);
      if (!fresh) continue;
      const ref2 = {
        apiVersion: this.kind.apiVersion,
        kind: this.kind.kind,
        name: owner.metadata.name!,
        uid: owner.metadata.uid!,
        controller: true,
        blockOwnerDeletion: true,
      };
      const adopted = await this.setOwnerRefs(base, c, [...(c.metadata.ownerReferences ?? []), ref2]);
      if (adopted) out.push(adopted);
    }
    return out;
  }

  private async ownerStillLive(owner: Obj): Promise<boolean> {
    try {
      const cur = await this.client.get(`${this.ownerBase(owner.metadata.namespace)}/${owner.metadata.name}`);
      return cur.metadata.uid === owner.metadata.uid && !cur.metadata.deletionTimestamp;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  /** The owner as events name it (kind and apiVersion set). */
  protected eventSource(owner: Obj, component: string): { owner: Obj; component: string } {
    return { owner: { ...owner, kind: this.kind.kind, apiVersion: this.kind.apiVersion }, component };
  }

  protected ownerBase(ns: string | undefined): string {
    const [root, plural] = splitCollection(this.kind.path);
    return ns ? `${root}/namespaces/${ns}/${plural}` : `${root}/${plural}`;
  }

  private async setOwnerRefs(base: string, c: Obj, refs: unknown[]): Promise<Obj | undefined> {
    try {
      return await this.client.patch(
        `${base}/${c.metadata.name}`,
        { metadata: { uid: c.metadata.uid, resourceVersion: c.metadata.resourceVersion, ownerReferences: refs.length ? refs : null } },
        'merge',
      );
    } catch (e) {
      if (isNotFound(e) || isConflict(e)) return undefined;
      throw e;
    }
  }
}

/** '/apis/apps/v1/replicasets' -> ['/apis/apps/v1', 'replicasets'] */
export function splitCollection(path: string): [string, string] {
  const i = path.lastIndexOf('/');
  return [path.slice(0, i), path.slice(i + 1)];
}

/** The namespaced collection path of a cluster-wide collection path. */
export function inNamespace(path: string, ns: string): string {
  const [root, plural] = splitCollection(path);
  return `${root}/namespaces/${ns}/${plural}`;
}
