// The join endpoint's per-address budget of refused credentials, on a fake clock.
import test from 'ava';
import { FailureThrottle } from '../../agents/control-plane/join/throttle.ts';

test('a burst of refusals is free, then one per second; the budget refills with time', (t) => {
  let now = 0;
  const th = new FailureThrottle({ burst: 3, perSecond: 1, maxAddresses: 100 }, () => now);
  for (let i = 0; i < 3; i++) {
    t.is(th.check('a'), undefined);
    th.fail('a');
  }
  const e = th.check('a');
  t.like(e, { code: 429, reason: 'TooManyRequests', details: { retryAfterSeconds: 1 } });
  t.is(th.check('b'), undefined, 'per address');
  now = 500;
  t.is(th.retryAfter('a'), 1);
  now = 1000;
  t.is(th.retryAfter('a'), 0);
  th.fail('a');
  th.fail('a');
  t.is(th.retryAfter('a'), 1, 'the budget does not go below empty: the wait stays one refill');
  now = 100_000;
  t.is(th.retryAfter('a'), 0);
});

test('the addresses remembered are bounded, the oldest forgotten first', (t) => {
  const th = new FailureThrottle({ burst: 1, perSecond: 1, maxAddresses: 2 }, () => 0);
  for (const a of ['a', 'b', 'c']) th.fail(a);
  t.is(th.retryAfter('a'), 0, 'forgotten');
  t.is(th.retryAfter('b'), 1);
  t.is(th.retryAfter('c'), 1);
});
