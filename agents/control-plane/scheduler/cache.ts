// The scheduler's cache of nodes and of what is placed on them (pure logic, no I/O), kept the way
// upstream's scheduler cache is: usage per node changes incrementally as the pod informer reports
// pods and as the scheduler assumes its own decisions. A decision is "assumed" (counted on its
// node) before its binding is sent, so the next decision already sees it; the informer's event for
// the bound pod confirms it; a failed binding forgets it; an assumption whose binding succeeded but
// never shows up on the watch expires after a TTL, so capacity cannot leak.
import type { Obj } from '../apiserver/strategies/types.ts';
import { keyOf } from '../client/informer.ts';
import { emptyUsage, type NodeInfo, nodeInfo, type NodeUsage, podRequests, type Requests } from './filters.ts';

/** upstream's default for assumed pods whose binding finished */
export const ASSUME_TTL_MS = 30_000;

interface Placed {
  node: string;
  uid?: string;
  req: Requests;
  assumed: boolean;
  /** set when the binding call returned; only then can an assumption expire */
  deadline?: number;
}

/** Pods that hold resources on their node: bound, and not finished. */
function placedNode(pod: Obj): string | undefined {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return undefined;
  return pod.spec?.nodeName || undefined;
}

export class SchedulerCache {
  private readonly infos = new Map<string, NodeInfo>();
  private list: NodeInfo[] | undefined;
  /** by node name; outlives the Node object so that a re-added node keeps its pods' usage */
  private readonly usages = new Map<string, NodeUsage>();
  private readonly pods = new Map<string, Placed>();
  /** keys of assumed pods, so that expiry never walks every pod */
  private readonly assumed = new Set<string>();

  constructor(private readonly ttlMs = ASSUME_TTL_MS) {}

  // ---- nodes

  setNode(node: Obj): void {
    this.infos.set(node.metadata.name!, nodeInfo(node));
    this.list = undefined;
  }

  removeNode(name: string): void {
    if (this.infos.delete(name)) this.list = undefined;
  }

  /** Every known node, parsed; the same array until a node changes. */
  nodes(): NodeInfo[] {
    return (this.list ??= [...this.infos.values()]);
  }

  usage(node: string): NodeUsage {
    return this.usages.get(node) ?? EMPTY;
  }

  // ---- pods from the informer

  /** An added or updated pod as the informer shows it now. */
  observePod(pod: Obj): void {
    const key = keyOf(pod);
    const cur = this.pods.get(key);
    const node = placedNode(pod);
    // an assumed pod the watch does not show bound yet (a status write raced the binding) stays assumed
    if (cur?.assumed && !pod.spec?.nodeName && cur.uid === pod.metadata.uid) return;
    if (cur) this.take(key, cur);
    if (node) this.put(key, { node, uid: pod.metadata.uid, req: podRequests(pod), assumed: false });
  }

  deletePod(pod: Obj): void {
    const key = keyOf(pod);
    const cur = this.pods.get(key);
    if (cur) this.take(key, cur);
  }

  // ---- the scheduler's own decisions

  /** Counts the pod on the node before its binding is sent. */
  assume(pod: Obj, node: string): void {
    const key = keyOf(pod);
    const cur = this.pods.get(key);
    if (cur) this.take(key, cur);
    this.put(key, { node, uid: pod.metadata.uid, req: podRequests(pod), assumed: true });
  }

  /** The binding call returned: the assumption may now expire if the watch never confirms it. */
  finishBinding(key: string, now: number): void {
    const cur = this.pods.get(key);
    if (cur?.assumed) cur.deadline = now + this.ttlMs;
  }

  /** The binding failed: release what the assumption held. */
  forget(key: string): void {
    const cur = this.pods.get(key);
    if (cur?.assumed) this.take(key, cur);
  }

  isAssumed(key: string): boolean {
    return this.pods.get(key)?.assumed === true;
  }

  /** Drops assumptions whose binding finished more than the TTL ago; returns their keys. */
  expire(now: number): string[] {
    const out: string[] = [];
    for (const key of this.assumed) {
      const p = this.pods.get(key)!;
      if (p.deadline !== undefined && p.deadline <= now) {
        this.take(key, p);
        out.push(key);
      }
    }
    return out;
  }

  private put(key: string, p: Placed): void {
    this.pods.set(key, p);
    if (p.assumed) this.assumed.add(key);
    let u = this.usages.get(p.node);
    if (!u) this.usages.set(p.node, (u = emptyUsage()));
    u.pods += 1;
    u.milliCPU += p.req.milliCPU;
    u.memory += p.req.memory;
  }

  private take(key: string, p: Placed): void {
    this.pods.delete(key);
    this.assumed.delete(key);
    const u = this.usages.get(p.node);
    if (!u) return;
    u.pods -= 1;
    u.milliCPU -= p.req.milliCPU;
    u.memory -= p.req.memory;
    if (u.pods === 0) this.usages.delete(p.node);
  }
}

const EMPTY: Readonly<NodeUsage> = Object.freeze(emptyUsage());
