// The one informer (agents/api/informer.ts) over an injected transport, as
// kubernetes-client/javascript tests its ListWatch: list then watch from the list's
// resourceVersion, rewatch after a dropped stream, relist on 410 Gone, back-off bounded by its cap,
// resync; and the control plane's loopback facade speaking the same rules.
import test from 'ava';
import { ApiError } from '../../agents/api/errors.ts';
import type { Query, WatchEvent } from '../../agents/api/client.ts';
import { Informer, type ListWatch } from '../../agents/api/informer.ts';

interface Obj {
  metadata: { name: string; namespace?: string; resourceVersion: string };
}
const obj = (name: string, rv: string): Obj => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });
type WatchScript = (emit: (e: WatchEvent<Obj>) => void) => Promise<void>;

/** Scripted lists and watches; a watch with no script left waits until the informer stops. */
function transport(lists: (Obj[] | Error)[], watches: WatchScript[]) {
  const calls: string[] = [];
  let listRv = 0;
  const lw: ListWatch<Obj> = {
    async list(path) {
      const next = lists.shift() ?? [];
      calls.push(`list ${path}`);
      if (next instanceof Error) throw next;
      return { items: next, metadata: { resourceVersion: String(100 + ++listRv) } };
    },
    async watch(_path, query: Query, onEvent, signal) {
      calls.push(`watch rv=${query.resourceVersion}`);
      const script = watches.shift();
      if (script) return script(onEvent);
      await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
    },
  };
  return { lw, calls };
}

function record(inf: Informer<Obj>) {
  const seen: string[] = [];
  inf.on({
    add: (o) => seen.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}`),
    update: (o, old) => seen.push(`update ${o.metadata.name}@${old.metadata.resourceVersion}->${o.metadata.resourceVersion}`),
    delete: (o) => seen.push(`delete ${o.metadata.name}`),
  });
  return seen;
}

const until = async (cond: () => boolean, ms = 2000) => {
  for (const end = Date.now() + ms; !cond() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 2));
};

test("lists, then watches from the list's resourceVersion; events reach the handlers and the cache in order", async (t) => {
  const { lw, calls } = transport(
    [[obj('a', '1'), obj('b', '2')]],
    [
      async (emit) => {
        emit({ type: 'MODIFIED', object: obj('a', '3') });
        emit({ type: 'BOOKMARK', object: obj('', '4') });
        emit({ type: 'DELETED', object: obj('b', '5') });
        emit({ type: 'ADDED', object: obj('c', '6') });
      },
    ],
  );
  const inf = new Informer<Obj>(lw, '/api/v1/pods');
  const seen = record(inf);
  inf.start();
  t.teardown(() => inf.stop());
  await inf.waitForSync();
  await until(() => calls.length >= 3);
  t.deepEqual(seen, ['add a@1', 'add b@2', 'update a@1->3', 'delete b', 'add c@6']);
  t.deepEqual([...inf.cache.keys()].sort(), ['ns/a', 'ns/c']);
  // the stream ended: watch again from the last resourceVersion seen (a bookmark's too), no relist
  t.deepEqual(calls, ['list /api/v1/pods', 'watch rv=101', 'watch rv=6']);
});

test('410 Gone relists at once: vanished objects are deleted, changed ones updated, then it watches from the new list', async (t) => {
  const sleeps: number[] = [];
  const { lw, calls } = transport(
    [[obj('a', '1'), obj('b', '2')], [obj('a', '9')]],
    [
      async (emit) => {
        emit({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } as unknown as Obj });
      },
    ],
  );
  const inf = new Informer<Obj>(lw, '/p', {}, undefined, {
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  const seen = record(inf);
  inf.start();
  t.teardown(() => inf.stop());
  await until(() => calls.length >= 4);
  t.deepEqual(calls, ['list /p', 'watch rv=101', 'list /p', 'watch rv=102']);
  t.deepEqual(seen, ['add a@1', 'add b@2', 'update a@1->9', 'delete b']);
  t.deepEqual(sleeps, [], 'the first 410 does not wait');
});

test('failures back off exponentially up to the cap; a network error rewatches, an API error relists; success resets', async (t) => {
  const sleeps: number[] = [];
  const fail =
    (e: Error): WatchScript =>
    async () => {
      throw e;
    };
  const net = new Error('socket hang up');
  const { lw, calls } = transport(
    [[obj('a', '1')], [obj('a', '1')]],
    [fail(net), fail(net), fail(net), fail(net), fail(new ApiError(500, 'InternalError', 'boom')), async () => undefined, fail(net)],
  );
  const inf = new Informer<Obj>(lw, '/p', {}, undefined, {
    backoff: { baseMs: 1, maxMs: 8 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  inf.start();
  t.teardown(() => inf.stop());
  await until(() => calls.length >= 10);
  t.deepEqual(sleeps, [2, 4, 8, 8, 8, 2], 'doubling, capped at 8, back to the base after a watch that ended cleanly');
  t.deepEqual(calls, [
    'list /p',
    'watch rv=101',
    'watch rv=101',
    'watch rv=101',
    'watch rv=101',
    'watch rv=101',
    'list /p',
    'watch rv=102',
    'watch rv=102',
    'watch rv=102',
  ]);
});

test('a list failure is retried with back-off until it succeeds; the informer is synced only then', async (t) => {
  const sleeps: number[] = [];
  const { lw } = transport([new Error('connection refused'), new ApiError(503, 'ServiceUnavailable', 'starting'), [obj('a', '1')]], []);
  const inf = new Informer<Obj>(lw, '/p', {}, undefined, {
    backoff: { baseMs: 1, maxMs: 100 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  inf.start();
  t.teardown(() => inf.stop());
  await inf.waitForSync();
  t.deepEqual(sleeps, [2, 4]);
  t.truthy(inf.get('ns/a'));
});

test('resync hands every cached object to update(o, o) each period; stop ends it', async (t) => {
  const { lw } = transport([[obj('a', '1'), obj('b', '2')]], []);
  const inf = new Informer<Obj>(lw, '/p', {}, undefined, { resyncMs: 15 });
  const seen = record(inf);
  inf.start();
  await inf.waitForSync();
  await until(() => seen.length >= 6);
  inf.stop();
  const n = seen.length;
  t.deepEqual(seen.slice(2, 6), ['update a@1->1', 'update b@2->2', 'update a@1->1', 'update b@2->2']);
  await new Promise((r) => setTimeout(r, 50));
  t.is(seen.length, n, 'no resync after stop');
});

test('a handler that throws does not stop the others or the informer', async (t) => {
  const { lw } = transport([[obj('a', '1')]], []);
  const inf = new Informer<Obj>(lw, '/p');
  inf.on({
    add: () => {
      throw new Error('handler bug');
    },
  });
  const seen = record(inf);
  inf.start();
  t.teardown(() => inf.stop());
  await inf.waitForSync();
  t.deepEqual(seen, ['add a@1']);
});
