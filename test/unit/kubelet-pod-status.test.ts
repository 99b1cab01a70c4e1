// The pod status the kubelet reports from the runtime's view (pods/pod-status.ts): phase, conditions, container and ephemeral container statuses.
import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import { podStatus, type ContainerView } from '../../agents/kubelet/pods/pod-status.ts';

const pod = (extra: Partial<V1Pod['spec']> = {}): V1Pod => ({
  metadata: { name: 'web', namespace: 'default', uid: 'u1', labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image: 'img:1', ports: [{ containerPort: 80, hostPort: 8080 }] }], ...extra },
  status: { phase: 'Pending' },
});

const view = (state: string, extra: Partial<ContainerView> = {}): ContainerView => ({
  id: 'abc',
  state,
  attempt: 0,
  image: 'img:1',
  imageRef: 'sha256:1',
  startedAt: '2026-01-01T00:00:00Z',
  ...extra,
});

test('pod status: ephemeral containers get ephemeralContainerStatuses, never ready', (t) => {
  const p = pod();
  p.spec!.ephemeralContainers = [{ name: 'dbg', image: 'img', targetContainerName: 'c' }];
  const s = podStatus(
    p,
    {
      sandboxReady: true,
      podIP: '10.244.1.5',
      containers: new Map([
        ['c', view('CONTAINER_RUNNING')],
        ['dbg', view('CONTAINER_RUNNING')],
      ]),
      previous: new Map(),
      waiting: new Map(),
    },
    '10.0.0.1',
    '2026-01-01T00:00:00Z',
  );
  t.is(s.ephemeralContainerStatuses?.length, 1);
  t.like(s.ephemeralContainerStatuses![0], { name: 'dbg', ready: false, image: 'img' });
  t.truthy(s.ephemeralContainerStatuses![0].state?.running);
  t.is(
    podStatus(pod(), { sandboxReady: true, podIP: '', containers: new Map(), previous: new Map(), waiting: new Map() }, '10.0.0.1', '2026-01-01T00:00:00Z')
      .ephemeralContainerStatuses,
    undefined,
  );
});

test('pod status: running container makes the pod Running and Ready with its IP', (t) => {
  const s = podStatus(
    pod(),
    { sandboxReady: true, podIP: '10.244.1.5', containers: new Map([['c', view('CONTAINER_RUNNING')]]), previous: new Map(), waiting: new Map() },
    '10.0.0.1',
    '2026-01-01T00:00:00Z',
  );
  t.is(s.phase, 'Running');
  t.is(s.podIP, '10.244.1.5');
  t.is(s.hostIP, '10.0.0.1');
  t.true(s.containerStatuses![0].ready);
  t.is(s.conditions!.find((c) => c.type === 'Ready')!.status, 'True');
});

test('pod status: exit 0 with OnFailure is Succeeded; exit 1 with Never is Failed; waiting shows its reason', (t) => {
  const mk = (policy: string, code: number) =>
    podStatus(
      pod({ restartPolicy: policy }),
      {
        sandboxReady: true,
        containers: new Map([['c', view('CONTAINER_EXITED', { exitCode: code })]]),
        previous: new Map(),
        waiting: new Map(),
      },
      'h',
      'now',
    );
  t.is(mk('OnFailure', 0).phase, 'Succeeded');
  t.is(mk('Never', 1).phase, 'Failed');
  t.is(mk('Never', 1).containerStatuses![0].state!.terminated!.reason, 'Error');
  t.is(mk('OnFailure', 0).containerStatuses![0].state!.terminated!.reason, 'Completed');
  const w = podStatus(
    pod(),
    { sandboxReady: true, containers: new Map(), previous: new Map(), waiting: new Map([['c', { reason: 'ErrImagePull' }]]) },
    'h',
    'now',
  );
  t.is(w.phase, 'Pending');
  t.is(w.containerStatuses![0].state!.waiting!.reason, 'ErrImagePull');
});
