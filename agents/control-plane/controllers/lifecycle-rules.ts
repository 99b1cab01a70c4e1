// Node lifecycle decisions (pure): when a node has gone silent, which taints its Ready condition
// calls for, and when a pod on a NoExecute-tainted node must be evicted.
import type { Obj } from '../apiserver/strategies/types.ts';
import { tolerates } from '../scheduler/filters.ts';

type Any = Record<string, any>;

export const UNREACHABLE = 'node.kubernetes.io/unreachable';
export const NOT_READY = 'node.kubernetes.io/not-ready';
const MANAGED = new Set([UNREACHABLE, NOT_READY]);
export const NODE_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

export function readyStatus(node: Obj): 'True' | 'False' | 'Unknown' {
  const c = (node.status?.conditions ?? []).find((x: Any) => x.type === 'Ready');
  return c?.status === 'True' ? 'True' : c?.status === 'False' ? 'False' : 'Unknown';
}

const ms = (t: string | undefined) => (t ? new Date(t).getTime() || 0 : 0);

/** The last sign of life: the node's Lease renewal or the Ready condition's heartbeat. */
export function lastHeartbeat(node: Obj, lease: Obj | undefined): number {
  const ready = (node.status?.conditions ?? []).find((x: Any) => x.type === 'Ready');
  return Math.max(ms(lease?.spec?.renewTime), ms(ready?.lastHeartbeatTime), ms(node.metadata.creationTimestamp));
}

/** Conditions after the kubelet stopped posting status: all Unknown, as upstream reports them. */
export function unknownConditions(node: Obj, nowIso: string): Any[] {
  const have: Any[] = node.status?.conditions ?? [];
  return NODE_CONDITIONS.map((type) => {
    const c = have.find((x) => x.type === type);
    return {
      type,
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
      lastHeartbeatTime: c?.lastHeartbeatTime ?? nowIso,
      lastTransitionTime: c?.status === 'Unknown' ? c.lastTransitionTime : nowIso,
    };
  });
}

/**
 * The node's taints with the not-ready/unreachable ones matching its Ready condition; other taints
 * are kept as they are, and a managed taint that stays keeps its timeAdded.
 */
export function desiredTaints(node: Obj, nowIso: string): Any[] {
  const current: Any[] = node.spec?.taints ?? [];
  const others = current.filter((t) => !MANAGED.has(t.key));
  const status = readyStatus(node);
  const key = status === 'Unknown' ? UNREACHABLE : status === 'False' ? NOT_READY : undefined;
  if (!key) return others;
  const managed = ['NoSchedule', 'NoExecute'].map((effect) => {
    const existing = current.find((t) => t.key === key && t.effect === effect);
    return existing ?? { key, effect, ...(effect === 'NoExecute' ? { timeAdded: nowIso } : {}) };
  });
  return [...others, ...managed];
}

export function sameTaints(a: Any[] = [], b: Any[] = []): boolean {
  const k = (t: Any) => `${t.key}=${t.value ?? ''}:${t.effect}`;
  return a.length === b.length && a.map(k).sort().join() === b.map(k).sort().join();
}

/**
 * When (epoch ms) a pod on this node must be evicted because of the node's NoExecute taints:
 * now for an untolerated taint, after tolerationSeconds for a bounded toleration, never otherwise.
 */
export function evictionTime(pod: Obj, node: Obj, now: number): number | undefined {
  const tols: Any[] = pod.spec?.tolerations ?? [];
  let at: number | undefined;
  for (const taint of (node.spec?.taints ?? []).filter((t: Any) => t.effect === 'NoExecute')) {
    const matching = tols.filter((tol) => tolerates(tol, taint));
    if (!matching.length) return now;
    if (matching.some((tol) => tol.tolerationSeconds === undefined)) continue;
    const secs = Math.min(...matching.map((tol) => Math.max(0, tol.tolerationSeconds)));
    const t = (ms(taint.timeAdded) || now) + secs * 1000;
    at = at === undefined ? t : Math.min(at, t);
  }
  return at;
}
