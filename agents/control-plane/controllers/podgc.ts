// Pod garbage collection for pods whose node is gone: no kubelet will ever finish them, so they
// are force-deleted (grace 0), as upstream's pod GC does for orphaned pods. Pods and nodes come
// from informers (no periodic full list); a sweep runs when a Node is deleted and periodically.
// The informers can lag (a pod bound to a node registered a moment ago), so a node missing from
// the cache is confirmed with a GET before its pods go, as upstream confirms before deleting.
import type { Logger } from '../../api/log.ts';
import { ApiError } from '../apiserver/errors.ts';
import type { Obj } from '../apiserver/strategies/types.ts';
import type { LoopbackClient } from '../client/loopback.ts';
import { type CacheSource, cacheFor, type SharedInformers } from './workloads/shared-informers.ts';

/** Pure: the pods bound to nodes that do not exist. */
export function orphanedPods(pods: Iterable<Obj>, nodeNames: Set<string>): Obj[] {
  const out: Obj[] = [];
  for (const p of pods) if (p.spec?.nodeName && !nodeNames.has(p.spec.nodeName)) out.push(p);
  return out;
}

export class PodGC {
  private readonly nodes: CacheSource;
  private readonly pods: CacheSource;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly client: LoopbackClient,
    private readonly log: Logger,
    private readonly intervalMs = 20_000,
    informers?: SharedInformers,
  ) {
    this.nodes = cacheFor(client, log, '/api/v1/nodes', { delete: () => void this.sweep() }, informers);
    this.pods = cacheFor(client, log, '/api/v1/pods', {}, informers);
  }

  async start(): Promise<void> {
    this.nodes.start();
    this.pods.start();
    await Promise.all([this.nodes.synced, this.pods.synced]);
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.nodes.stop();
    this.pods.stop();
  }

  /** True when the API says the node does not exist. */
  private async nodeGone(name: string): Promise<boolean> {
    try {
      await this.client.get(`/api/v1/nodes/${name}`);
      return false;
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return true;
      throw e;
    }
  }

  async sweep(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const names = new Set(this.nodes.cache.keys());
      const gone = new Map<string, boolean>();
      for (const p of orphanedPods(this.pods.cache.values(), names)) {
        const node = p.spec.nodeName as string;
        if (!gone.has(node)) gone.set(node, await this.nodeGone(node));
        if (!gone.get(node)) continue;
        try {
          await this.client.delete(`/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`, { gracePeriodSeconds: 0 });
          this.log.info({ pod: `${p.metadata.namespace}/${p.metadata.name}`, node }, 'deleted pod of a missing node');
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 404)) throw e;
        }
      }
    } catch (e) {
      this.log.warn({ err: e }, 'pod GC failed');
    } finally {
      this.running = false;
    }
  }
}
