// The one work queue (agents/api/queue.ts): a key waits at most once, is never handled by two
// workers at once, is handled again when added while being handled, and a failing key comes back
// after a growing delay (100 ms * 2^n, capped) until it succeeds.
import test from 'ava';
import { WorkQueue } from '../../agents/api/queue.ts';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

test('a key added many times before a worker takes it is handled once', async (t) => {
  const q = new WorkQueue();
  t.teardown(() => q.stop());
  const seen: string[] = [];
  for (const k of ['a', 'b', 'a', 'a', 'b']) q.add(k);
  q.run(2, async (k) => {
    seen.push(k);
  });
  await tick(20);
  t.deepEqual(seen.sort(), ['a', 'b']);
});

test('a key added while it is handled is handled again afterwards, never by two workers at once', async (t) => {
  const q = new WorkQueue();
  t.teardown(() => q.stop());
  let inFlight = 0;
  let maxInFlight = 0;
  let runs = 0;
  q.run(4, async () => {
    inFlight++;
    runs++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    if (runs === 1) {
      q.add('k');
      q.add('k');
    }
    await tick(10);
    inFlight--;
  });
  q.add('k');
  await tick(80);
  t.is(maxInFlight, 1);
  t.is(runs, 2, 'the adds during the first run fold into one more run');
});

test('a failing key is requeued after growing delays and forgotten once it succeeds', async (t) => {
  const q = new WorkQueue();
  t.teardown(() => q.stop());
  const at: number[] = [];
  const errors: string[] = [];
  q.run(
    1,
    async (k) => {
      at.push(Date.now());
      if (at.length < 3) throw new Error(`fail ${at.length}`);
      t.is(k, 'k');
    },
    (_k, err) => errors.push(String(err)),
  );
  q.add('k');
  for (let i = 0; i < 200 && at.length < 3; i++) await tick(10);
  t.is(at.length, 3);
  t.deepEqual(errors, ['Error: fail 1', 'Error: fail 2']);
  t.true(at[1]! - at[0]! >= 190, `first retry after ~200 ms, was ${at[1]! - at[0]!}`);
  t.true(at[2]! - at[1]! >= 390, `second retry after ~400 ms, was ${at[2]! - at[1]!}`);
  await tick(300);
  t.is(at.length, 3, 'no retry after the success');
});

test('stop ends the workers and drops pending retries', async (t) => {
  const q = new WorkQueue();
  let runs = 0;
  q.run(1, async () => {
    runs++;
    throw new Error('x');
  });
  q.add('k');
  await tick(20);
  q.stop();
  q.add('k');
  await tick(300);
  t.is(runs, 1);
});
