// Scheduling decisions as pure functions: which nodes a pod fits (with the reason a node does
// not, in upstream's words), how fitting nodes score, and the "0/N nodes are available" message.
// A decision is one pass over the nodes: node facts (readiness, allocatable, hard taints) are
// parsed once per node version (nodeInfo) and usage comes from the scheduler cache, so nothing
// here scans pods or re-parses quantities per node.
import { parseQuantity } from '../../api/pod-defaults.ts';
import type { Obj } from '../apiserver/strategies/types.ts';
import { fromLabelSelector, matchLabels, matchRequirement, type Requirement } from '../apiserver/selectors.ts';

type Any = Record<string, any>;

/** What a node's pods request: integers (milli-CPU, bytes) so that add/remove never drifts. */
export interface NodeUsage {
  pods: number;
  milliCPU: number;
  memory: number;
}

export const emptyUsage = (): NodeUsage => ({ pods: 0, milliCPU: 0, memory: 0 });

export interface Requests {
  milliCPU: number;
  memory: number;
}

/** A node as the filters need it, parsed once per node version. */
export interface NodeInfo {
  name: string;
  node: Obj;
  ready: boolean;
  labels: Record<string, string>;
  /** NoSchedule and NoExecute taints only: the ones that filter */
  hardTaints: Any[];
  /** undefined: not reported, so not limiting */
  alloc: { pods?: number; milliCPU?: number; memory?: number };
}

const milli = (q: unknown): number | undefined => {
  const v = parseQuantity(q);
  return v === undefined ? undefined : Math.ceil(v * 1000 - 1e-6);
};
const bytes = (q: unknown): number | undefined => {
  const v = parseQuantity(q);
  return v === undefined ? undefined : Math.ceil(v - 1e-6);
};

export function nodeReady(node: Obj): boolean {
  return (node.status?.conditions ?? []).some((c: Any) => c.type === 'Ready' && c.status === 'True');
}

export function nodeInfo(node: Obj): NodeInfo {
  const alloc = node.status?.allocatable ?? {};
  return {
    name: node.metadata.name!,
    node,
    ready: nodeReady(node),
    labels: node.metadata.labels ?? {},
    hardTaints: (node.spec?.taints ?? []).filter((t: Any) => t.effect === 'NoSchedule' || t.effect === 'NoExecute'),
    alloc: { pods: parseQuantity(alloc.pods), milliCPU: milli(alloc.cpu), memory: bytes(alloc.memory) },
  };
}

export function tolerates(tol: Any, taint: Any): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.operator === 'Exists') return !tol.key || tol.key === taint.key;
  return tol.key === taint.key && (tol.value ?? '') === (taint.value ?? '');
}

function firstUntolerated(tols: Any[], taints: Any[]): Any | undefined {
  return taints.find((t: Any) => !tols.some((tol) => tolerates(tol, t)));
}

/** The first NoSchedule/NoExecute taint the pod does not tolerate. */
export function untoleratedTaint(pod: Obj, node: Obj): Any | undefined {
  const hard = (node.spec?.taints ?? []).filter((t: Any) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
  return firstUntolerated(pod.spec?.tolerations ?? [], hard);
}

function termMatches(term: Any, labels: Record<string, string>, name: string): boolean {
  const exprs: Any[] = term.matchExpressions ?? [];
  const fields: Any[] = term.matchFields ?? [];
  if (!exprs.length && !fields.length) return false;
  const ok = (e: Any, value: Record<string, string>) => {
    const op = e.operator as string;
    if (op === 'Gt' || op === 'Lt') {
      const r: Requirement = { key: e.key, op: op === 'Gt' ? 'gt' : 'lt', values: e.values ?? [] };
      return matchRequirement(r, value);
    }
    return matchLabels(fromLabelSelector({ matchExpressions: [e as { key: string; operator: string; values?: string[] }] }), value);
  };
  return exprs.every((e) => ok(e, labels)) && fields.every((e) => ok(e, { 'metadata.name': name }));
}

/** A required NodeSelector (a pod's node affinity, a PV's nodeAffinity): any term matching is enough. */
export function nodeSelectorMatches(terms: Any[], labels: Record<string, string>, name: string): boolean {
  return terms.some((t) => termMatches(t, labels, name));
}

function selectorMatches(pod: Obj, labels: Record<string, string>, name: string): boolean {
  const sel = pod.spec?.nodeSelector as Record<string, string> | undefined;
  if (sel) for (const k in sel) if (labels[k] !== sel[k]) return false;
  const terms: Any[] | undefined = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  return !terms || nodeSelectorMatches(terms, labels, name);
}

export function matchesNodeSelector(pod: Obj, node: Obj): boolean {
  return selectorMatches(pod, node.metadata.labels ?? {}, node.metadata.name!);
}

/** Sum of container requests (the larger of the init containers' max and the regular sum). */
export function podRequests(pod: Obj): Requests {
  let cpu = 0;
  let memory = 0;
  for (const c of (pod.spec?.containers ?? []) as Any[]) {
    cpu += milli(c.resources?.requests?.cpu) ?? 0;
    memory += bytes(c.resources?.requests?.memory) ?? 0;
  }
  for (const c of (pod.spec?.initContainers ?? []) as Any[]) {
    cpu = Math.max(cpu, milli(c.resources?.requests?.cpu) ?? 0);
    memory = Math.max(memory, bytes(c.resources?.requests?.memory) ?? 0);
  }
  return { milliCPU: cpu, memory };
}

const UNSCHEDULABLE_TAINT = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

/** Why the pod cannot go to this node, in upstream's plural phrasing; undefined when it fits. */
export function unfitReason(pod: Obj, n: NodeInfo, usage: NodeUsage, req: Requests = podRequests(pod)): string | undefined {
  if (!n.ready) return 'node(s) were not ready';
  const tols: Any[] = pod.spec?.tolerations ?? [];
  if (n.node.spec?.unschedulable && !tols.some((t) => tolerates(t, UNSCHEDULABLE_TAINT))) return 'node(s) were unschedulable';
  if (!selectorMatches(pod, n.labels, n.name)) return "node(s) didn't match Pod's node affinity/selector";
  const taint = n.hardTaints.length ? firstUntolerated(tols, n.hardTaints) : undefined;
  if (taint) return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
  const a = n.alloc;
  if (a.pods !== undefined && usage.pods + 1 > a.pods) return 'Too many pods';
  if (a.milliCPU !== undefined && req.milliCPU > 0 && usage.milliCPU + req.milliCPU > a.milliCPU) return 'Insufficient cpu';
  if (a.memory !== undefined && req.memory > 0 && usage.memory + req.memory > a.memory) return 'Insufficient memory';
  return undefined;
}

/** "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were not ready." */
export function unschedulableMessage(total: number, reasons: string[]): string {
  if (total === 0) return 'no nodes available to schedule pods';
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort();
  return `0/${total} nodes are available: ${parts.join(', ')}.`;
}

export interface Decision {
  node?: string;
  message?: string;
}

/** Lower is better: fewest pods, then least CPU requested, then name for determinism. */
function better(a: NodeUsage, an: string, b: NodeUsage, bn: string): boolean {
  return a.pods !== b.pods ? a.pods < b.pods : a.milliCPU !== b.milliCPU ? a.milliCPU < b.milliCPU : an < bn;
}

/** Filter and score in one pass over the nodes. */
export function schedule(pod: Obj, nodes: Iterable<NodeInfo>, usage: (node: string) => NodeUsage, extra?: (n: NodeInfo) => string | undefined): Decision {
  const req = podRequests(pod);
  let reasons: string[] | undefined;
  let total = 0;
  let best: NodeInfo | undefined;
  let bestUsage: NodeUsage | undefined;
  for (const n of nodes) {
    total++;
    const u = usage(n.name);
    const why = unfitReason(pod, n, u, req) ?? extra?.(n);
    if (why) (reasons ??= []).push(why);
    else if (!best || better(u, n.name, bestUsage!, best.name)) {
      best = n;
      bestUsage = u;
    }
  }
  if (!best) return { message: unschedulableMessage(total, reasons ?? []) };
  return { node: best.name };
}
