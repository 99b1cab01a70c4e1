// QoS class, pod cgroup placement and the Linux resources of containers and pod cgroups, with
// upstream's arithmetic (cpu.shares = milliCPU * 1024 / 1000, at least 2; CFS quota over a 100 ms
// period, at least 1 ms; OOM score by class). Pure.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { bytes, milliCPU } from '../../api/quantity.ts';

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

export const MIN_SHARES = 2;
export const MAX_SHARES = 262144;
export const CFS_PERIOD_US = 100_000;
export const MIN_QUOTA_US = 1000;
export const GUARANTEED_OOM_SCORE_ADJ = -997;
export const BESTEFFORT_OOM_SCORE_ADJ = 1000;

const allContainers = (pod: V1Pod): V1Container[] => [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];

/** Guaranteed: every container has cpu and memory limits equal to its requests; BestEffort: none set. */
export function qosClass(pod: V1Pod): QosClass {
  let any = false;
  let guaranteed = true;
  for (const c of allContainers(pod)) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      const [q, l] = r === 'cpu' ? [milliCPU(req[r] ?? lim[r]), milliCPU(lim[r])] : [bytes(req[r] ?? lim[r]), bytes(lim[r])];
      if ((q ?? 0) > 0 || (l ?? 0) > 0) any = true;
      if (l === undefined || q === undefined || l !== q) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export function milliToShares(milli: number): number {
  if (milli <= 0) return MIN_SHARES;
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, Math.floor((milli * 1024) / 1000)));
}

export function milliToQuota(milli: number, period = CFS_PERIOD_US): number {
  if (milli <= 0) return 0;
  return Math.max(MIN_QUOTA_US, Math.floor((milli * period) / 1000));
}

/** Burstable containers score between Guaranteed and BestEffort by their share of node memory. */
export function oomScoreAdj(pod: V1Pod, c: V1Container, memoryCapacity: number): number {
  const q = qosClass(pod);
  if (q === 'Guaranteed') return GUARANTEED_OOM_SCORE_ADJ;
  if (q === 'BestEffort') return BESTEFFORT_OOM_SCORE_ADJ;
  const req = bytes(c.resources?.requests?.memory) ?? 0;
  if (memoryCapacity <= 0) return BESTEFFORT_OOM_SCORE_ADJ - 1;
  const adj = 1000 - Math.floor((1000 * req) / memoryCapacity);
  if (adj < 1000 + GUARANTEED_OOM_SCORE_ADJ) return 1000 + GUARANTEED_OOM_SCORE_ADJ;
  if (adj >= BESTEFFORT_OOM_SCORE_ADJ) return BESTEFFORT_OOM_SCORE_ADJ - 1;
  return adj;
}

export interface LinuxResources {
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares: number;
  memoryLimitInBytes?: number;
  oomScoreAdj: number;
}

/** CRI LinuxContainerResources of one container. */
export function containerResources(pod: V1Pod, c: V1Container, memoryCapacity: number): LinuxResources {
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  const cpuReq = milliCPU(req.cpu) ?? milliCPU(lim.cpu) ?? 0;
  const cpuLim = milliCPU(lim.cpu) ?? 0;
  const mem = bytes(lim.memory) ?? 0;
  const out: LinuxResources = { cpuShares: milliToShares(cpuReq), oomScoreAdj: oomScoreAdj(pod, c, memoryCapacity) };
  if (cpuLim > 0) {
    out.cpuPeriod = CFS_PERIOD_US;
    out.cpuQuota = milliToQuota(cpuLim);
  }
  if (mem > 0) out.memoryLimitInBytes = mem;
  return out;
}

/** A pod's effective requests and limits: app containers summed, then at least the largest init container. */
export function podTotals(pod: V1Pod): { cpuRequest: number; cpuLimit?: number; memoryRequest: number; memoryLimit?: number } {
  const sum = (cs: V1Container[], f: (c: V1Container) => number | undefined): number | undefined =>
    cs.reduce<number | undefined>((acc, c) => (acc === undefined || f(c) === undefined ? undefined : acc + f(c)!), 0);
  const max = (cs: V1Container[], f: (c: V1Container) => number | undefined): number | undefined =>
    cs.reduce<number | undefined>((acc, c) => (acc === undefined || f(c) === undefined ? undefined : Math.max(acc, f(c)!)), 0);
  const apps = pod.spec?.containers ?? [];
  const inits = pod.spec?.initContainers ?? [];
  const cpuReq = (c: V1Container) => milliCPU(c.resources?.requests?.cpu) ?? milliCPU(c.resources?.limits?.cpu) ?? 0;
  const memReq = (c: V1Container) => bytes(c.resources?.requests?.memory) ?? bytes(c.resources?.limits?.memory) ?? 0;
  const cpuLim = (c: V1Container) => milliCPU(c.resources?.limits?.cpu);
  const memLim = (c: V1Container) => bytes(c.resources?.limits?.memory);
  const both = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : Math.max(a, b));
  return {
    cpuRequest: Math.max(sum(apps, cpuReq)!, max(inits, cpuReq)!),
    memoryRequest: Math.max(sum(apps, memReq)!, max(inits, memReq)!),
    cpuLimit: both(sum(apps, cpuLim), max(inits, cpuLim)),
    memoryLimit: both(sum(apps, memLim), max(inits, memLim)),
  };
}

export interface PodCgroupConfig {
  cpuShares: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  memoryLimitInBytes?: number;
}

/** What the pod-level cgroup is limited to (BestEffort pods get the minimum shares and nothing else). */
export function podCgroupConfig(pod: V1Pod): PodCgroupConfig {
  if (qosClass(pod) === 'BestEffort') return { cpuShares: MIN_SHARES };
  const t = podTotals(pod);
  const out: PodCgroupConfig = { cpuShares: milliToShares(t.cpuRequest) };
  if (t.cpuLimit !== undefined && t.cpuLimit > 0) {
    out.cpuPeriod = CFS_PERIOD_US;
    out.cpuQuota = milliToQuota(t.cpuLimit);
  }
  if (t.memoryLimit !== undefined && t.memoryLimit > 0) out.memoryLimitInBytes = t.memoryLimit;
  return out;
}
