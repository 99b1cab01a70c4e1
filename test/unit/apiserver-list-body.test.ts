// Lists sent from stored JSON text: the spliced resourceVersion, the pieces the HTTP writer sends,
// and a raw list through the registry store giving exactly what a decoded list gives.
import test from 'ava';
import { arrayPieces, listBody, listBodyPieces, StoredItems, withResourceVersion } from '../../agents/control-plane/apiserver/list-body.ts';
import { bodyPieces } from '../../agents/control-plane/apiserver/output.ts';
import { sqliteApi } from '../support/sqlite-api.ts';

const decoded = (json: string, rev: number) => {
  const o = JSON.parse(json);
  o.metadata.resourceVersion = String(rev);
  return o;
};

test('withResourceVersion splices the revision into top-level metadata only', (t) => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', labels: { x: 'y' } }, spec: { containers: [] } };
  for (const o of [pod, { metadata: { name: 'b' }, apiVersion: 'v1' }, { kind: 'Namespace', metadata: {} }]) {
    const json = JSON.stringify(o);
    const out = withResourceVersion(json, 42);
    t.truthy(out);
    t.deepEqual(JSON.parse(out!), decoded(json, 42));
  }
  // metadata after a nested one (a template's): not recognised, the caller decodes instead
  t.is(withResourceVersion(JSON.stringify({ spec: { template: { metadata: { name: 'x' } } }, metadata: { name: 'd' } }), 1), undefined);
  t.is(withResourceVersion(JSON.stringify({ apiVersion: 'a\\"b', metadata: {} }), 1), undefined);
  t.is(withResourceVersion('{"apiVersion":"v1","metadata":null}', 1), undefined);
});

test('arrayPieces joins to the JSON array whatever the piece size', (t) => {
  for (const n of [0, 1, 2, 7, 50]) {
    const texts = Array.from({ length: n }, (_, i) => JSON.stringify({ i, s: 'x'.repeat(i % 5) }));
    for (const size of [1, 10, 1000]) {
      const pieces = [...arrayPieces(texts, size)];
      t.deepEqual(
        JSON.parse(pieces.join('')),
        texts.map((x) => JSON.parse(x)),
        `n=${n} size=${size}`,
      );
      if (n > 2 && size === 1) t.true(pieces.length >= n);
    }
  }
});

test('listBody reads like a plain list and sends its texts untouched until items change', (t) => {
  const texts = [{ metadata: { name: 'a', resourceVersion: '1' } }, { metadata: { name: 'b', resourceVersion: '2' } }].map((o) => JSON.stringify(o));
  const head = { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '9' } };
  const plain = { ...head, items: texts.map((x) => JSON.parse(x)) };
  const body = listBody(head, new StoredItems(texts));
  t.deepEqual(JSON.parse([...listBodyPieces(body, 10)!].join('')), plain);
  t.deepEqual(JSON.parse(JSON.stringify(body)), plain);
  t.deepEqual(structuredClone(body), plain);
  t.deepEqual({ ...body }, plain);
  (body as { items: unknown[] }).items = (body.items as unknown[]).slice(1);
  t.deepEqual(JSON.parse([...bodyPieces(body)!].join('')), { ...head, items: [plain.items[1]] });
  t.is(listBodyPieces({ items: [] }), undefined);
});

test('bodyPieces cuts long plain lists and leaves other bodies whole', (t) => {
  const list = { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: {}, items: Array.from({ length: 600 }, (_, i) => ({ i })) };
  t.deepEqual(JSON.parse([...bodyPieces(list)!].join('')), list);
  t.is(bodyPieces({ kind: 'Pod', items: [1] }), undefined);
  t.is(bodyPieces('text'), undefined);
});

test('a raw list through the store equals the decoded list, page by page', async (t) => {
  const { c, handler } = await sqliteApi(t, { pageSize: 3 });
  for (let i = 0; i < 8; i++)
    await c.create('/api/v1/namespaces/default/pods', {
      metadata: { name: `p${i}`, labels: { i: String(i) } },
      spec: { containers: [{ name: 'c', image: 'x' }] },
    });
  const rs = handler.storeFor('pods');
  const whole = await rs.list('default');
  const raw = await rs.list('default', {}, { raw: true });
  t.truthy(raw.stored?.texts);
  t.is(raw.resourceVersion, whole.resourceVersion);
  t.deepEqual(
    raw.stored!.texts!.map((x) => JSON.parse(x)),
    whole.items,
  );
  // pages: the same continue tokens and items
  let cont: string | undefined;
  const names: string[] = [];
  for (let pages = 0; pages < 10; pages++) {
    const a = await rs.list('default', { limit: 3, continue: cont });
    const b = await rs.list('default', { limit: 3, continue: cont }, { raw: true });
    t.is(b.continue, a.continue);
    t.deepEqual(b.items, a.items);
    names.push(...b.items.map((o) => o.metadata.name!));
    cont = b.continue;
    if (!cont) break;
  }
  t.deepEqual(names, ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7']);
  // selectors need the objects: no texts then
  const sel = await rs.list('default', { labels: [{ key: 'i', op: 'in', values: ['3'] }] }, { raw: true });
  t.is(sel.stored, undefined);
  t.deepEqual(
    sel.items.map((o) => o.metadata.name),
    ['p3'],
  );
  // and through the handler, what an in-process client reads is the plain list
  const l = await c.list('/api/v1/namespaces/default/pods');
  t.deepEqual(l.items, whole.items);
});
