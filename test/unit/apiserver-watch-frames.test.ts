// frameFor: what a store event becomes for one watcher, with and without selectors; a watcher
// that takes everything must get the same frames without decoding previous values of puts.
import test from 'ava';
import { frameFor } from '../../agents/control-plane/apiserver/watch.ts';
import type { Obj } from '../../agents/control-plane/apiserver/strategies/types.ts';
import type { KeyValue, WatchEvent } from '../../agents/control-plane/storage/types.ts';

const kv = (name: string, app: string, rev: number): KeyValue => ({
  key: `/registry/pods/ns/${name}`,
  value: JSON.stringify({ metadata: { name, labels: { app } } }),
  createRevision: 1,
  modRevision: rev,
});

function counting() {
  let n = 0;
  const decode = (k: KeyValue): Obj => {
    n++;
    const o = JSON.parse(k.value) as Obj;
    o.metadata.resourceVersion = String(k.modRevision);
    return o;
  };
  return { decode, decoded: () => n };
}

const all = () => true;
const web = (o: Obj) => o.metadata.labels?.app === 'web';

const events: WatchEvent[] = [
  { type: 'put', kv: kv('a', 'web', 2), revision: 2 },
  { type: 'put', kv: kv('a', 'db', 3), prev: kv('a', 'web', 2), revision: 3 },
  { type: 'put', kv: kv('a', 'web', 4), prev: kv('a', 'db', 3), revision: 4 },
  { type: 'delete', kv: { ...kv('a', 'web', 4), modRevision: 5 }, prev: kv('a', 'web', 4), revision: 5 },
];

test("a watcher of everything: ADDED, MODIFIED, DELETED, and no decode of a put's previous value", (t) => {
  const c = counting();
  const frames = events.map((e) => frameFor(e, c.decode, all, true));
  t.deepEqual(
    frames.map((f) => f?.type),
    ['ADDED', 'MODIFIED', 'MODIFIED', 'DELETED'],
  );
  t.is(c.decoded(), 4, 'one decode per event');
  t.is((frames[3]!.object as Obj).metadata.resourceVersion, '5');
  // the same frames as the general path
  const g = counting();
  t.deepEqual(
    events.map((e) => frameFor(e, g.decode, all)),
    frames,
  );
  t.true(g.decoded() > c.decoded());
});

test('a selector turns leaving and entering into DELETED and ADDED', (t) => {
  const c = counting();
  t.deepEqual(
    events.map((e) => frameFor(e, c.decode, web)?.type),
    ['ADDED', 'DELETED', 'ADDED', 'DELETED'],
  );
});
