// The kubelet's runtime metrics (server/metrics.ts): sandboxes and containers by state, and a
// registry that does not wake an idle process: prom-client's default event-loop-lag histogram samples
// every 10 ms unless told otherwise, 100 wake-ups a second for the kubelet's whole life (issue #20).
// Wake-ups are counted as this thread's voluntary context switches (each sleep in epoll that a timer
// ends is one) over a quiet second.
import { readFileSync } from 'node:fs';
import test from 'ava';
import { ctr } from '../support/cri-objects.ts';
import type { PodSandbox__Output as PodSandbox } from '../../agents/kubelet/cri/api-types.ts';
import { createMetrics, runtimeCounts } from '../../agents/kubelet/server/metrics.ts';

test('metrics count ready sandboxes and containers by state', (t) => {
  const sb = (state: PodSandbox['state']): PodSandbox => ({ id: 'x', metadata: null, state, createdAt: 0, labels: {}, annotations: {}, runtimeHandler: '' });
  const c = runtimeCounts(
    [sb('SANDBOX_READY'), sb('SANDBOX_NOTREADY'), sb('SANDBOX_READY')],
    [ctr('a', 0, 'CONTAINER_RUNNING'), ctr('b', 0, 'CONTAINER_EXITED'), ctr('c', 0, 'CONTAINER_RUNNING')],
  );
  t.deepEqual(c, { runningPods: 2, containers: { running: 2, exited: 1, created: 0, unknown: 0 } });
});

const switches = () => Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(readFileSync('/proc/thread-self/status', 'utf8'))?.[1]);
const quietSecond = async () => {
  const before = switches();
  await new Promise((r) => setTimeout(r, 1000));
  return switches() - before;
};

test('a kubelet metrics registry adds no sub-second wake-ups to an idle process', async (t) => {
  const baseline = await quietSecond();
  const metrics = createMetrics('node-a');
  const withMetrics = await quietSecond();
  t.true(withMetrics - baseline < 20, `wake-ups in a quiet second: ${baseline} without the registry, ${withMetrics} with it`);
  t.regex(await metrics.registry.metrics(), /^nodejs_eventloop_lag_p99_seconds /m, 'the event-loop lag series are still served');
});
