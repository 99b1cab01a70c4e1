// Pod garbage collection for pods whose node is gone: no kubelet will ever finish them, so they
// are force-deleted (grace 0), as upstream's pod GC does for orphaned pods. Runs when a Node is
// deleted and periodically.
import type { Logger } from '../../api/log.ts';
import { ApiError } from '../apiserver/errors.ts';
import type { Obj } from '../apiserver/strategies/types.ts';
import { Informer } from '../client/informer.ts';
import type { LoopbackClient } from '../client/loopback.ts';

/** Pure: the pods bound to nodes that do not exist. */
export function orphanedPods(pods: Obj[], nodeNames: Set<string>): Obj[] {
  return pods.filter((p) => p.spec?.nodeName && !nodeNames.has(p.spec.nodeName));
}

export class PodGC {
  private readonly nodes: Informer;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly client: LoopbackClient,
    private readonly log: Logger,
    private readonly intervalMs = 20_000,
  ) {
    this.nodes = new Informer(client, '/api/v1/nodes', { delete: () => void this.sweep() }, log);
  }

  async start(): Promise<void> {
    this.nodes.start();
    await this.nodes.synced;
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.nodes.stop();
  }

  async sweep(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const names = new Set([...this.nodes.cache.values()].map((n) => n.metadata.name!));
      const { items } = await this.client.list('/api/v1/pods');
      for (const p of orphanedPods(items, names)) {
        try {
          await this.client.delete(`/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`, { gracePeriodSeconds: 0 });
          this.log.info({ pod: `${p.metadata.namespace}/${p.metadata.name}`, node: p.spec.nodeName }, 'deleted pod of a missing node');
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
