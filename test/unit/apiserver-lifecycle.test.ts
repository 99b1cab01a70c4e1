import test from 'ava';
import { decodeContinue, encodeContinue, planDeletion } from '../../agents/control-plane/apiserver/lifecycle.ts';
import { ApiError } from '../../agents/control-plane/apiserver/errors.ts';
import { lastSeen } from '../../agents/control-plane/controllers/eventttl.ts';

const now = new Date('2025-01-01T00:00:00Z');
const obj = (meta: Record<string, unknown> = {}) => ({ metadata: { name: 'o', generation: 1, ...meta } });

test('planDeletion: immediate, graceful, finalizers, shortening', (t) => {
  t.deepEqual(planDeletion(obj(), { grace: 0, waiting: false, now, generation: true }), { action: 'remove' });
  const g = planDeletion(obj(), { grace: 30, waiting: false, now, generation: true });
  t.is(g.action, 'mark');
  if (g.action !== 'mark') return;
  t.is(g.next.metadata.deletionTimestamp, '2025-01-01T00:00:30Z');
  t.is(g.next.metadata.deletionGracePeriodSeconds, 30);
  t.is(g.next.metadata.generation, 2);
  // a second DELETE with the same or a longer grace period changes nothing
  t.deepEqual(planDeletion(g.next, { grace: 30, waiting: false, now, generation: true }), { action: 'none' });
  const shorter = planDeletion(g.next, { grace: 5, waiting: false, now, generation: true });
  t.is(shorter.action === 'mark' && shorter.next.metadata.deletionTimestamp, '2025-01-01T00:00:05Z');
  t.deepEqual(planDeletion(g.next, { grace: 0, waiting: false, now, generation: true }), { action: 'remove' });
  // finalizers: marked with grace 0, never removed while they remain
  const f = planDeletion(obj({ finalizers: ['x/y'] }), { grace: 0, waiting: true, now, generation: false });
  t.is(f.action === 'mark' && f.next.metadata.deletionGracePeriodSeconds, 0);
  if (f.action === 'mark') t.deepEqual(planDeletion(f.next, { grace: 0, waiting: true, now, generation: false }), { action: 'none' });
  const phase = planDeletion(obj(), { grace: 0, waiting: true, now, generation: false, prepare: (o) => (o.status = { phase: 'Terminating' }) });
  t.is(phase.action === 'mark' && phase.next.status.phase, 'Terminating');
});

test('continue tokens round-trip and reject garbage with 400', (t) => {
  t.deepEqual(decodeContinue(encodeContinue(42, 'default/p3')), { rv: 42, start: 'default/p3' });
  const e = t.throws(() => decodeContinue('not-a-token'), { instanceOf: ApiError }) as ApiError;
  t.is(e.code, 400);
});

test('event age comes from the newest timestamp it has', (t) => {
  t.is(lastSeen({ metadata: { creationTimestamp: '2025-01-01T00:00:00Z' }, lastTimestamp: '2025-01-01T01:00:00Z' }), Date.parse('2025-01-01T01:00:00Z'));
  t.is(lastSeen({ metadata: { creationTimestamp: '2025-01-01T00:00:00Z' } }), Date.parse('2025-01-01T00:00:00Z'));
});
