// Leader election: the pure decisions, and runWhenLeader against an in-memory Lease store with
// optimistic concurrency (short leases so the whole file runs in about two seconds).
import test from 'ava';
import { ApiError } from '../../agents/control-plane/apiserver/errors.ts';
import type { Obj } from '../../agents/control-plane/apiserver/strategies/types.ts';
import { decide, microTime, nextSpec, releasedSpec } from '../../agents/control-plane/controllers/leader/lease-rules.ts';
import { type LeaseClient, runWhenLeader } from '../../agents/control-plane/controllers/leader/leader.ts';
import { logger } from '../../agents/api/log.ts';

test('decide: free or expired leases are taken, our own renewed, a live one waited for', (t) => {
  t.is(decide(undefined, 'a', 0, 0), 'acquire');
  t.is(decide({ holderIdentity: 'a', leaseDurationSeconds: 15 }, 'a', 0, 0), 'renew');
  t.is(decide({ holderIdentity: '', leaseDurationSeconds: 15 }, 'a', 0, 0), 'acquire');
  t.is(decide({ holderIdentity: 'b', leaseDurationSeconds: 15 }, 'a', 1000, 15_999), 'wait');
  t.is(decide({ holderIdentity: 'b', leaseDurationSeconds: 15 }, 'a', 1000, 16_001), 'acquire', 'unchanged for a whole lease on our clock');
});

test('lease records: acquire counts transitions, renew keeps acquireTime, release frees it', (t) => {
  t.is(microTime(Date.parse('2025-01-01T00:00:00.123Z')), '2025-01-01T00:00:00.123000Z');
  const first = nextSpec(undefined, 'acquire', 'a', 15, 0);
  t.like(first, { holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });
  const renewed = nextSpec(first, 'renew', 'a', 15, 5000);
  t.is(renewed.acquireTime, first.acquireTime);
  t.not(renewed.renewTime, first.renewTime);
  t.is(nextSpec(renewed, 'acquire', 'b', 15, 9000).leaseTransitions, 1);
  t.like(releasedSpec(renewed, 1), { holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 0 });
});

/** Leases in memory with resourceVersion checks, and a switch that makes one client's requests fail. */
class Leases {
  private obj: Obj | undefined;
  private rv = 0;
  client(broken: () => boolean = () => false): LeaseClient {
    const guard = () => {
      if (broken()) throw new Error('connect ECONNREFUSED');
    };
    return {
      get: async () => {
        guard();
        if (!this.obj) throw new ApiError(404, 'NotFound', 'not found');
        return structuredClone(this.obj);
      },
      create: async (_p: string, o: unknown) => {
        guard();
        if (this.obj) throw new ApiError(409, 'AlreadyExists', 'exists');
        this.obj = { ...(o as Obj), metadata: { ...(o as Obj).metadata, resourceVersion: String(++this.rv) } };
        return structuredClone(this.obj);
      },
      update: async (_p: string, o: unknown) => {
        guard();
        if ((o as Obj).metadata.resourceVersion !== this.obj?.metadata.resourceVersion) throw new ApiError(409, 'Conflict', 'stale');
        this.obj = { ...(o as Obj), metadata: { ...(o as Obj).metadata, resourceVersion: String(++this.rv) } };
        return structuredClone(this.obj);
      },
    } as unknown as LeaseClient;
  }
  holder(): string | undefined {
    return this.obj?.spec?.holderIdentity;
  }
}

const until = async (fn: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};
const opts = (identity: string, leaseSeconds = 0.6) => ({
  name: 'cm',
  identity,
  leaseSeconds,
  renewDeadlineSeconds: leaseSeconds * 0.66,
  retryPeriodSeconds: 0.05,
  log: logger('test', 'silent'),
});

test('one candidate leads; a stopped leader releases and the other takes over at once', async (t) => {
  const leases = new Leases();
  const running = new Set<string>();
  // a 3 s lease: taking over well before it would have run out shows the release worked
  const run = (id: string) =>
    runWhenLeader(
      leases.client(),
      opts(id, 3),
      () => void running.add(id),
      () => void running.delete(id),
    );
  const a = run('a');
  await until(() => a.isLeader());
  const b = run('b');
  await new Promise((r) => setTimeout(r, 300));
  t.deepEqual([...running], ['a'], 'only the leader runs');
  t.false(b.isLeader());
  const stoppedAt = Date.now();
  await a.stop();
  t.false(running.has('a'));
  await until(() => b.isLeader());
  t.true(Date.now() - stoppedAt < 1500, 'released: no need to wait out the lease');
  t.is(leases.holder(), 'b');
  await b.stop();
  t.is(leases.holder(), '');
});

test('a leader that cannot renew steps down; the other takes over after the lease runs out', async (t) => {
  const leases = new Leases();
  let aBroken = false;
  const stops: string[] = [];
  const a = runWhenLeader(
    leases.client(() => aBroken),
    opts('a'),
    () => undefined,
    () => void stops.push('a'),
  );
  await until(() => a.isLeader());
  const b = runWhenLeader(
    leases.client(),
    opts('b'),
    () => undefined,
    () => void stops.push('b'),
  );
  const brokeAt = Date.now();
  aBroken = true;
  await until(() => b.isLeader());
  const took = Date.now() - brokeAt;
  t.true(took >= 500, `waited for the lease (${took} ms)`);
  await until(() => !a.isLeader());
  t.deepEqual(stops, ['a'], 'the old leader stopped its controllers');
  await a.stop();
  await b.stop();
});
