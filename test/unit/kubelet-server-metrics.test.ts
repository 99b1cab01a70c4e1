// The kubelet's runtime metrics (server/metrics.ts): sandboxes and containers by state.
import test from 'ava';
import { ctr } from '../support/cri-objects.ts';
import type { PodSandbox__Output as PodSandbox } from '../../agents/kubelet/cri/api-types.ts';
import { runtimeCounts } from '../../agents/kubelet/server/metrics.ts';

test('metrics count ready sandboxes and containers by state', (t) => {
  const sb = (state: PodSandbox['state']): PodSandbox => ({ id: 'x', metadata: null, state, createdAt: 0, labels: {}, annotations: {}, runtimeHandler: '' });
  const c = runtimeCounts(
    [sb('SANDBOX_READY'), sb('SANDBOX_NOTREADY'), sb('SANDBOX_READY')],
    [ctr('a', 0, 'CONTAINER_RUNNING'), ctr('b', 0, 'CONTAINER_EXITED'), ctr('c', 0, 'CONTAINER_RUNNING')],
  );
  t.deepEqual(c, { runningPods: 2, containers: { running: 2, exited: 1, created: 0, unknown: 0 } });
});
