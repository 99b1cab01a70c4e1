// killContainer over a fake runtime: a container the runtime no longer has (gRPC NOT_FOUND,
// whatever the runtime's wording) is already stopped; any other failure, even one whose message
// says "not found", reaches the caller.
import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { V1Pod } from '@kubernetes/client-node';
import { logger } from '../../agents/api/log.ts';
import { CriError } from '../../agents/kubelet/cri/client.ts';
import { killContainer } from '../../agents/kubelet/pods/container-kill.ts';
import type { PodDeps } from '../../agents/kubelet/pods/deps.ts';
import type { EventRecorder } from '../../agents/kubelet/pods/events.ts';
import type { PodRuntime } from '../../agents/kubelet/pods/runtime.ts';

function deps(stopError: Error): PodDeps {
  const rt: Partial<PodRuntime> = {
    async stopContainer() {
      throw stopError;
    },
  };
  const events: Partial<EventRecorder> = { pod: () => undefined };
  return { rt, events, log: logger('test', 'silent') } as PodDeps;
}

const pod: V1Pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u' }, spec: { containers: [{ name: 'c' }] } };
const target = { pod, container: pod.spec!.containers[0]!, id: 'c1', podIP: '', graceSec: 0 };

test('a container the runtime reports NOT_FOUND counts as stopped, whatever the message says', async (t) => {
  await t.notThrowsAsync(killContainer(deps(new CriError('StopContainer', grpc.status.NOT_FOUND, 'no such container "c1"')), target));
});

test('other runtime failures reach the caller, even when their message says "not found"', async (t) => {
  const err = new CriError('StopContainer', grpc.status.UNKNOWN, 'failed to kill: runc binary not found');
  await t.throwsAsync(killContainer(deps(err), target), { is: err });
});
