// Pod status as kubectl shows it: phases by upstream's rules, conditions with their reasons and
// messages, init container statuses, lastState and readiness from probes.
import test from 'ava';
import type { V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { podStatus, type ContainerView, type RuntimeView } from '../../agents/kubelet/pods/pod-status.ts';

const pod = (spec: Partial<V1Pod['spec']> = {}): V1Pod => ({
  metadata: { name: 'p', namespace: 'd', uid: 'u' },
  spec: { containers: [{ name: 'app', image: 'img' }], ...spec },
  status: { phase: 'Pending', qosClass: 'BestEffort', conditions: [{ type: 'PodScheduled', status: 'True' }] },
});
const v = (state: string, extra: Partial<ContainerView> = {}): ContainerView => ({
  id: `id-${state}-${extra.attempt ?? 0}`,
  state,
  attempt: 0,
  image: 'img',
  imageRef: 'sha',
  ...extra,
});
const view = (containers: Record<string, ContainerView>, extra: Partial<RuntimeView> = {}): RuntimeView => ({
  sandboxReady: true,
  podIP: '10.244.1.9',
  containers: new Map(Object.entries(containers)),
  previous: new Map(),
  waiting: new Map(),
  ...extra,
});
const cond = (s: ReturnType<typeof podStatus>, type: string) => s.conditions!.find((c) => c.type === type)!;

const inits = {
  initContainers: [
    { name: 'i1', image: 'img' },
    { name: 'i2', image: 'img' },
  ],
};

test('init containers: Pending and PodInitializing until all succeed, with the incomplete ones named', (t) => {
  const s = podStatus(pod(inits), view({ i1: v('CONTAINER_EXITED', { exitCode: 0 }), i2: v('CONTAINER_RUNNING') }), 'h', 'now');
  t.is(s.phase, 'Pending');
  t.deepEqual(cond(s, 'Initialized'), {
    type: 'Initialized',
    status: 'False',
    lastProbeTime: null,
    lastTransitionTime: 'now',
    reason: 'ContainersNotInitialized',
    message: 'containers with incomplete status: [i2]',
  } as never);
  t.is(s.containerStatuses![0].state!.waiting!.reason, 'PodInitializing');
  t.is(s.initContainerStatuses![0].state!.terminated!.reason, 'Completed');
  t.false(s.initContainerStatuses![1].ready);
  t.is(s.initContainerStatuses![1].started, undefined, 'regular init containers have no started field');
});

test('a failed init container fails a restartPolicy Never pod, and keeps an Always pod Pending', (t) => {
  const failed = view({ i1: v('CONTAINER_EXITED', { exitCode: 1 }) });
  t.is(podStatus(pod({ ...inits, restartPolicy: 'Never' }), failed, 'h', 'now').phase, 'Failed');
  const crashing = view(
    { i1: v('CONTAINER_EXITED', { exitCode: 1, attempt: 2 }) },
    { waiting: new Map([['i1', { reason: 'CrashLoopBackOff', message: 'back-off 20s' }]]) },
  );
  const s = podStatus(pod(inits), crashing, 'h', 'now');
  t.is(s.phase, 'Pending');
  t.is(s.initContainerStatuses![0].state!.waiting!.reason, 'CrashLoopBackOff');
  t.is(s.initContainerStatuses![0].lastState!.terminated!.exitCode, 1, 'the crashed run is the last state');
  t.is(s.initContainerStatuses![0].restartCount, 2);
});

test('app containers: CrashLoopBackOff keeps an Always pod Running; Never/OnFailure end it', (t) => {
  const crash = view({ app: v('CONTAINER_EXITED', { exitCode: 2, attempt: 3 }) }, { waiting: new Map([['app', { reason: 'CrashLoopBackOff' }]]) });
  const s = podStatus(pod(), crash, 'h', 'now');
  t.is(s.phase, 'Running');
  t.is(s.containerStatuses![0].restartCount, 3);
  t.is(s.containerStatuses![0].lastState!.terminated!.exitCode, 2);
  t.is(cond(s, 'Ready').reason, 'ContainersNotReady');
  t.is(cond(s, 'Ready').message, 'containers with unready status: [app]');
  const done = view({ app: v('CONTAINER_EXITED', { exitCode: 0 }) });
  const ok = podStatus(pod({ restartPolicy: 'OnFailure' }), done, 'h', 'now');
  t.is(ok.phase, 'Succeeded');
  t.is(cond(ok, 'Ready').reason, 'PodCompleted');
  const oom = podStatus(pod({ restartPolicy: 'Never' }), view({ app: v('CONTAINER_EXITED', { exitCode: 137, reason: 'OOMKilled' }) }), 'h', 'now');
  t.is(oom.containerStatuses![0].state!.terminated!.reason, 'OOMKilled');
  // a Failed pod's readiness says so, as upstream's generateContainersReadyConditionForTerminalPhase
  t.is(oom.phase, 'Failed');
  t.is(cond(oom, 'Ready').reason, 'PodFailed');
  t.is(cond(oom, 'ContainersReady').reason, 'PodFailed');
  t.is(cond(ok, 'ContainersReady').reason, 'PodCompleted');
});

test('readiness and startup probes decide ready and started', (t) => {
  const running = { app: v('CONTAINER_RUNNING') };
  const notReady = podStatus(pod(), view(running, { probes: new Map([['app', { ready: false, started: true }]]) }), 'h', 'now');
  t.is(notReady.phase, 'Running');
  t.false(notReady.containerStatuses![0].ready);
  t.true(notReady.containerStatuses![0].started);
  t.is(cond(notReady, 'ContainersReady').status, 'False');
  const ready = podStatus(pod(), view(running, { probes: new Map([['app', { ready: true, started: true }]]) }), 'h', 'now');
  t.is(cond(ready, 'Ready').status, 'True');
  t.is(cond(ready, 'PodReadyToStartContainers').status, 'True');
  const notStarted = podStatus(pod(), view(running, { probes: new Map([['app', { ready: true, started: false }]]) }), 'h', 'now');
  t.false(notStarted.containerStatuses![0].ready, 'not ready before started');
});

test("readiness gates: Ready waits for the gate condition; other writers' conditions are kept", (t) => {
  const p = pod({ readinessGates: [{ conditionType: 'example.com/lb' }] });
  const s = podStatus(p, view({ app: v('CONTAINER_RUNNING') }), 'h', 'now');
  t.is(cond(s, 'ContainersReady').status, 'True');
  t.is(cond(s, 'Ready').status, 'False');
  t.is(cond(s, 'Ready').reason, 'ReadinessGatesNotReady');
  p.status!.conditions!.push({ type: 'example.com/lb', status: 'True' });
  const s2 = podStatus(p, view({ app: v('CONTAINER_RUNNING') }), 'h', 'now');
  t.is(cond(s2, 'Ready').status, 'True');
  t.is(cond(s2, 'example.com/lb').status, 'True');
});

test("a running container's previous run is its lastState; transition times stay while a condition holds", (t) => {
  const s = podStatus(
    pod(),
    view({ app: v('CONTAINER_RUNNING', { attempt: 1 }) }, { previous: new Map([['app', v('CONTAINER_EXITED', { exitCode: 137, reason: 'Error' })]]) }),
    'h',
    't1',
  );
  t.is(s.containerStatuses![0].lastState!.terminated!.exitCode, 137);
  t.is(s.containerStatuses![0].restartCount, 1);
  const p = pod();
  // as the pod comes back from the API: the model type, holding the wire text
  p.status!.conditions = JSON.parse(JSON.stringify(s.conditions)) as V1PodCondition[];
  const again = podStatus(p, view({ app: v('CONTAINER_RUNNING', { attempt: 1 }) }), 'h', 't2');
  t.is(cond(again, 'Ready').lastTransitionTime as unknown, 't1');
  t.is(again.podIP, '10.244.1.9');
  t.is(podStatus(pod({ hostNetwork: true }), view({}), '10.0.0.5', 'now').podIP, '10.0.0.5');
});

test('sidecars (init containers with restartPolicy Always) count as done once started', (t) => {
  const p = pod({ initContainers: [{ name: 'side', image: 'img', restartPolicy: 'Always' }] });
  const s = podStatus(p, view({ side: v('CONTAINER_RUNNING'), app: v('CONTAINER_RUNNING') }), 'h', 'now');
  t.is(s.phase, 'Running');
  t.is(cond(s, 'Initialized').status, 'True');
  t.true(s.initContainerStatuses![0].started);
  t.true(s.initContainerStatuses![0].ready);
});
