// Pure computation of a Pod's status from what the runtime reports, in the shape and with the
// reasons kubectl users know (phase, conditions, containerStatuses).
import type { V1ContainerStatus, V1Pod, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';

export interface ContainerView {
  id: string;
  state: 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN' | string;
  attempt: number;
  exitCode?: number;
  reason?: string;
  message?: string;
  createdAt?: string;
  startedAt?: string;
  finishedAt?: string;
  image: string;
  imageRef: string;
}

export interface RuntimeView {
  sandboxReady: boolean;
  podIP?: string;
  containers: Map<string, ContainerView>;              // latest attempt per container name
  previous: Map<string, ContainerView>;                // the attempt before it, for lastState
  waiting: Map<string, { reason: string; message?: string }>;
}

function state(v: ContainerView | undefined, waiting?: { reason: string; message?: string }): V1ContainerStatus['state'] {
  if (waiting && (!v || v.state !== 'CONTAINER_RUNNING')) return { waiting: { reason: waiting.reason, message: waiting.message } };
  if (!v) return { waiting: { reason: 'ContainerCreating' } };
  if (v.state === 'CONTAINER_RUNNING') return { running: { startedAt: v.startedAt as never } };
  if (v.state === 'CONTAINER_EXITED') {
    return {
      terminated: {
        exitCode: v.exitCode ?? 0, reason: v.reason || (v.exitCode ? 'Error' : 'Completed'), message: v.message || undefined,
        startedAt: v.startedAt as never, finishedAt: v.finishedAt as never, containerID: `containerd://${v.id}`,
      },
    };
  }
  return { waiting: { reason: 'ContainerCreating' } };
}

function phaseOf(pod: V1Pod, statuses: V1ContainerStatus[]): string {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  const running = statuses.filter((s) => s.state?.running).length;
  const done = statuses.filter((s) => s.state?.terminated);
  const failed = done.filter((s) => s.state!.terminated!.exitCode !== 0).length;
  if (statuses.length > 0 && done.length === statuses.length && policy !== 'Always') {
    if (failed === 0) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
  }
  if (running > 0 || (done.length > 0 && statuses.every((s) => s.state?.running || s.state?.terminated || s.lastState?.terminated))) return 'Running';
  return 'Pending';
}

function condition(type: string, ok: boolean, prev: V1PodCondition[] | undefined, now: string, reason?: string): V1PodCondition {
  const old = prev?.find((c) => c.type === type);
  const status = ok ? 'True' : 'False';
  return {
    type, status, lastProbeTime: null as never,
    lastTransitionTime: (old && old.status === status ? old.lastTransitionTime : now) as never,
    ...(ok || !reason ? {} : { reason }),
  };
}

export function podStatus(pod: V1Pod, rt: RuntimeView, hostIP: string, now: string): V1PodStatus {
  const prev = pod.status?.conditions;
  const statuses: V1ContainerStatus[] = (pod.spec?.containers ?? []).map((c) => {
    const v = rt.containers.get(c.name);
    const last = rt.previous.get(c.name);
    const st = state(v, rt.waiting.get(c.name));
    const running = !!st?.running;
    return {
      name: c.name,
      image: c.image!,
      imageID: v?.imageRef ?? '',
      containerID: v ? `containerd://${v.id}` : undefined,
      ready: running,
      started: running,
      restartCount: v?.attempt ?? 0,
      state: st,
      lastState: last ? state(last) : {},
    } as V1ContainerStatus;
  });
  const allReady = statuses.length > 0 && statuses.every((s) => s.ready);
  const phase = phaseOf(pod, statuses);
  const scheduled = prev?.find((c) => c.type === 'PodScheduled');
  const conditions = [
    condition('PodReadyToStartContainers', rt.sandboxReady, prev, now),
    condition('Initialized', true, prev, now),
    condition('Ready', allReady, prev, now, 'ContainersNotReady'),
    condition('ContainersReady', allReady, prev, now, 'ContainersNotReady'),
    scheduled ?? condition('PodScheduled', true, prev, now),
  ];
  const podIP = rt.podIP || pod.status?.podIP;
  return {
    phase,
    conditions,
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP: pod.spec?.hostNetwork ? hostIP : podIP,
    podIPs: (pod.spec?.hostNetwork ? hostIP : podIP) ? [{ ip: (pod.spec?.hostNetwork ? hostIP : podIP)! }] : undefined,
    startTime: (pod.status?.startTime ?? now) as never,
    qosClass: pod.status?.qosClass ?? 'BestEffort',
    containerStatuses: statuses,
  };
}

/** Only the fields the kubelet owns; the comparison ignores heartbeat-like churn. */
export const statusChanged = (a: V1PodStatus | undefined, b: V1PodStatus): boolean =>
  JSON.stringify(a ? { ...a, conditions: a.conditions?.map(stripTime) } : null) !== JSON.stringify({ ...b, conditions: b.conditions?.map(stripTime) });

const stripTime = (c: V1PodCondition) => ({ type: c.type, status: c.status, reason: c.reason });
