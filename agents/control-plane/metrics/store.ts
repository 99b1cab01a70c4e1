// The last two points of every node and container, as metrics-server's storage keeps them: usage
// is the CPU rate between the two (cores over the window between their timestamps) and the newer
// working set. A point no newer than the last is ignored; a counter that went back or a new start
// time (the container restarted) starts over. A node's points go when it is no longer scraped.
import { containerKey, type Point, type ScrapeBatch } from './parse.ts';

export interface Usage {
  /** nanocores */ cpu: number;
  memoryBytes: number;
  timestampMs: number;
  windowMs: number;
}

interface Pair {
  prev?: Point;
  last: Point;
}

function advance(pair: Pair | undefined, p: Point): Pair {
  if (!pair) return { last: p };
  if (p.atMs <= pair.last.atMs) return pair;
  const restarted =
    p.cpuSeconds < pair.last.cpuSeconds || (p.startSeconds !== undefined && pair.last.startSeconds !== undefined && p.startSeconds !== pair.last.startSeconds);
  return restarted ? { last: p } : { prev: pair.last, last: p };
}

export function usageOf(pair: Pair | undefined): Usage | undefined {
  if (!pair?.prev) return undefined;
  const windowMs = pair.last.atMs - pair.prev.atMs;
  if (windowMs <= 0) return undefined;
  const cpu = ((pair.last.cpuSeconds - pair.prev.cpuSeconds) / (windowMs / 1000)) * 1e9;
  return { cpu: Math.round(cpu), memoryBytes: pair.last.memoryBytes, timestampMs: pair.last.atMs, windowMs };
}

export interface PodUsage {
  timestampMs: number;
  windowMs: number;
  containers: { name: string; usage: Usage }[];
}

export class MetricsStore {
  private nodes = new Map<string, Pair>();
  /** node -> container key -> pair */
  private containers = new Map<string, Map<string, Pair>>();

  /** Takes one node's scrape. */
  update(nodeName: string, batch: ScrapeBatch): void {
    if (batch.node) this.nodes.set(nodeName, advance(this.nodes.get(nodeName), batch.node));
    const old = this.containers.get(nodeName) ?? new Map<string, Pair>();
    const next = new Map<string, Pair>();
    for (const [k, p] of batch.containers) next.set(k, advance(old.get(k), p));
    this.containers.set(nodeName, next);
  }

  /** Forgets nodes not in `names` (deleted or no longer Ready). */
  retain(names: Set<string>): void {
    for (const n of [...this.nodes.keys()]) if (!names.has(n)) this.nodes.delete(n);
    for (const n of [...this.containers.keys()]) if (!names.has(n)) this.containers.delete(n);
  }

  node(name: string): Usage | undefined {
    return usageOf(this.nodes.get(name));
  }

  /** A pod's usage: every container of it with two points; undefined when none has. */
  pod(namespace: string, name: string): PodUsage | undefined {
    const prefix = containerKey(namespace, name, '');
    const containers: { name: string; usage: Usage }[] = [];
    for (const byKey of this.containers.values()) {
      for (const [k, pair] of byKey) {
        if (!k.startsWith(prefix)) continue;
        const usage = usageOf(pair);
        if (usage) containers.push({ name: k.slice(prefix.length), usage });
      }
    }
    if (!containers.length) return undefined;
    containers.sort((a, b) => (a.name < b.name ? -1 : 1));
    return {
      timestampMs: Math.max(...containers.map((c) => c.usage.timestampMs)),
      windowMs: Math.max(...containers.map((c) => c.usage.windowMs)),
      containers,
    };
  }
}
