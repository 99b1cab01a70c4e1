// [sig-apps] DisruptionController conformance tests, mirrored from upstream's
// test/e2e/apps/disruption.go with the same steps and checks: the PodDisruptionBudget API (create,
// update, patch, list across namespaces, DeleteCollection, status update and patch), the
// controller's status, and an eviction blocked until the budget allows it (429 with the
// DisruptionBudget cause). upstream's pause pods are the lab's pause image.
import { conformance, type Ctx, type Kube, until } from '../conformance/fixture.ts';
import { collectionPath, getRaw, isReady, type Obj, podsOf, putRaw } from './helpers/apps-e2e.ts';

const it = conformance('disruption', { timeoutMs: 240_000 });
const LABELS = { foo: 'bar' };
const pdbPath = (ns: string, name = '') => `${collectionPath('policy/v1', ns, 'poddisruptionbudgets')}${name ? `/${name}` : ''}`;

/** upstream's waitForPdbToBeProcessed: the controller has seen the current spec. */
const processed = (k: Kube, ns: string, name: string) =>
  until(
    `pdb ${name} processed`,
    () => {
      const p = getRaw(k, pdbPath(ns, name));
      return (p.status?.observedGeneration ?? 0) >= p.metadata.generation && p;
    },
    60_000,
  );

/** upstream's createPDBMinAvailableOrDie / createPDBMaxUnavailableOrDie. */
async function createPdb(
  k: Kube,
  ns: string,
  name: string,
  limit: { minAvailable: number | string } | { maxUnavailable: number | string },
  labels?: Record<string, string>,
): Promise<Obj> {
  k.ok(
    ['create', '-n', ns, '-f', '-'],
    JSON.stringify({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name, ...(labels ? { labels } : {}) },
      spec: { selector: { matchLabels: LABELS }, ...limit },
    }),
  );
  return processed(k, ns, name);
}

/** upstream's updatePDBOrDie: get, change, PUT (to /status when asked), then wait for the controller. */
async function updatePdb(c: Ctx, name: string, change: (p: Obj) => void, sub = ''): Promise<Obj> {
  const p = getRaw(c.k, pdbPath(c.ns, name));
  change(p);
  const updated = putRaw(c.k, `${pdbPath(c.ns, name)}${sub}`, p);
  await processed(c.k, c.ns, name);
  return updated;
}

const mergePatch = (c: Ctx, name: string, body: unknown, sub?: string): Obj =>
  JSON.parse(c.k.ok(['patch', 'pdb', name, '--type=merge', '-p', JSON.stringify(body), '-o', 'json', ...(sub ? [`--subresource=${sub}`] : [])]));

/** upstream's createPodsOrDie: n pause pods labelled foo=bar. */
function createPods(c: Ctx, n: number): void {
  c.k.create(
    ...Array.from({ length: n }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `pod-${i}`, labels: LABELS },
      spec: { containers: [{ name: 'donothing', image: c.env.altImage }] },
    })),
  );
}

/** upstream's waitForPodsOrDie: n pods of foo=bar Ready and not being deleted. */
const waitForPods = (c: Ctx, n: number) => until(`${n} Ready pods`, () => podsOf(c.k, 'foo=bar').filter(isReady).length >= n, 180_000);
const locateRunningPod = (c: Ctx) => until('a running pod', () => podsOf(c.k, 'foo=bar').find(isReady), 180_000);

/** POST pods/<name>/eviction; kubectl -v=8 logs the answer's body, so the Status cause is visible. */
function evict(c: Ctx, pod: string): { code: number; out: string } {
  const r = c.kc.run(
    ['create', '--raw', `${collectionPath('v1', c.ns, 'pods')}/${pod}/eviction`, '-f', '-', '-v=8'],
    JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: c.ns } }),
  );
  return { code: r.code, out: r.stderr + r.stdout };
}
const refusedByBudget = (r: { code: number; out: string }) =>
  r.code !== 0 && /"reason":"DisruptionBudget"/.test(r.out) && /Cannot evict pod as it would violate the pod's disruption budget\./.test(r.out);

it('[sig-apps] DisruptionController Listing PodDisruptionBudgets for all namespaces should list and delete a collection of PodDisruptionBudgets [Conformance]', async (t, c) => {
  const other = `${c.ns}-2`;
  c.kc.ok(['create', 'namespace', other]);
  t.teardown(() => {
    c.kc.run(['delete', 'namespace', other, '--wait=false']);
  });
  const special = { foo_pdb: 'bar_pdb' };
  await createPdb(c.kc, c.ns, 'foo', { minAvailable: 2 }, special);
  await createPdb(c.kc, c.ns, 'foo2', { minAvailable: '1%' }, special);
  await createPdb(c.kc, other, 'foo3', { minAvailable: 2 }, special);
  const names = (l: Obj) => (l.items as Obj[]).map((p) => p.metadata.name).sort();
  t.deepEqual(names(getRaw(c.kc, '/apis/policy/v1/poddisruptionbudgets?labelSelector=foo_pdb%3Dbar_pdb')), ['foo', 'foo2', 'foo3'], 'across all namespaces');
  t.deepEqual(names(getRaw(c.kc, `${pdbPath(c.ns)}?labelSelector=foo_pdb%3Dbar_pdb`)), ['foo', 'foo2'], `in ${c.ns}`);
  c.kc.ok(['delete', '--raw', pdbPath(c.ns)]);
  await until('the collection deleted', () => getRaw(c.kc, pdbPath(c.ns)).items.length === 0, 60_000);
  t.is(getRaw(c.kc, pdbPath(other)).items.length, 1, 'the other namespace keeps its budget');
});

it('[sig-apps] DisruptionController should create a PodDisruptionBudget [Conformance]', async (t, c) => {
  await createPdb(c.kc, c.ns, 'foo', { minAvailable: '1%' }, LABELS);
  const updated = await updatePdb(c, 'foo', (p) => {
    p.spec.minAvailable = '2%';
  });
  t.is(updated.spec.minAvailable, '2%');
  const patched = mergePatch(c, 'foo', { spec: { minAvailable: '3%' } });
  await processed(c.k, c.ns, 'foo');
  t.is(patched.spec.minAvailable, '3%');
  c.k.ok(['delete', 'pdb', 'foo']);
  await until('the pdb deleted', () => c.k.get('pdb', 'foo') === undefined, 60_000);
});

it('[sig-apps] DisruptionController should observe PodDisruptionBudget status updated [Conformance]', async (t, c) => {
  await createPdb(c.kc, c.ns, 'foo', { minAvailable: 1 }, LABELS);
  createPods(c, 3);
  await waitForPods(c, 3);
  // disruptionsAllowed starts at 0: seeing it positive means the controller works
  const p = await until(
    'disruptionsAllowed > 0',
    () => {
      const o = getRaw(c.k, pdbPath(c.ns, 'foo'));
      return o.status?.disruptionsAllowed > 0 && o;
    },
    60_000,
  );
  t.true(p.status.disruptionsAllowed > 0);
});

it('[sig-apps] DisruptionController should update/patch PodDisruptionBudget status [Conformance]', async (t, c) => {
  await createPdb(c.kc, c.ns, 'foo', { minAvailable: 1 }, LABELS);
  // the pod must exist, or the controller drops it from disruptedPods
  createPods(c, 1);
  await waitForPods(c, 1);
  const pod = await locateRunningPod(c);
  await updatePdb(
    c,
    'foo',
    (p) => {
      p.status.disruptedPods = { [pod.metadata.name]: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
    },
    '/status',
  );
  const updated = getRaw(c.k, `${pdbPath(c.ns, 'foo')}/status`);
  t.true(Object.hasOwn(updated.status.disruptedPods ?? {}, pod.metadata.name), 'the status update is effective');
  const patched = mergePatch(c, 'foo', { status: { disruptedPods: null } }, 'status');
  t.deepEqual(patched.status.disruptedPods ?? {}, {}, 'the status patch emptied disruptedPods');
});

it('[sig-apps] DisruptionController should block an eviction until the PDB is updated to allow it [Conformance]', async (t, c) => {
  await createPdb(c.kc, c.ns, 'foo', { minAvailable: 3 }, LABELS);
  c.k.create({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'rs' },
    spec: {
      replicas: 3,
      selector: { matchLabels: LABELS },
      template: { metadata: { labels: LABELS }, spec: { containers: [{ name: 'donothing', image: c.env.altImage }] } },
    },
  });
  await waitForPods(c, 3);
  let pod = await locateRunningPod(c);
  const first = evict(c, pod.metadata.name);
  t.true(refusedByBudget(first), `the eviction is refused with the DisruptionBudget cause: ${first.out.slice(-600)}`);

  await updatePdb(c, 'foo', (p) => {
    p.spec.minAvailable = 2;
  });
  await waitForPods(c, 3);
  await until(
    'the pdb observes 3 healthy of 2 desired',
    () => {
      const s = getRaw(c.k, pdbPath(c.ns, 'foo')).status;
      return s.currentHealthy === 3 && s.desiredHealthy === 2;
    },
    60_000,
  );
  const allowed = evict(c, pod.metadata.name);
  t.is(allowed.code, 0, `the eviction is now allowed: ${allowed.out.slice(-600)}`);

  mergePatch(c, 'foo', { spec: { minAvailable: null, maxUnavailable: 0 } });
  await processed(c.k, c.ns, 'foo');
  await waitForPods(c, 3);
  pod = await locateRunningPod(c);
  const again = evict(c, pod.metadata.name);
  t.true(refusedByBudget(again), `maxUnavailable 0 refuses it: ${again.out.slice(-600)}`);

  c.k.ok(['delete', 'pdb', 'foo']);
  await until('the pdb deleted', () => c.k.get('pdb', 'foo') === undefined, 60_000);
  await waitForPods(c, 3);
  t.is(evict(c, pod.metadata.name).code, 0, 'without the pdb the eviction is allowed');
});
