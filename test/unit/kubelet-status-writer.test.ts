// The kubelet's status writer (agents/kubelet/pods/status-writer.ts) knows the status it wrote, also
// while the write is in flight: the watch can show the pod with it before the PATCH returns, and
// that echo must not start a sync of its own (issue #26).
import test from 'ava';
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { logger } from '../../agents/api/log.ts';
import type { Wire } from '../../agents/api/wire.ts';
import { StatusWriter } from '../../agents/kubelet/pods/status-writer.ts';

const pod: V1Pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, status: { phase: 'Pending' } };
const running: Wire<V1PodStatus> = { phase: 'Running', podIP: '10.244.0.5', startTime: '2026-01-01T00:00:00Z' };
/** the status as the API gives it back: the model type, from the wire text */
const readBack = (s: Wire<V1PodStatus>): V1PodStatus => JSON.parse(JSON.stringify(s)) as V1PodStatus;

test('the status written, while in flight and after, is the writer’s own; another one is not', async (t) => {
  let inFlight: boolean | undefined;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const w = new StatusWriter(
    async (_p, s) => {
      inFlight = w.wrote('u1', readBack(s));
      await gate;
      return true;
    },
    logger('test', 'silent'),
  );
  t.false(w.wrote('u1', readBack(running)));
  w.submit(pod, running);
  await new Promise((r) => setTimeout(r, 10));
  t.true(inFlight, 'in flight');
  release();
  await w.flush('u1');
  t.true(w.wrote('u1', readBack(running)), 'written');
  t.true(w.wrote('u1', readBack({ ...running, startTime: '2026-01-01T00:00:09Z' })), 'times aside, as the writer compares');
  t.false(w.wrote('u1', readBack({ ...running, phase: 'Failed' })));
  t.false(w.wrote('u2', readBack(running)));
});
