// The HorizontalPodAutoscaler's decisions, as upstream's replica_calculator.go and horizontal.go
// make them: which pods count (ready, unready, missing metrics, ignored), the replica count a
// resource metric asks for (utilization of requests or average value, tolerance 0.1, missing and
// unready pods assumed at the least convenient value), the stabilization window over recent
// recommendations, the scaling policies' rate limits, and status conditions. Pure: time is passed in.
import { milliCPU, parseQuantity } from '../../../api/quantity.ts';

type Rec = Record<string, any>;

/** --horizontal-pod-autoscaler-tolerance */
export const TOLERANCE = 0.1;
/** --horizontal-pod-autoscaler-cpu-initialization-period */
export const CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
/** --horizontal-pod-autoscaler-initial-readiness-delay */
export const INITIAL_READINESS_DELAY_MS = 30_000;

/** One pod's usage of a resource in milli-units, summed over its containers. */
export interface PodMetric {
  valueMilli: number;
  timestampMs: number;
  windowMs: number;
}
export type PodMetrics = Map<string, PodMetric>;

export class ReplicaCalcError extends Error {}

/** A resource quantity in milli-units (CPU cores or bytes), rounded up as MilliValue does. */
export function milliValue(q: unknown): number | undefined {
  const v = parseQuantity(q);
  if (v === undefined) return undefined;
  const m = v * 1000;
  return Math.abs(m - Math.round(m)) < 1e-6 ? Math.round(m) : Math.ceil(m);
}

/** PodMetrics items (metrics.k8s.io) -> name -> summed usage; a pod missing the resource in any container is left out. */
export function podMetricsOf(items: Rec[], resource: string): PodMetrics {
  const out: PodMetrics = new Map();
  for (const m of items) {
    let sum = 0;
    let missing = false;
    for (const c of m.containers ?? []) {
      const v = resource === 'cpu' ? milliCPU(c.usage?.[resource]) : milliValue(c.usage?.[resource]);
      if (v === undefined) {
        missing = true;
        break;
      }
      sum += v;
    }
    if (missing) continue;
    const windowMs = (parseFloat(String(m.window ?? '0')) || 0) * 1000;
    out.set(m.metadata?.name, { valueMilli: sum, timestampMs: Date.parse(m.timestamp ?? '') || 0, windowMs });
  }
  return out;
}

export interface PodGroups {
  readyCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

const readyCondition = (pod: Rec): Rec | undefined => (pod.status?.conditions ?? []).find((c: Rec) => c.type === 'Ready');

/** groupPods: deleted and failed pods are ignored, pending ones unready; for CPU, pods still starting up count as unready. */
export function groupPods(pods: Rec[], metrics: PodMetrics, resource: string, nowMs: number): PodGroups {
  const g: PodGroups = { readyCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of pods) {
    const name: string = pod.metadata.name;
    if (pod.metadata.deletionTimestamp || pod.status?.phase === 'Failed') {
      g.ignored.add(name);
      continue;
    }
    if (pod.status?.phase === 'Pending') {
      g.unready.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (!metric) {
      g.missing.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const cond = readyCondition(pod);
      const start = pod.status?.startTime ? Date.parse(pod.status.startTime) : undefined;
      let unready: boolean;
      if (!cond || start === undefined) unready = true;
      else {
        const transition = Date.parse(cond.lastTransitionTime ?? '') || 0;
        if (start + CPU_INITIALIZATION_PERIOD_MS > nowMs)
          // within the initialization period: unready, or no full metric window since it turned ready
          unready = cond.status === 'False' || metric.timestampMs < transition + metric.windowMs;
        // afterwards only a pod not once ready is left out
        else unready = cond.status === 'False' && start + INITIAL_READINESS_DELAY_MS > transition;
      }
      if (unready) {
        g.unready.add(name);
        continue;
      }
    }
    g.readyCount++;
  }
  return g;
}

/** calculatePodRequests: each pod's request of the resource in milli-units; a container without one is an error. */
export function podRequests(pods: Rec[], resource: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    for (const c of pod.spec?.containers ?? []) {
      const v = resource === 'cpu' ? milliCPU(c.resources?.requests?.[resource]) : milliValue(c.resources?.requests?.[resource]);
      if (v === undefined) throw new ReplicaCalcError(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata.name}`);
      sum += v;
    }
    out.set(pod.metadata.name, sum);
  }
  return out;
}

/** GetResourceUtilizationRatio: usage over requests of the pods with metrics, against the target percentage. */
export function utilizationRatio(
  metrics: PodMetrics,
  requests: Map<string, number>,
  target: number,
): { ratio: number; utilization: number; rawAverage: number } {
  let usage = 0;
  let requested = 0;
  let n = 0;
  for (const [name, m] of metrics) {
    const r = requests.get(name);
    if (r === undefined) continue;
    usage += m.valueMilli;
    requested += r;
    n++;
  }
  if (requested === 0) throw new ReplicaCalcError('no metrics returned matched known pods');
  const utilization = Math.trunc((usage * 100) / requested);
  return { ratio: utilization / target, utilization, rawAverage: Math.trunc(usage / n) };
}

function averageRatio(metrics: PodMetrics, targetMilli: number): { ratio: number; average: number } {
  let usage = 0;
  for (const m of metrics.values()) usage += m.valueMilli;
  const average = Math.trunc(usage / metrics.size);
  return { ratio: average / targetMilli, average };
}

export interface ResourceInput {
  currentReplicas: number;
  pods: Rec[];
  metrics: PodMetrics;
  resource: string;
  nowMs: number;
  tolerance?: number;
}

export interface ResourceProposal {
  replicas: number;
  utilization?: number;
  rawAverageMilli: number;
}

/**
 * The shared tail of GetResourceReplicas and calcPlainMetricReplicas: without unready pods on a
 * scale-up and without missing pods, the ready pods' ratio decides; otherwise missing pods are
 * assumed at `missingAt(ratio)` and unready ones at 0, and the result is kept only when it still
 * moves the same way and out of the tolerance.
 */
function proposal(input: ResourceInput, ratioOf: (m: PodMetrics) => number, missingAt: (pod: string, ratio: number) => number): number {
  if (!input.pods.length) throw new ReplicaCalcError('no pods returned by selector while calculating replica count');
  const tol = input.tolerance ?? TOLERANCE;
  const metrics: PodMetrics = new Map(input.metrics);
  const g = groupPods(input.pods, metrics, input.resource, input.nowMs);
  for (const n of [...g.ignored, ...g.unready]) metrics.delete(n);
  if (!metrics.size) throw new ReplicaCalcError('did not receive metrics for targeted pods (pods might be unready)');
  const ratio = ratioOf(metrics);
  const scaleUpWithUnready = g.unready.size > 0 && ratio > 1;
  if (!scaleUpWithUnready && !g.missing.size) {
    if (Math.abs(1 - ratio) <= tol) return input.currentReplicas;
    return Math.ceil(ratio * g.readyCount);
  }
  const fill = (name: string, valueMilli: number) => metrics.set(name, { valueMilli, timestampMs: 0, windowMs: 0 });
  if (ratio < 1) for (const n of g.missing) fill(n, missingAt(n, ratio));
  else if (ratio > 1) for (const n of g.missing) fill(n, 0);
  if (scaleUpWithUnready) for (const n of g.unready) fill(n, 0);
  const next = ratioOf(metrics);
  if (Math.abs(1 - next) <= tol || (ratio < 1 && next > 1) || (ratio > 1 && next < 1)) return input.currentReplicas;
  const replicas = Math.ceil(next * metrics.size);
  if ((next < 1 && replicas > input.currentReplicas) || (next > 1 && replicas < input.currentReplicas)) return input.currentReplicas;
  return replicas;
}

/** GetResourceReplicas: a target utilization (percent of the pods' requests). */
export function resourceUtilizationReplicas(input: ResourceInput, targetUtilization: number): ResourceProposal {
  let requests: Map<string, number> | undefined;
  let first: { utilization: number; rawAverage: number } | undefined;
  const replicas = proposal(
    input,
    (m) => {
      // after the pods are grouped, as upstream asks for the requests only once metrics remain
      requests ??= podRequests(input.pods, input.resource);
      const r = utilizationRatio(m, requests, targetUtilization);
      first ??= r;
      return r.ratio;
    },
    // on a scale-down a pod without metrics is assumed to use its whole request (or the target, if higher)
    (pod) => Math.trunc(((requests?.get(pod) ?? 0) * Math.max(100, targetUtilization)) / 100),
  );
  return { replicas, utilization: first!.utilization, rawAverageMilli: first!.rawAverage };
}

/** GetRawResourceReplicas: a target average value per pod (milli-units). */
export function resourceAverageValueReplicas(input: ResourceInput, targetMilli: number): ResourceProposal {
  let first: number | undefined;
  const replicas = proposal(
    input,
    (m) => {
      const r = averageRatio(m, targetMilli);
      first ??= r.average;
      return r.ratio;
    },
    () => targetMilli,
  );
  return { replicas, rawAverageMilli: first! };
}

// ---- behavior: stabilization and rate limits (normalizeDesiredReplicasWithBehaviors) ----

export interface Recommendation {
  replicas: number;
  atMs: number;
}
export interface ScaleEvent {
  change: number;
  atMs: number;
  outdated?: boolean;
}
export interface Policy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}
export interface Rules {
  stabilizationWindowSeconds: number;
  selectPolicy: 'Max' | 'Min' | 'Disabled';
  policies: Policy[];
}

export interface Stabilized {
  replicas: number;
  reason: string;
  message: string;
}

/**
 * stabilizeRecommendationWithBehaviors: a scale-up goes no higher than the lowest recommendation
 * of its window, a scale-down no lower than the highest of its window. Returns the stabilized
 * count and the recommendations to keep (the new one replaces one older than both windows).
 */
export function stabilize(
  recs: Recommendation[],
  current: number,
  desired: number,
  up: Rules,
  down: Rules,
  nowMs: number,
): Stabilized & { recs: Recommendation[] } {
  const upCutoff = nowMs - up.stabilizationWindowSeconds * 1000;
  const downCutoff = nowMs - down.stabilizationWindowSeconds * 1000;
  let upRec = desired;
  let downRec = desired;
  let old = -1;
  recs.forEach((r, i) => {
    if (r.atMs > upCutoff) upRec = Math.min(r.replicas, upRec);
    if (r.atMs > downCutoff) downRec = Math.max(r.replicas, downRec);
    if (r.atMs < upCutoff && r.atMs < downCutoff) old = i;
  });
  let replicas = current;
  if (replicas < upRec) replicas = upRec;
  if (replicas > downRec) replicas = downRec;
  const next = [...recs];
  if (old >= 0) next[old] = { replicas: desired, atMs: nowMs };
  else next.push({ replicas: desired, atMs: nowMs });
  return desired >= current
    ? {
        replicas,
        recs: next,
        reason: 'ScaleUpStabilized',
        message: 'recent recommendations were lower than current one, applying the lowest recent recommendation',
      }
    : {
        replicas,
        recs: next,
        reason: 'ScaleDownStabilized',
        message: 'recent recommendations were higher than current one, applying the highest recent recommendation',
      };
}

/** getReplicasChangePerPeriod */
function changeInPeriod(periodSeconds: number, events: ScaleEvent[], nowMs: number): number {
  const cutoff = nowMs - periodSeconds * 1000;
  return events.reduce((sum, e) => (e.atMs > cutoff && !e.outdated ? sum + e.change : sum), 0);
}

/** calculateScaleUpLimitWithScalingRules */
export function scaleUpLimit(current: number, ups: ScaleEvent[], downs: ScaleEvent[], rules: Rules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? Infinity : -Infinity;
  for (const p of rules.policies) {
    const start = current - changeInPeriod(p.periodSeconds, ups, nowMs) + changeInPeriod(p.periodSeconds, downs, nowMs);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/** calculateScaleDownLimitWithBehaviors: for scaling down the smallest change (Min) is the highest count. */
export function scaleDownLimit(current: number, ups: ScaleEvent[], downs: ScaleEvent[], rules: Rules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? -Infinity : Infinity;
  for (const p of rules.policies) {
    const start = current - changeInPeriod(p.periodSeconds, ups, nowMs) + changeInPeriod(p.periodSeconds, downs, nowMs);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

export interface RateInput {
  current: number;
  desired: number;
  min: number;
  max: number;
  up: Rules;
  down: Rules;
  ups: ScaleEvent[];
  downs: ScaleEvent[];
  nowMs: number;
}

/** convertDesiredReplicasWithBehaviorRate: the count the policies and min/max allow now, and why. */
export function limitByRate(a: RateInput): Stabilized {
  if (a.desired > a.current) {
    const limit = Math.max(scaleUpLimit(a.current, a.ups, a.downs, a.up, a.nowMs), a.current);
    const byRate = a.max > limit;
    const allowed = byRate ? limit : a.max;
    if (a.desired > allowed)
      return byRate
        ? { replicas: allowed, reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' }
        : { replicas: allowed, reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
  } else if (a.desired < a.current) {
    const limit = Math.min(scaleDownLimit(a.current, a.ups, a.downs, a.down, a.nowMs), a.current);
    const byRate = a.min < limit;
    const allowed = byRate ? limit : a.min;
    if (a.desired < allowed)
      return byRate
        ? { replicas: allowed, reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' }
        : { replicas: allowed, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
  }
  return { replicas: a.desired, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
}

/** storeScaleEvent: the change is recorded for its direction; events older than its longest policy period are reused. */
export function recordScaleEvent(events: ScaleEvent[], change: number, rules: Rules, nowMs: number): ScaleEvent[] {
  const longest = Math.max(0, ...rules.policies.map((p) => p.periodSeconds));
  const cutoff = nowMs - longest * 1000;
  const next = events.map((e) => (e.atMs <= cutoff ? { ...e, outdated: true } : e));
  const reuse = next.findIndex((e) => e.outdated);
  const ev = { change, atMs: nowMs };
  if (reuse >= 0) next[reuse] = ev;
  else next.push(ev);
  return next;
}

// ---- status conditions ----

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

/** setConditionInList: the transition time moves only when the status changes. */
export function setCondition(conds: Condition[], type: string, status: Condition['status'], reason: string, message: string, now: string): Condition[] {
  const i = conds.findIndex((c) => c.type === type);
  const prev = conds[i];
  const c: Condition = { type, status, lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now, reason, message };
  if (i < 0) return [...conds, c];
  const next = [...conds];
  next[i] = c;
  return next;
}
