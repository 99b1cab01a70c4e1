// Garbage collector: watches every listable, deletable resource the API serves (from discovery;
// events excepted, as upstream), keeps the ownership graph, and deletes dependents whose owners
// are gone (background), deletes the dependents of owners in foreground deletion before
// releasing their foregroundDeletion finalizer, and strips owners in orphan deletion from their
// dependents before releasing their orphan finalizer. An owner missing from the caches is looked
// up in the API before anything is deleted on its account.
import type { Logger } from '../../../api/log.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { type ControllerOptions, inNamespace, isNotFound, QueueController } from '../workloads/controller.ts';
import type { OwnerRef } from '../workloads/meta.ts';
import type { SharedInformer } from '../workloads/shared-informers.ts';
import type { Handlers } from '../../client/informer.ts';
import {
  blockingDependents,
  deletingDependents,
  FOREGROUND,
  Graph,
  type GraphNode,
  judgeDependent,
  ORPHAN,
  orphaning,
  ownerState,
  type OwnerState,
  withoutFinalizer,
  withoutOwners,
} from './graph.ts';

interface Resource {
  /** cluster-wide collection path, e.g. /apis/apps/v1/replicasets */
  path: string;
  namespaced: boolean;
  /** that path's informer and the handlers it feeds, given back when the resource goes away */
  informer: SharedInformer;
  handlers: Handlers;
}

export interface GarbageCollectorOptions extends ControllerOptions {
  /** how often discovery is read again for resources that came or went (upstream: 30 s) */
  rediscoverMs?: number;
}

const REDISCOVER_MS = 30_000;
const IGNORED = new Set(['v1/events', 'events.k8s.io/v1/events']);

interface DiscoveryList {
  resources?: { name: string; namespaced: boolean; kind: string; verbs: string[] }[];
}

export class GarbageCollector extends QueueController {
  private readonly graph = new Graph();
  private readonly kinds = new Map<string, Resource>();
  private informerList: SharedInformer[] = [];
  private rediscovery: NodeJS.Timeout | undefined;

  constructor(
    client: LoopbackClient,
    log: Logger,
    private readonly gcOpts: GarbageCollectorOptions = {},
  ) {
    super(client, log, gcOpts);
  }

  async start(): Promise<void> {
    await this.discover();
    await super.start();
    // resources come and go with CRDs: look at discovery again, as upstream's GC does every 30 s
    this.rediscovery = setInterval(() => {
      this.discover().catch((e: unknown) => this.log.warn({ err: e }, 'garbage collector discovery failed'));
    }, this.gcOpts.rediscoverMs ?? REDISCOVER_MS);
    this.rediscovery.unref();
  }

  stop(): void {
    clearInterval(this.rediscovery);
    super.stop();
  }

  protected watched(): SharedInformer[] {
    return this.informerList;
  }

  protected initialKeys(): Iterable<string> {
    return [...this.graph.nodes.values()].filter((n) => (n.obj.metadata.ownerReferences ?? []).length || n.obj.metadata.deletionTimestamp).map((n) => n.uid);
  }

  private async discover(): Promise<void> {
    const lists: { gv: string; list: DiscoveryList }[] = [{ gv: 'v1', list: await this.client.request<DiscoveryList>('GET', '/api/v1') }];
    const groups = await this.client.request<{ groups?: { preferredVersion?: { groupVersion: string } }[] }>('GET', '/apis');
    for (const g of groups.groups ?? []) {
      const gv = g.preferredVersion?.groupVersion;
      // an aggregated group is answered by its own server, not through the loopback: skipped, as upstream's collector skips groups it cannot discover
      const list = gv ? await this.client.request<DiscoveryList>('GET', `/apis/${gv}`).catch(() => undefined) : undefined;
      if (gv && list) lists.push({ gv, list });
    }
    const seen = new Set<string>();
    for (const { gv, list } of lists) {
      for (const r of list.resources ?? []) {
        if (r.name.includes('/') || IGNORED.has(`${gv}/${r.name}`)) continue;
        if (!['list', 'watch', 'delete'].every((v) => r.verbs.includes(v))) continue;
        const path = gv === 'v1' ? `/api/v1/${r.name}` : `/apis/${gv}/${r.name}`;
        const key = `${gv}/${r.kind}`;
        seen.add(key);
        const known = this.kinds.get(key);
        if (known?.path === path) continue;
        if (known) this.forget(key, known);
        const handlers: Handlers = {
          add: (o) => this.touch(this.graph.upsert(o, path)),
          update: (o) => this.touch(this.graph.upsert(o, path)),
          delete: (o) => this.touch(this.graph.remove(o)),
        };
        const informer = this.informers.get(path);
        informer.addHandlers(handlers);
        this.kinds.set(key, { path, namespaced: r.namespaced, informer, handlers });
        this.informerList.push(informer);
      }
    }
    // a resource no longer served (its CRD deleted, its group removed): stop watching it, as
    // upstream's collector drops the monitors of resources discovery stops listing
    for (const [key, res] of [...this.kinds]) if (!seen.has(key)) this.forget(key, res);
  }

  private forget(key: string, res: Resource): void {
    this.kinds.delete(key);
    this.informerList = this.informerList.filter((i) => i !== res.informer);
    this.informers.release(res.path, res.handlers);
  }

  private touch(uids: string[]): void {
    for (const u of uids) this.enqueue(u);
  }

  private objPath(node: GraphNode): string {
    const ns = node.obj.metadata.namespace;
    return `${ns ? inNamespace(node.path, ns) : node.path}/${node.obj.metadata.name}`;
  }

  protected async sync(uid: string): Promise<void> {
    const node = this.graph.get(uid);
    if (!node) return;
    if (orphaning(node.obj)) return this.orphanDependents(node);
    if (deletingDependents(node.obj)) return this.deleteDependentsFirst(node);
    if ((node.obj.metadata.ownerReferences ?? []).length) return this.attemptToDelete(node);
  }

  /** An owner's state from the caches, or from the API when the caches do not know it. */
  private async resolve(ref: OwnerRef, dep: GraphNode): Promise<OwnerState> {
    const cached = this.graph.get(ref.uid);
    if (cached) return ownerState(cached.obj, ref);
    const res = this.kinds.get(`${ref.apiVersion}/${ref.kind}`);
    if (!res) {
      this.log.warn({ owner: ref, dependent: dep.uid }, 'owner kind is not served; keeping the dependent');
      return 'solid';
    }
    const ns = dep.obj.metadata.namespace;
    if (res.namespaced && !ns) return 'absent'; // a cluster-scoped object cannot be owned by a namespaced one
    try {
      const owner = await this.client.get(`${res.namespaced ? inNamespace(res.path, ns!) : res.path}/${ref.name}`);
      return ownerState(owner, ref);
    } catch (e) {
      if (isNotFound(e)) return 'absent';
      throw e;
    }
  }

  private async attemptToDelete(node: GraphNode): Promise<void> {
    const states = new Map<string, OwnerState>();
    for (const ref of (node.obj.metadata.ownerReferences ?? []) as OwnerRef[]) states.set(ref.uid, await this.resolve(ref, node));
    const verdict = judgeDependent(node.obj, states, this.graph.dependents(node.uid).length > 0);
    const what = `${node.path}/${node.obj.metadata.namespace ?? ''}/${node.obj.metadata.name}`;
    if (verdict.action === 'unlink') {
      const refs = withoutOwners(node.obj, verdict.owners);
      await this.patchMeta(node, { ownerReferences: refs.length ? refs : null });
      this.log.info({ object: what, removed: verdict.owners }, 'removed references to owners that are gone');
    } else if (verdict.action === 'delete') {
      try {
        await this.client.request('DELETE', this.objPath(node), { body: { propagationPolicy: verdict.propagation, preconditions: { uid: node.uid } } });
        this.log.info({ object: what, propagation: verdict.propagation }, 'deleted an object whose owners are gone');
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  private async deleteDependentsFirst(owner: GraphNode): Promise<void> {
    const deps = this.graph.dependents(owner.uid);
    if (
      !blockingDependents(
        owner.obj,
        deps.map((d) => d.obj),
      ).length
    ) {
      await this.patchMeta(owner, { finalizers: nullIfEmpty(withoutFinalizer(owner.obj, FOREGROUND)) });
      return;
    }
    for (const d of deps) if (!d.obj.metadata.deletionTimestamp) this.enqueue(d.uid);
  }

  private async orphanDependents(owner: GraphNode): Promise<void> {
    for (const d of this.graph.dependents(owner.uid)) {
      const refs = withoutOwners(d.obj, [owner.uid]);
      await this.patchMeta(d, { ownerReferences: refs.length ? refs : null });
    }
    await this.patchMeta(owner, { finalizers: nullIfEmpty(withoutFinalizer(owner.obj, ORPHAN)) });
    this.log.info({ owner: owner.uid }, 'orphaned dependents');
  }

  /** A merge patch of metadata pinned to the cached version (a stale cache gets 409 and a retry). */
  private async patchMeta(node: GraphNode, meta: Record<string, unknown>): Promise<void> {
    try {
      await this.client.patch(this.objPath(node), { metadata: { uid: node.uid, resourceVersion: node.obj.metadata.resourceVersion, ...meta } }, 'merge');
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

const nullIfEmpty = (xs: string[]) => (xs.length ? xs : null);
