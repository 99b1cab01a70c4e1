// The kubelet's eviction housekeeping (upstream's eviction manager loop, its local-storage part):
// every 10 s it measures each limited emptyDir of the node's running pods with a bounded du-like walk
// and hands the pods emptydir-limit.ts picks to `evict`, which kills them through the pod worker.
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../api/log.ts';
import { treeUsage } from '../stats/disk-usage.ts';
import { volumeDir } from '../volumes/paths.ts';
import { emptyDirLimitEviction, limitedEmptyDirs, type Eviction } from './emptydir-limit.ts';

/** upstream's evictionMonitoringPeriod */
export const EVICTION_MONITORING_MS = 10_000;

export interface EvictionDeps {
  rootDir: string;
  pods(): V1Pod[];
  /** already being evicted: not measured again */
  evicting(uid: string): boolean;
  evict(pod: V1Pod, e: Eviction): Promise<void>;
  log: Logger;
}

const active = (p: V1Pod) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';

export class EvictionManager {
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(
    private d: EvictionDeps,
    private intervalMs = EVICTION_MONITORING_MS,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.synchronize(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One housekeeping pass; the pods it evicted. */
  async synchronize(): Promise<V1Pod[]> {
    if (this.busy) return [];
    this.busy = true;
    const evicted: V1Pod[] = [];
    try {
      for (const pod of this.d.pods()) {
        const uid = pod.metadata!.uid!;
        if (!active(pod) || this.d.evicting(uid)) continue;
        const used = new Map(limitedEmptyDirs(pod).map((v) => [v.name, treeUsage(volumeDir(this.d.rootDir, uid, 'empty-dir', v.name)).bytes]));
        const e = used.size ? emptyDirLimitEviction(pod, used) : undefined;
        if (!e) continue;
        this.d.log.info(
          { pod: `${pod.metadata!.namespace}/${pod.metadata!.name}`, volume: e.volume, usedBytes: used.get(e.volume) },
          'eviction manager: evicting pod',
        );
        await this.d.evict(pod, e).catch((err) => this.d.log.warn({ pod: pod.metadata!.name, err: String(err) }, 'eviction manager: pod failed to evict'));
        evicted.push(pod);
      }
    } finally {
      this.busy = false;
    }
    return evicted;
  }
}
