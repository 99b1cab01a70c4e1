// Finding a pod's containers and sandboxes for exec, logs and port-forward (server/containers.ts).
import test from 'ava';
import { ctr } from '../support/cri-objects.ts';
import type { V1Pod } from '@kubernetes/client-node';
import type { PodSandbox__Output as PodSandbox } from '../../agents/kubelet/cri/api-types.ts';
import { containerNames, findPod, logInstance, readySandbox, requireContainer, runningInstance } from '../../agents/kubelet/server/containers.ts';
import { HttpError } from '../../agents/kubelet/server/status.ts';

const pod: V1Pod = {
  metadata: { name: 'web', namespace: 'default', uid: 'u1' },
  spec: { initContainers: [{ name: 'init' }], containers: [{ name: 'app' }, { name: 'side' }], ephemeralContainers: [{ name: 'debug' }] },
};

test('pods and container names come from the API objects', (t) => {
  t.is(findPod([pod], 'default', 'web'), pod);
  t.is(findPod([pod], 'default', 'web', 'u1'), pod);
  for (const [ns, name, uid] of [
    ['default', 'nope'],
    ['other', 'web'],
    ['default', 'web', 'u2'],
  ] as const) {
    const e = t.throws(() => findPod([pod], ns, name, uid), { instanceOf: HttpError });
    t.is(e?.code, 404);
  }
  t.deepEqual(containerNames(pod), ['init', 'app', 'side', 'debug']);
  t.notThrows(() => requireContainer(pod, 'debug'));
  const e = t.throws(() => requireContainer(pod, 'ghost'), { instanceOf: HttpError });
  t.is(e?.code, 404);
  t.is(e?.message, 'container "ghost" not found in pod "web"');
});

test('current and previous instances are told apart by restart attempt', (t) => {
  const list = [ctr('a0', 0, 'CONTAINER_EXITED'), ctr('a2', 2, 'CONTAINER_RUNNING'), ctr('a1', 1, 'CONTAINER_EXITED')];
  t.is(logInstance(list, false, 'web', 'app').id, 'a2');
  t.is(logInstance(list, true, 'web', 'app').id, 'a1');
  t.is(runningInstance(list, 'web', 'app').id, 'a2');
  const only = [ctr('b0', 0, 'CONTAINER_EXITED')];
  t.is(logInstance(only, false, 'web', 'app').id, 'b0');
  const prev = t.throws(() => logInstance(only, true, 'web', 'app'), { instanceOf: HttpError });
  t.is(prev?.code, 400);
  t.is(prev?.message, 'previous terminated container "app" in pod "web" not found');
  t.regex(t.throws(() => logInstance([], false, 'web', 'app'))?.message ?? '', /waiting to start/);
  t.regex(t.throws(() => runningInstance(only, 'web', 'app'))?.message ?? '', /is not running/);
  // the same attempt twice (a kubelet restart re-created it): the newer one wins
  t.is(logInstance([ctr('x', 1, 'CONTAINER_EXITED', 10), ctr('y', 1, 'CONTAINER_RUNNING', 20)], false, 'web', 'app').id, 'y');
});

test('port-forward goes to the newest ready sandbox', (t) => {
  const sb = (id: string, state: PodSandbox['state'], createdAt: number): PodSandbox => ({
    id,
    metadata: null,
    state,
    createdAt,
    labels: {},
    annotations: {},
    runtimeHandler: '',
  });
  t.is(readySandbox([sb('old', 'SANDBOX_READY', 1), sb('new', 'SANDBOX_READY', 2), sb('dead', 'SANDBOX_NOTREADY', 3)], 'web').id, 'new');
  t.is(t.throws(() => readySandbox([sb('dead', 'SANDBOX_NOTREADY', 3)], 'web'), { instanceOf: HttpError })?.code, 400);
});
