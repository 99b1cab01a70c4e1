// Events correlated as upstream's EventCorrelator: the pure rules (repeat -> count, 10 similar in
// 10 minutes -> "(combined from similar events)", the filter judging last), then the control
// plane's recorder writing through the real API server's handler (SQLite store): what `kubectl get
// events` would list for an HPA whose metrics keep failing.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMBINED_PREFIX, EventCorrelator, type EventIdentity } from '../../agents/api/event-correlator.ts';
import { ApiHandler } from '../../agents/control-plane/apiserver/handler.ts';
import { Registry } from '../../agents/control-plane/apiserver/registry.ts';
import { LoopbackClient } from '../../agents/control-plane/client/loopback.ts';
import { recordEvent } from '../../agents/control-plane/client/events.ts';
import { SqliteStore } from '../../agents/control-plane/storage/sqlite.ts';

const ev = (message: string, reason = 'FailedGetResourceMetric'): EventIdentity => ({
  source: { component: 'horizontal-pod-autoscaler' },
  involvedObject: { kind: 'HorizontalPodAutoscaler', namespace: 'default', name: 'web', uid: 'u1', apiVersion: 'autoscaling/v2' },
  type: 'Warning',
  reason,
  message,
});

test("a repeat patches the first event's count; the 10th similar message within 10 minutes starts one combined event; later ones count on it", (t) => {
  let now = 1_000_000;
  let n = 0;
  const c = new EventCorrelator(undefined, () => now);
  const name = () => `web.${n++}`;
  t.like(c.correlate(ev('no metrics'), name), { skip: false, create: true, name: 'web.0', count: 1, message: 'no metrics' });
  now += 15_000;
  t.like(c.correlate(ev('no metrics'), name), { create: false, name: 'web.0', count: 2, firstTimestampMs: 1_000_000 });
  for (let i = 2; i <= 9; i++) t.like(c.correlate(ev(`no metrics for pod p${i}`), name), { create: true, count: 1, message: `no metrics for pod p${i}` });
  t.like(c.correlate(ev('no metrics for pod p10'), name), { create: true, name: 'web.9', count: 1, message: `${COMBINED_PREFIX}no metrics for pod p10` });
  t.like(c.correlate(ev('no metrics for pod p11'), name), { create: false, name: 'web.9', count: 2, message: `${COMBINED_PREFIX}no metrics for pod p11` });
  t.like(c.correlate(ev('scaled', 'SuccessfulRescale'), name), { create: true, count: 1, message: 'scaled' }, 'another reason is not similar');
  now += 10 * 60_000 + 1;
  t.like(
    c.correlate(ev('no metrics for pod p12'), name),
    { create: true, count: 1, message: 'no metrics for pod p12' },
    'a quiet 10 minutes starts the similar count again',
  );
  const filtered = new EventCorrelator(
    () => false,
    () => now,
  );
  t.deepEqual(filtered.correlate(ev('x'), name), { skip: true });
});

test("the control plane's recorder through the real API server: one event per message with its count, then one combined event", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-events-'));
  const store = new SqliteStore(join(dir, 'state.db'));
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const client = new LoopbackClient(new ApiHandler({ store, registry: new Registry(), serverAddress: '127.0.0.1:6443', serviceCIDR: '10.96.0.0/12' }), {
    name: 'admin',
    groups: ['system:masters'],
  });
  await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }).catch(() => undefined);
  const hpa = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default', uid: 'hpa-events-test' } };
  for (let i = 0; i < 3; i++)
    await recordEvent(client, hpa, 'Warning', 'FailedGetResourceMetric', 'failed to get cpu utilization: no metrics returned', 'horizontal-pod-autoscaler');
  for (let i = 1; i <= 12; i++)
    await recordEvent(
      client,
      hpa,
      'Warning',
      'FailedComputeMetricsReplicas',
      `invalid metrics (1 invalid out of 1), first error is: pod p${i} has no metrics`,
      'horizontal-pod-autoscaler',
    );
  await recordEvent(
    client,
    hpa,
    'Normal',
    'SuccessfulRescale',
    'New size: 3; reason: cpu resource utilization (percentage of request) above target',
    'horizontal-pod-autoscaler',
  );
  const events = (await client.list('/api/v1/namespaces/default/events')).items as unknown as {
    reason: string;
    message: string;
    count: number;
    firstTimestamp: string;
    lastTimestamp: string;
  }[];
  const by = (reason: string) => events.filter((e) => e.reason === reason);
  t.is(by('FailedGetResourceMetric').length, 1);
  t.like(by('FailedGetResourceMetric')[0], { count: 3, message: 'failed to get cpu utilization: no metrics returned' });
  const compute = by('FailedComputeMetricsReplicas');
  t.is(compute.length, 10, '9 messages of their own, then one combined event');
  t.like(
    compute.find((e) => e.message.startsWith(COMBINED_PREFIX)),
    { count: 3, message: `${COMBINED_PREFIX}invalid metrics (1 invalid out of 1), first error is: pod p12 has no metrics` },
  );
  t.like(by('SuccessfulRescale'), [{ count: 1 }]);
  t.is(events.length, 12, '16 calls, 12 objects');
});
