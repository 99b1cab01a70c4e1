// Pure computation of a Pod's status from what the runtime and the probes report, in the shape and
// with the reasons kubectl users know: phase by upstream's rules, the five conditions, and init and
// app container statuses with state, lastState, restartCount, ready and started.
import type { V1Container, V1ContainerState, V1ContainerStatus, V1Pod, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';
import { wireTime, type Wire } from '../../api/wire.ts';
import { qosClass } from './qos.ts';

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

export interface Waiting {
  reason: string;
  message?: string;
}

export interface RuntimeView {
  sandboxReady: boolean;
  podIP?: string;
  containers: Map<string, ContainerView>; // latest instance per container name (init and app)
  previous: Map<string, ContainerView>; // the instance before it, for lastState
  waiting: Map<string, Waiting>;
  /** probe verdicts per container name for the latest instance (absent: no probes, ready when running) */
  probes?: Map<string, { ready: boolean; started: boolean }>;
}

export const isSidecar = (c: V1Container): boolean => c.restartPolicy === 'Always';

function stateOf(v: ContainerView | undefined, waiting: Waiting | undefined, defaultWaiting: string): Wire<V1ContainerState> {
  if (waiting && (!v || v.state !== 'CONTAINER_RUNNING'))
    return { waiting: { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) } };
  if (!v) return { waiting: { reason: defaultWaiting } };
  if (v.state === 'CONTAINER_RUNNING') return { running: { startedAt: v.startedAt } };
  if (v.state === 'CONTAINER_EXITED') return { terminated: terminated(v) };
  return { waiting: { reason: defaultWaiting } };
}

function terminated(v: ContainerView): NonNullable<Wire<V1ContainerState>['terminated']> {
  return {
    exitCode: v.exitCode ?? 0,
    reason: v.reason || (v.exitCode ? 'Error' : 'Completed'),
    ...(v.message ? { message: v.message } : {}),
    startedAt: v.startedAt,
    finishedAt: v.finishedAt,
    containerID: `containerd://${v.id}`,
  };
}

function containerStatus(c: V1Container, rt: RuntimeView, defaultWaiting: string, init: boolean): Wire<V1ContainerStatus> {
  const v = rt.containers.get(c.name);
  const waiting = rt.waiting.get(c.name);
  const state = stateOf(v, waiting, defaultWaiting);
  // a container waiting to be restarted shows its last run as lastState
  const last = state.waiting && v?.state === 'CONTAINER_EXITED' ? v : rt.previous.get(c.name);
  const running = !!state.running;
  const verdict = rt.probes?.get(c.name);
  const started = running && (verdict?.started ?? true);
  const ready = running && started && (verdict?.ready ?? true) && (!init || isSidecar(c));
  return {
    name: c.name,
    image: c.image!,
    imageID: v?.imageRef ?? '',
    ...(v ? { containerID: `containerd://${v.id}` } : {}),
    ready,
    ...(init && !isSidecar(c) ? {} : { started }),
    restartCount: v?.attempt ?? 0,
    state,
    lastState: last && last.state === 'CONTAINER_EXITED' ? { terminated: terminated(last) } : {},
  };
}

/** Upstream's getPhase: init containers first, then counts of running, waiting and stopped containers. */
export function phaseOf(pod: V1Pod, init: Wire<V1ContainerStatus>[], apps: Wire<V1ContainerStatus>[]): string {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  let pendingInit = 0;
  let failedInit = 0;
  for (const c of pod.spec?.initContainers ?? []) {
    const s = init.find((x) => x.name === c.name);
    if (isSidecar(c)) {
      if (!s?.started && !s?.state?.running) pendingInit++;
      continue;
    }
    if (!s) {
      pendingInit++;
      continue;
    }
    if (s.state?.running) pendingInit++;
    else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) {
        if (s.lastState.terminated.exitCode !== 0) failedInit++;
      } else pendingInit++;
    } else pendingInit++;
  }
  let running = 0,
    waiting = 0,
    stopped = 0,
    succeeded = 0;
  for (const s of apps) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    }
  }
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  if (pendingInit > 0 || waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

/** A condition read from the pod (model-typed with Date, holding text at run time) in wire form, keys unchanged. */
const wireCondition = ({ lastProbeTime, lastTransitionTime, ...rest }: V1PodCondition): Wire<V1PodCondition> => ({
  ...rest,
  ...(lastProbeTime !== undefined ? { lastProbeTime: wireTime(lastProbeTime) } : {}),
  ...(lastTransitionTime !== undefined ? { lastTransitionTime: wireTime(lastTransitionTime) } : {}),
});

const wireConditionOr = (c: V1PodCondition | undefined, make: () => Wire<V1PodCondition>): Wire<V1PodCondition> => (c ? wireCondition(c) : make());

function condition(type: string, ok: boolean, prev: V1PodCondition[] | undefined, now: string, reason?: string, message?: string): Wire<V1PodCondition> {
  const old = prev?.find((c) => c.type === type);
  const status = ok ? 'True' : 'False';
  return {
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime: old && old.status === status ? wireTime(old.lastTransitionTime ?? null) : now,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

const KUBELET_CONDITIONS = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);

export function podStatus(pod: V1Pod, rt: RuntimeView, hostIP: string, now: string): Wire<V1PodStatus> {
  const prev = pod.status?.conditions;
  const hasInit = (pod.spec?.initContainers ?? []).length > 0;
  const defaultWaiting = hasInit ? 'PodInitializing' : 'ContainerCreating';
  const initStatuses = (pod.spec?.initContainers ?? []).map((c) => containerStatus(c, rt, defaultWaiting, true));
  const statuses = (pod.spec?.containers ?? []).map((c) => containerStatus(c, rt, defaultWaiting, false));
  const phase = phaseOf(pod, initStatuses, statuses);
  const completed = phase === 'Succeeded' || phase === 'Failed';

  const notInit = (pod.spec?.initContainers ?? [])
    .filter((c) => {
      const s = initStatuses.find((x) => x.name === c.name)!;
      return isSidecar(c) ? !s.started : !(s.state?.terminated?.exitCode === 0);
    })
    .map((c) => c.name);
  const initialized = notInit.length === 0 || statuses.some((s) => s.state?.running || s.lastState?.terminated || s.state?.terminated);
  const unready = statuses.filter((s) => !s.ready).map((s) => s.name);
  const containersReady = !completed && unready.length === 0 && statuses.length > 0;
  const gates = (pod.spec?.readinessGates ?? []).map((g) => g.conditionType);
  const missingGate = gates.find((g) => prev?.find((c) => c.type === g)?.status !== 'True');
  const ready = containersReady && !missingGate;

  const notReadyReason = phase === 'Failed' ? 'PodFailed' : completed ? 'PodCompleted' : 'ContainersNotReady';
  const notReadyMsg = completed ? undefined : `containers with unready status: [${unready.join(' ')}]`;
  const conditions: Wire<V1PodCondition>[] = [
    condition('PodReadyToStartContainers', rt.sandboxReady, prev, now),
    initialized
      ? condition('Initialized', true, prev, now, completed && hasInit ? 'PodCompleted' : undefined)
      : condition('Initialized', false, prev, now, 'ContainersNotInitialized', `containers with incomplete status: [${notInit.join(' ')}]`),
    ready
      ? condition('Ready', true, prev, now)
      : !containersReady
        ? condition('Ready', false, prev, now, notReadyReason, notReadyMsg)
        : condition(
            'Ready',
            false,
            prev,
            now,
            'ReadinessGatesNotReady',
            `corresponding condition of pod readiness gate ${JSON.stringify(missingGate)} does not exist.`,
          ),
    containersReady ? condition('ContainersReady', true, prev, now) : condition('ContainersReady', false, prev, now, notReadyReason, notReadyMsg),
    wireConditionOr(
      prev?.find((c) => c.type === 'PodScheduled'),
      () => condition('PodScheduled', true, prev, now),
    ),
    // conditions other writers own (readiness gates, DisruptionTarget ...) are kept as they are
    ...(prev ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type)).map(wireCondition),
  ];
  const podIP = pod.spec?.hostNetwork ? hostIP : rt.podIP || pod.status?.podIP;
  return {
    phase,
    conditions,
    hostIP,
    hostIPs: [{ ip: hostIP }],
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    startTime: pod.status?.startTime ? wireTime(pod.status.startTime) : now,
    qosClass: pod.status?.qosClass ?? qosClass(pod),
    ...(hasInit ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: statuses,
    ...(pod.spec?.ephemeralContainers?.length
      ? { ephemeralContainerStatuses: pod.spec.ephemeralContainers.map((c) => ({ ...containerStatus(c, rt, 'ContainerCreating', true), ready: false })) }
      : {}),
  };
}
