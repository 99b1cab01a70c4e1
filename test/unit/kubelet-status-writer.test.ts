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

test('the status read back in the API server’s key order is still the writer’s own', async (t) => {
  const w = new StatusWriter(async () => true, logger('test', 'silent'));
  const sent: Wire<V1PodStatus> = {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    hostIP: '10.0.0.1',
    podIP: '10.244.0.5',
    qosClass: 'BestEffort',
    containerStatuses: [
      { name: 'c', image: 'i', imageID: 'i@sha256:1', ready: true, restartCount: 0, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } },
    ],
  };
  w.submit(pod, sent);
  await w.flush('u1');
  // a merge PATCH keeps the keys the stored status had first (qosClass from the create) where they were
  const stored = JSON.parse(
    '{"phase":"Running","qosClass":"BestEffort","conditions":[{"status":"True","type":"Ready","lastTransitionTime":"2026-01-01T00:00:01Z"}],' +
      '"hostIP":"10.0.0.1","podIP":"10.244.0.5","containerStatuses":[{"restartCount":0,"name":"c","image":"i","imageID":"i@sha256:1","ready":true,' +
      '"state":{"running":{"startedAt":"2026-01-01T00:00:00Z"}}}]}',
  ) as V1PodStatus;
  t.true(w.wrote('u1', stored));
  t.false(w.wrote('u1', { ...stored, containerStatuses: [{ ...stored.containerStatuses![0], ready: false }] }));
});
