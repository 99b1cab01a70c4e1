// Scheduling decisions as pure functions: which nodes a pod fits (with the reason a node does
// not, in upstream's words), how fitting nodes score, and the "0/N nodes are available" message.
import { parseQuantity } from '../apiserver/strategies/pod-defaults.ts';
import type { Obj } from '../apiserver/strategies/types.ts';
import { fromLabelSelector, matchLabels, matchRequirement, type Requirement } from '../apiserver/selectors.ts';

type Any = Record<string, any>;

export interface NodeUsage {
  pods: number;
  cpu: number;
  memory: number;
}

export const emptyUsage = (): NodeUsage => ({ pods: 0, cpu: 0, memory: 0 });

export function nodeReady(node: Obj): boolean {
  return (node.status?.conditions ?? []).some((c: Any) => c.type === 'Ready' && c.status === 'True');
}

export function tolerates(tol: Any, taint: Any): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.operator === 'Exists') return !tol.key || tol.key === taint.key;
  return tol.key === taint.key && (tol.value ?? '') === (taint.value ?? '');
}

/** The first NoSchedule/NoExecute taint the pod does not tolerate. */
export function untoleratedTaint(pod: Obj, node: Obj): Any | undefined {
  const tols: Any[] = pod.spec?.tolerations ?? [];
  return (node.spec?.taints ?? []).find(
    (t: Any) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tols.some((tol) => tolerates(tol, t)),
  );
}

function termMatches(term: Any, node: Obj): boolean {
  const exprs: Any[] = term.matchExpressions ?? [];
  const fields: Any[] = term.matchFields ?? [];
  if (!exprs.length && !fields.length) return false;
  const labels = node.metadata.labels ?? {};
  const ok = (e: Any, value: Record<string, string>) => {
    const op = e.operator as string;
    if (op === 'Gt' || op === 'Lt') {
      const r: Requirement = { key: e.key, op: op === 'Gt' ? 'gt' : 'lt', values: e.values ?? [] };
      return matchRequirement(r, value);
    }
    return matchLabels(fromLabelSelector({ matchExpressions: [e as { key: string; operator: string; values?: string[] }] }), value);
  };
  return exprs.every((e) => ok(e, labels)) && fields.every((e) => ok(e, { 'metadata.name': node.metadata.name! }));
}

export function matchesNodeSelector(pod: Obj, node: Obj): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries((pod.spec?.nodeSelector ?? {}) as Record<string, string>)) if (labels[k] !== v) return false;
  const terms: Any[] | undefined = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && !terms.some((t) => termMatches(t, node))) return false;
  return true;
}

/** Sum of container requests (the larger of the init containers' max and the regular sum). */
export function podRequests(pod: Obj): { cpu: number; memory: number } {
  const sum = (cs: Any[] = []) =>
    cs.reduce(
      (acc, c) => ({
        cpu: acc.cpu + (parseQuantity(c.resources?.requests?.cpu) ?? 0),
        memory: acc.memory + (parseQuantity(c.resources?.requests?.memory) ?? 0),
      }),
      { cpu: 0, memory: 0 },
    );
  const regular = sum(pod.spec?.containers);
  const initMax = (pod.spec?.initContainers ?? []).reduce(
    (acc: { cpu: number; memory: number }, c: Any) => ({
      cpu: Math.max(acc.cpu, parseQuantity(c.resources?.requests?.cpu) ?? 0),
      memory: Math.max(acc.memory, parseQuantity(c.resources?.requests?.memory) ?? 0),
    }),
    { cpu: 0, memory: 0 },
  );
  return { cpu: Math.max(regular.cpu, initMax.cpu), memory: Math.max(regular.memory, initMax.memory) };
}

/** Why the pod cannot go to this node, in upstream's plural phrasing; undefined when it fits. */
export function unfitReason(pod: Obj, node: Obj, usage: NodeUsage): string | undefined {
  if (!nodeReady(node)) return 'node(s) were not ready';
  if (node.spec?.unschedulable) {
    const tolerated = (pod.spec?.tolerations ?? []).some((t: Any) =>
      tolerates(t, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }),
    );
    if (!tolerated) return 'node(s) were unschedulable';
  }
  if (!matchesNodeSelector(pod, node)) return "node(s) didn't match Pod's node affinity/selector";
  const taint = untoleratedTaint(pod, node);
  if (taint) return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
  const alloc = node.status?.allocatable ?? {};
  const maxPods = parseQuantity(alloc.pods);
  if (maxPods !== undefined && usage.pods + 1 > maxPods) return 'Too many pods';
  const req = podRequests(pod);
  const cpu = parseQuantity(alloc.cpu);
  if (cpu !== undefined && req.cpu > 0 && usage.cpu + req.cpu > cpu + 1e-9) return 'Insufficient cpu';
  const mem = parseQuantity(alloc.memory);
  if (mem !== undefined && req.memory > 0 && usage.memory + req.memory > mem) return 'Insufficient memory';
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

/** Filter, then score by fewest pods (then least cpu requested, then name for determinism). */
export function schedule(pod: Obj, nodes: Obj[], usage: (node: string) => NodeUsage): Decision {
  const reasons: string[] = [];
  const fits: Obj[] = [];
  for (const n of nodes) {
    const why = unfitReason(pod, n, usage(n.metadata.name!));
    if (why) reasons.push(why);
    else fits.push(n);
  }
  if (!fits.length) return { message: unschedulableMessage(nodes.length, reasons) };
  fits.sort((a, b) => {
    const ua = usage(a.metadata.name!);
    const ub = usage(b.metadata.name!);
    return ua.pods - ub.pods || ua.cpu - ub.cpu || a.metadata.name!.localeCompare(b.metadata.name!);
  });
  return { node: fits[0].metadata.name };
}
