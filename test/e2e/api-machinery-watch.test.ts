// [sig-api-machinery] Watchers: upstream's watch conformance tests on ConfigMaps, with watches
// streamed by `kubectl get --raw ...?watch=1` and writes made by kubectl: label-selected watchers,
// starting and restarting from a resourceVersion, selector exits and re-entries, and several
// concurrent watches seeing the same events in the same order.
import { conformance, type Ctx } from '../conformance/fixture.ts';
import { configMap } from '../conformance/manifests.ts';
import { openWatch, type WatchEvent } from '../conformance/watch.ts';

const it = conformance('watch');
const cmPath = (ns: string) => `/api/v1/namespaces/${ns}/configmaps`;
const LABEL = 'watch-this-configmap';

/** Applies a data mutation through kubectl; returns the new resourceVersion. */
function mutate(c: Ctx, name: string, value: string): string {
  return JSON.parse(c.k.ok(['patch', 'configmap', name, '--type=merge', '-p', JSON.stringify({ data: { mutation: value } }), '-o', 'json'])).metadata
    .resourceVersion;
}
const summary = (es: WatchEvent[]) => es.map((e) => `${e.type}:${e.name}:${e.data?.mutation ?? '-'}`);

it('[sig-api-machinery] Watchers should observe add, update, and delete watch notifications on configmaps [Conformance]', async (t, c) => {
  const [A, B] = ['multiple-watchers-A', 'multiple-watchers-B'];
  const wA = await openWatch(c.env.kubeconfig, cmPath(c.ns), { labelSelector: `${LABEL}=${A}` });
  const wB = await openWatch(c.env.kubeconfig, cmPath(c.ns), { labelSelector: `${LABEL}=${B}` });
  const wAB = await openWatch(c.env.kubeconfig, cmPath(c.ns), { labelSelector: `${LABEL} in (${A},${B})` });
  t.teardown(() => {
    wA.stop();
    wB.stop();
    wAB.stop();
  });

  c.k.create(configMap('e2e-watch-test-configmap-a', {}, { [LABEL]: A }));
  mutate(c, 'e2e-watch-test-configmap-a', '1');
  mutate(c, 'e2e-watch-test-configmap-a', '2');
  c.k.ok(['delete', 'configmap', 'e2e-watch-test-configmap-a']);
  const wantA = [
    'ADDED:e2e-watch-test-configmap-a:-',
    'MODIFIED:e2e-watch-test-configmap-a:1',
    'MODIFIED:e2e-watch-test-configmap-a:2',
    'DELETED:e2e-watch-test-configmap-a:2',
  ];
  t.deepEqual(summary(await wA.next(4)), wantA, 'watcher A');
  t.deepEqual(summary(await wAB.next(4)), wantA, 'watcher A or B');

  c.k.create(configMap('e2e-watch-test-configmap-b', {}, { [LABEL]: B }));
  c.k.ok(['delete', 'configmap', 'e2e-watch-test-configmap-b']);
  const wantB = ['ADDED:e2e-watch-test-configmap-b:-', 'DELETED:e2e-watch-test-configmap-b:-'];
  t.deepEqual(summary(await wB.next(2)), wantB, 'watcher B');
  t.deepEqual(summary(await wAB.next(2)), wantB, 'watcher A or B');
  await wA.quiet(500);
  await wB.quiet(0);
  await wAB.quiet(0);
});

it('[sig-api-machinery] Watchers should be able to start watching from a specific resource version [Conformance]', async (t, c) => {
  const name = 'e2e-watch-test-resource-version';
  c.k.create(configMap(name, {}, { [LABEL]: 'from-resource-version' }));
  const rv1 = mutate(c, name, '1');
  mutate(c, name, '2');
  mutate(c, name, '3');
  c.k.ok(['delete', 'configmap', name]);
  const w = await openWatch(c.env.kubeconfig, cmPath(c.ns), { labelSelector: `${LABEL}=from-resource-version`, resourceVersion: rv1 });
  t.teardown(w.stop);
  t.deepEqual(summary(await w.next(3)), [`MODIFIED:${name}:2`, `MODIFIED:${name}:3`, `DELETED:${name}:3`], 'only what happened after the first update');
  await w.quiet(500);
});

it('[sig-api-machinery] Watchers should be able to restart watching from the last resource version observed by the previous watch [Conformance]', async (t, c) => {
  const name = 'e2e-watch-test-watch-closed';
  const sel = `${LABEL}=watch-closed-and-restarted`;
  const first = await openWatch(c.env.kubeconfig, cmPath(c.ns), { labelSelector: sel });
  c.k.create(configMap(name, {}, { [LABEL]: 'watch-closed-and-restarted' }));
  mutate(c, name, '1');
  const seen = await first.next(2);
  first.stop();
  t.deepEqual(summary(seen), [`ADDED:${name}:-`, `MODIFIED:${name}:1`]);
  mutate(c, name, '2');
  c.k.ok(['delete', 'configmap', name]);
  const second = await openWatch(c.env.kubeconfig, cmPath(c.ns), { labelSelector: sel, resourceVersion: seen[1].rv });
  t.teardown(second.stop);
  t.deepEqual(summary(await second.next(2)), [`MODIFIED:${name}:2`, `DELETED:${name}:2`], 'the restarted watch continues where the first stopped');
  await second.quiet(500);
});

it('[sig-api-machinery] Watchers should observe an object deletion if it stops meeting the requirements of the selector [Conformance]', async (t, c) => {
  const name = 'e2e-watch-test-label-changed';
  const w = await openWatch(c.env.kubeconfig, cmPath(c.ns), { labelSelector: `${LABEL}=label-changed-and-restored` });
  t.teardown(w.stop);
  c.k.create(configMap(name, {}, { [LABEL]: 'label-changed-and-restored' }));
  mutate(c, name, '1');
  c.k.ok(['label', 'configmap', name, `${LABEL}=wrong-value`, '--overwrite']);
  t.deepEqual(summary(await w.next(3)), [`ADDED:${name}:-`, `MODIFIED:${name}:1`, `DELETED:${name}:1`], 'leaving the selector is a DELETED');
  mutate(c, name, '2');
  await w.quiet(1000);
  c.k.ok(['label', 'configmap', name, `${LABEL}=label-changed-and-restored`, '--overwrite']);
  mutate(c, name, '3');
  c.k.ok(['delete', 'configmap', name]);
  t.deepEqual(summary(await w.next(3)), [`ADDED:${name}:2`, `MODIFIED:${name}:3`, `DELETED:${name}:3`], 're-entering is an ADDED with the current state');
});

it('[sig-api-machinery] Watchers should receive events on concurrent watches in same order [Conformance]', async (t, c) => {
  const start = c.k.json<any>(['get', 'configmaps']).metadata.resourceVersion as string; // one start for all three
  const watches = await Promise.all([0, 1, 2].map(() => openWatch(c.env.kubeconfig, cmPath(c.ns), { resourceVersion: start })));
  t.teardown(() => watches.forEach((w) => w.stop()));
  // a mix of creates, updates and deletes over a few objects, through one kubectl each
  const ops: string[][] = [];
  for (let i = 0; i < 8; i++) {
    const n = `cm-${i % 3}`;
    if (i < 3) ops.push(['create', 'configmap', n, `--from-literal=i=${i}`]);
    else if (i < 6) ops.push(['patch', 'configmap', n, '--type=merge', '-p', JSON.stringify({ data: { mutation: String(i) } })]);
    else ops.push(['delete', 'configmap', n]);
  }
  for (const op of ops) c.k.ok(op);
  const seqs = await Promise.all(watches.map((w) => w.next(ops.length)));
  const keys = seqs.map((s) => s.map((e) => `${e.type}:${e.name}@${e.rv}`));
  t.deepEqual(keys[1], keys[0], "watch 2 saw watch 1's order");
  t.deepEqual(keys[2], keys[0], "watch 3 saw watch 1's order");
  const rvs = seqs[0].map((e) => BigInt(e.rv));
  t.true(
    rvs.every((rv, i) => i === 0 || rv > rvs[i - 1]),
    'resourceVersions increase along the stream',
  );
  // a watch started from the middle of the stream sees exactly the rest
  const mid = await openWatch(c.env.kubeconfig, cmPath(c.ns), { resourceVersion: seqs[0][3].rv });
  t.teardown(mid.stop);
  t.deepEqual(
    (await mid.next(ops.length - 4)).map((e) => `${e.type}:${e.name}@${e.rv}`),
    keys[0].slice(4),
  );
});
