// usageNanoCores needs two readings of a cumulative CPU counter: this keeps the previous reading per
// key (node, pod uid, container id) and turns the next into a rate, as the kubelet's CPU usage
// cache does. Keys not read in a pass are dropped after it, so the cache holds only what exists.
export interface CpuReading {
  usageCoreNanoSeconds: number;
  atNs: number;
}

/** Nanocores between two readings; undefined when time did not advance or the counter went back (a new cgroup). */
export function nanoCores(prev: CpuReading, next: CpuReading): number | undefined {
  const dt = next.atNs - prev.atNs;
  const du = next.usageCoreNanoSeconds - prev.usageCoreNanoSeconds;
  if (dt <= 0 || du < 0) return undefined;
  return Math.round((du * 1e9) / dt);
}

export class CpuRates {
  private prev = new Map<string, CpuReading>();
  private seen = new Set<string>();

  /** The rate since the key's previous reading (undefined on the first), remembering this one. */
  rate(key: string, next: CpuReading): number | undefined {
    this.seen.add(key);
    const prev = this.prev.get(key);
    // keep the older reading when no time passed, so two scrapes in one tick still see a rate later
    if (!prev || next.atNs > prev.atNs) this.prev.set(key, next);
    return prev ? nanoCores(prev, next) : undefined;
  }

  /** Ends a pass: forgets keys it did not read. */
  sweep(): void {
    for (const k of this.prev.keys()) if (!this.seen.has(k)) this.prev.delete(k);
    this.seen.clear();
  }

  get size(): number {
    return this.prev.size;
  }
}
