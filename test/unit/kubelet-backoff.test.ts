// Container restart back-off (pods/backoff.ts), as upstream's: 10 s doubling to 5 min.
import test from 'ava';
import { Backoff } from '../../agents/kubelet/pods/backoff.ts';

test('back-off: first restart at once, then 10 s doubling to 5 min, counted from when the container finished', (t) => {
  const b = new Backoff();
  t.false(b.inBackoffSince('k', 0, 0), 'first crash: restart at once');
  b.next('k', 0);
  t.is(b.remainingSince('k', 1_000, 1_000), 10_000, 'second crash at 1 s waits 10 s from then');
  t.true(b.inBackoffSince('k', 1_000, 10_999));
  t.false(b.inBackoffSince('k', 1_000, 11_000));
  b.next('k', 1_000);
  t.is(b.remainingSince('k', 12_000, 12_000), 20_000);
  for (let i = 0; i < 10; i++) b.next('k', 12_000);
  t.is(b.current('k'), 300_000);
  t.false(b.inBackoffSince('k', 12_000 + 600_001, 12_000 + 600_001), 'forgotten after twice the maximum');
});
