// DaemonSet decisions (pure): which nodes should run the daemon pod (node selector, required
// node affinity, taints against the template's tolerations plus the ones upstream adds), what to
// create and delete per node, which outdated pods a RollingUpdate may replace now, and status.
import type { Obj } from '../../apiserver/strategies/types.ts';
import { matchesNodeSelector, tolerates } from '../../scheduler/filters.ts';
import { type Any, byCreation, isAvailable, isReady, isTerminal, scaledValue } from './meta.ts';

export const REVISION_LABEL = 'controller-revision-hash';
export const GENERATION_LABEL = 'pod-template-generation';

/** Tolerations every daemon pod gets (upstream AddOrUpdateDaemonPodTolerations). */
export function daemonTolerations(spec: Any): Any[] {
  const add: Any[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (spec?.hostNetwork) add.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  const have: Any[] = [...(spec?.tolerations ?? [])];
  for (const t of add) if (!have.some((h) => h.key === t.key && h.effect === t.effect && h.operator === t.operator)) have.push(t);
  return have;
}

/** Pins a pod spec to one node through required node affinity on metadata.name, as upstream does. */
export function pinToNode(spec: Any, node: string): void {
  const req = { key: 'metadata.name', operator: 'In', values: [node] };
  spec.affinity ??= {};
  spec.affinity.nodeAffinity ??= {};
  const na = spec.affinity.nodeAffinity;
  const terms: Any[] = na.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  na.requiredDuringSchedulingIgnoredDuringExecution = {
    nodeSelectorTerms: terms.length ? terms.map((t) => ({ ...t, matchFields: [req] })) : [{ matchFields: [req] }],
  };
  spec.tolerations = daemonTolerations(spec);
}

/** The node a daemon pod belongs to: where it is bound, or where its affinity pins it. */
export function targetNode(pod: Obj): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const t of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    const f = (t.matchFields ?? []).find((x: Any) => x.key === 'metadata.name' && x.operator === 'In' && x.values?.length === 1);
    if (f) return f.values[0];
  }
  return undefined;
}

/**
 * Should a daemon pod run on this node (new pods) and may an existing one stay? Untolerated
 * NoSchedule taints stop new pods only; untolerated NoExecute taints and selector mismatches both.
 */
export function nodeShouldRun(ds: Obj, node: Obj): { run: boolean; stay: boolean } {
  const spec = structuredClone(ds.spec?.template?.spec ?? {});
  spec.tolerations = daemonTolerations(spec);
  const pod = { metadata: {}, spec } as Obj;
  if (!matchesNodeSelector(pod, node)) return { run: false, stay: false };
  let run = true;
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (spec.tolerations.some((t: Any) => tolerates(t, taint))) continue;
    if (taint.effect === 'NoExecute') return { run: false, stay: false };
    run = false;
  }
  return { run, stay: true };
}

export interface NodePlan {
  create: string[];
  delete: Obj[];
}

/** Per-node creations and deletions (upstream podsShouldBeOnNode); pods are the set's unfinished or failed ones. */
export function planNodes(ds: Obj, nodes: Obj[], pods: Obj[]): NodePlan {
  const byNode = groupByNode(pods);
  const plan: NodePlan = { create: [], delete: [] };
  for (const node of nodes) {
    const name = node.metadata.name!;
    const { run, stay } = nodeShouldRun(ds, node);
    const here = (byNode.get(name) ?? []).filter((p) => !p.metadata.deletionTimestamp);
    if (!stay) {
      plan.delete.push(...here);
      continue;
    }
    // a finished daemon pod is replaced, one sync later, so a kubelet rejecting it cannot hot-loop us
    const failed = here.filter(isTerminal);
    plan.delete.push(...failed);
    const alive = here.filter((p) => !isTerminal(p)).sort(byCreation);
    if (!alive.length) {
      if (run && !failed.length) plan.create.push(name);
    } else if (alive.length > 1) plan.delete.push(...alive.slice(1));
  }
  return plan;
}

export function groupByNode(pods: Obj[]): Map<string, Obj[]> {
  const m = new Map<string, Obj[]>();
  for (const p of pods) {
    const n = targetNode(p);
    if (!n) continue;
    const list = m.get(n) ?? [];
    list.push(p);
    m.set(n, list);
  }
  return m;
}

const isUpdated = (p: Obj, hash: string) => p.metadata.labels?.[REVISION_LABEL] === hash;

/** Outdated pods a RollingUpdate deletes now: unavailable ones, and available ones within maxUnavailable. */
export function rollingDeletes(ds: Obj, nodes: Obj[], pods: Obj[], hash: string, now: number): Obj[] {
  if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return [];
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const eligible = nodes.filter((n) => nodeShouldRun(ds, n).run);
  let max = scaledValue(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable, eligible.length, true, 1);
  if (max < 1) max = 1;
  const byNode = groupByNode(pods.filter((p) => !isTerminal(p)));
  let unavailable = 0;
  const broken: Obj[] = [];
  const candidates: Obj[] = [];
  for (const node of eligible) {
    const here = byNode.get(node.metadata.name!) ?? [];
    const live = here.filter((p) => !p.metadata.deletionTimestamp);
    if (live.length !== 1) {
      unavailable++;
      continue;
    }
    const p = live[0];
    if (isUpdated(p, hash)) {
      if (!isAvailable(p, minReady, now)) unavailable++;
    } else if (!isAvailable(p, minReady, now)) broken.push(p);
    else candidates.push(p);
  }
  const room = Math.max(0, Math.min(max - unavailable, candidates.length));
  return [...broken, ...candidates.sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '')).slice(0, room)];
}

export function daemonSetStatus(ds: Obj, nodes: Obj[], pods: Obj[], hash: string, now: number): Any {
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const byNode = groupByNode(pods.filter((p) => !isTerminal(p) && !p.metadata.deletionTimestamp));
  let desired = 0,
    current = 0,
    mis = 0,
    ready = 0,
    available = 0,
    updated = 0;
  for (const node of nodes) {
    const here = (byNode.get(node.metadata.name!) ?? []).sort(byCreation);
    if (nodeShouldRun(ds, node).run) {
      desired++;
      if (!here.length) continue;
      current++;
      const p = here[0];
      if (isReady(p)) ready++;
      if (isAvailable(p, minReady, now)) available++;
      if (isUpdated(p, hash)) updated++;
    } else if (here.length) mis++;
  }
  return {
    currentNumberScheduled: current,
    numberMisscheduled: mis,
    desiredNumberScheduled: desired,
    numberReady: ready,
    observedGeneration: ds.metadata.generation ?? 1,
    updatedNumberScheduled: updated,
    numberAvailable: available,
    numberUnavailable: Math.max(0, desired - available),
    ...(ds.status?.collisionCount !== undefined ? { collisionCount: ds.status.collisionCount } : {}),
    // the controller sets no condition itself; those a client wrote through /status stay, as upstream's
    ...(ds.status?.conditions !== undefined ? { conditions: ds.status.conditions } : {}),
  };
}
