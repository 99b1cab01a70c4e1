// How long a watch lasts (upstream's GetTimeoutForWatch) and the timer that waits for its end:
// a deadline past setTimeout's 2^31-1 ms must be waited for in steps, never as a 1 ms timer.
import test from 'ava';
import { MAX_TIMER_MS, timerDelay, watchTimeoutMs } from '../../agents/control-plane/apiserver/watch.ts';

test('timeoutSeconds as given, negative included; 0, absent or junk: --min-request-timeout to twice that', (t) => {
  t.is(watchTimeoutMs(3_000_000), 3_000_000_000);
  t.is(watchTimeoutMs(-5), -5000);
  t.is(
    watchTimeoutMs(0, {}, () => 0),
    1_800_000,
  );
  t.is(
    watchTimeoutMs(undefined, {}, () => 0.5),
    2_700_000,
  );
  t.is(
    watchTimeoutMs(Number.NaN, {}, () => 0),
    1_800_000,
  );
  t.is(watchTimeoutMs(undefined, { defaultTimeoutSeconds: 7 }), 7000);
  // no further than a Go time.Duration reaches
  t.is(watchTimeoutMs(1e20), Math.floor((2 ** 63 - 1) / 1e9) * 1000);
});

test('the timer never asks setTimeout for more than 2^31-1 ms, and fires at the deadline or bookmark', (t) => {
  const now = 1_000_000;
  t.is(timerDelay(now, now + 3_000_000_000), MAX_TIMER_MS);
  t.is(timerDelay(now, now + 3_000_000_000, now + 60_000), 60_000);
  t.is(timerDelay(now, now + 500, now + 60_000), 500);
  t.is(timerDelay(now, now - 10), 0);
  t.is(timerDelay(now, Number.POSITIVE_INFINITY), MAX_TIMER_MS);
});
