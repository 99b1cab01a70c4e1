// PodDisruptionBudget (policy/v1, issue 19) through the real API server, its in-process disruption
// controller and kubectl v1.35: upstream's validation (422 naming the field), the status the
// controller computes (percentages round up against the owning controller's replicas), the
// eviction subresource's 429 with the DisruptionBudget cause, and `kubectl drain` waiting on a
// budget and finishing once it allows. No kubelet runs: the test marks pods Running and Ready.
import test from 'ava';
import { type Cluster, readyNode, until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { rawClient, type Send } from './_raw-client.ts';

let c: Cluster;
let send: Send & { close(): void };
fileCluster(async (cluster, own) => {
  c = cluster;
  send = own(rawClient(c.admin));
  for (const [n, ip] of [
    ['pdb-n1', '10.9.0.1'],
    ['pdb-n2', '10.9.0.2'],
  ])
    await post('/api/v1/nodes', readyNode(n, ip));
});

const JSON_CT = { 'content-type': 'application/json' };
const post = (path: string, body: unknown) => send({ method: 'POST', path, headers: JSON_CT, body: JSON.stringify(body) });
const mergePatch = (path: string, body: unknown) =>
  send({ method: 'PATCH', path, headers: { 'content-type': 'application/merge-patch+json' }, body: JSON.stringify(body) });
const pdbPath = (ns: string, name = '') => `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets${name ? `/${name}` : ''}`;
const podPath = (ns: string, name = '') => `/api/v1/namespaces/${ns}/pods${name ? `/${name}` : ''}`;
const pdb = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name }, spec });
const causes = (r: { json?: Record<string, any> }) =>
  (r.json?.details?.causes ?? []).map((x: { field: string; message: string }) => `${x.field}: ${x.message}`);

async function namespace(name: string): Promise<string> {
  const r = await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  if (r.status !== 201) throw new Error(`namespace ${name}: ${r.text}`);
  return name;
}

/** A pod bound to a node, then marked Running and Ready as its kubelet would. */
async function readyPod(ns: string, name: string, node: string, labels: Record<string, string>): Promise<void> {
  const r = await post(podPath(ns), {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'x' }] },
  });
  if (r.status !== 201) throw new Error(`pod ${name}: ${r.text}`);
  await markReady(ns, name);
}

async function markReady(ns: string, name: string): Promise<void> {
  const r = await mergePatch(`${podPath(ns, name)}/status`, { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
  if (r.status !== 200) throw new Error(`pod ${name} status: ${r.text}`);
}

const statusOf = async (ns: string, name: string) => (await send({ path: pdbPath(ns, name) })).json?.status ?? {};
const evict = (ns: string, pod: string) =>
  post(`${podPath(ns, pod)}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: ns } });

test.serial('each invalid spec is a 422 Invalid whose causes name the field, with upstream wording', async (t) => {
  const ns = await namespace('pdb-invalid');
  const cases: [Record<string, unknown>, string[]][] = [
    [
      { minAvailable: 1, maxUnavailable: 1, selector: {} },
      ['spec: Invalid value: {"minAvailable":1,"maxUnavailable":1,"selector":{}}: minAvailable and maxUnavailable cannot be both set'],
    ],
    [{ minAvailable: -1 }, ['spec.minAvailable: Invalid value: -1: must be greater than or equal to 0']],
    [
      { maxUnavailable: 'ten' },
      [
        "spec.maxUnavailable: Invalid value: \"ten\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      ],
    ],
    [{ minAvailable: '101%' }, ['spec.minAvailable: Invalid value: "101%": must not be greater than 100%']],
    [
      { minAvailable: 1, unhealthyPodEvictionPolicy: 'Sometimes' },
      ['spec.unhealthyPodEvictionPolicy: Unsupported value: "Sometimes": supported values: "AlwaysAllow", "IfHealthyBudget"'],
    ],
    [
      { minAvailable: 1, selector: { matchExpressions: [{ key: 'app', operator: 'In' }] } },
      ["spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"],
    ],
  ];
  for (const [i, [spec, want]] of cases.entries()) {
    const r = await post(pdbPath(ns), pdb(`bad-${i}`, spec));
    t.is(r.status, 422, JSON.stringify(spec));
    t.is(r.json?.reason, 'Invalid');
    t.deepEqual(causes(r), want);
    t.regex(r.json?.message ?? '', new RegExp(`^PodDisruptionBudget.policy "bad-${i}" is invalid: `));
  }
  const made = await post(pdbPath(ns), {
    ...pdb('good', { minAvailable: '100%', selector: { matchLabels: { app: 'x' } } }),
    status: { disruptionsAllowed: 9 },
  });
  t.is(made.status, 201);
  t.deepEqual(made.json?.status, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 }, "status is the server's on create");
  const neg = await mergePatch(`${pdbPath(ns, 'good')}/status`, { status: { disruptionsAllowed: -1 } });
  t.is(neg.status, 422);
  t.deepEqual(causes(neg), ['status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0']);
  const table = await c.ok(['get', 'pdb', '-n', ns]);
  t.regex(table, /NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\ngood\s+100%\s+N\/A\s+0\s+/);
});

test.serial("the controller fills the status: minAvailable counts ready pods, percentages round up against the ReplicaSet's replicas", async (t) => {
  const ns = await namespace('pdb-status');
  for (const [i, node] of ['pdb-n1', 'pdb-n1', 'pdb-n2'].entries()) await readyPod(ns, `web-${i}`, node, { app: 'web' });
  await post(pdbPath(ns), pdb('web', { minAvailable: 2, selector: { matchLabels: { app: 'web' } } }));
  const st = await until('the web budget synced', async () => {
    const s = await statusOf(ns, 'web');
    return s.observedGeneration === 1 && s;
  });
  t.like(st, { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, observedGeneration: 1 });
  t.like(st.conditions?.[0], { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 1 });

  // 3 replicas: 50% to keep is 2 (1.5 rounded up), 50% to lose is 2 (so 1 to keep)
  const rs = await post(`/apis/apps/v1/namespaces/${ns}/replicasets`, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'api' },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'api' } },
      template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
    },
  });
  t.is(rs.status, 201);
  const pods = await until('3 api pods', async () => {
    const l = (await send({ path: `${podPath(ns)}?labelSelector=app%3Dapi` })).json?.items ?? [];
    return l.length === 3 && l;
  });
  for (const p of pods) await markReady(ns, p.metadata.name);
  await post(pdbPath(ns), pdb('keep-half', { minAvailable: '50%', selector: { matchLabels: { app: 'api' } } }));
  await post(pdbPath(ns), pdb('lose-half', { maxUnavailable: '50%', selector: { matchLabels: { app: 'api' } } }));
  const keep = await until('keep-half synced', async () => {
    const s = await statusOf(ns, 'keep-half');
    return s.currentHealthy === 3 && s;
  });
  t.like(keep, { desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1 });
  const lose = await until('lose-half synced', async () => {
    const s = await statusOf(ns, 'lose-half');
    return s.currentHealthy === 3 && s;
  });
  t.like(lose, { desiredHealthy: 1, expectedPods: 3, disruptionsAllowed: 2 });

  // a percentage over pods no controller owns cannot be worked out: no disruption allowed
  await post(pdbPath(ns), pdb('orphans', { maxUnavailable: '10%', selector: { matchLabels: { app: 'web' } } }));
  const web = await until('orphans budget synced', async () => {
    const s = await statusOf(ns, 'orphans');
    return s.observedGeneration === 1 && s;
  });
  t.like(web, { expectedPods: 0, disruptionsAllowed: 0 });
});

test.serial('an eviction a budget forbids is a 429 with the DisruptionBudget cause; an allowed one takes a disruption and marks the pod', async (t) => {
  const ns = await namespace('pdb-evict');
  for (const [i, node] of ['pdb-n1', 'pdb-n2'].entries()) await readyPod(ns, `db-${i}`, node, { app: 'db' });
  await post(pdbPath(ns), pdb('db', { minAvailable: 2, selector: { matchLabels: { app: 'db' } } }));
  await until('db budget synced', async () => (await statusOf(ns, 'db')).currentHealthy === 2);
  const refused = await evict(ns, 'db-0');
  t.is(refused.status, 429);
  t.like(refused.json, {
    kind: 'Status',
    status: 'Failure',
    reason: 'TooManyRequests',
    code: 429,
    message: "Cannot evict pod as it would violate the pod's disruption budget.",
  });
  t.deepEqual(refused.json?.details, {
    causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget db needs 2 healthy pods and has 2 currently' }],
  });
  t.falsy((await send({ path: podPath(ns, 'db-0') })).json?.metadata.deletionTimestamp, 'the pod stays');

  t.is((await mergePatch(pdbPath(ns, 'db'), { spec: { minAvailable: 1 } })).status, 200);
  await until('db budget allows one', async () => {
    const s = await statusOf(ns, 'db');
    return s.observedGeneration === 2 && s.disruptionsAllowed === 1;
  });
  const dry = await send({
    method: 'POST',
    path: `${podPath(ns, 'db-0')}/eviction?dryRun=All`,
    headers: JSON_CT,
    body: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'db-0' } }),
  });
  t.is(dry.status, 201);
  t.is((await statusOf(ns, 'db')).disruptionsAllowed, 1, 'a dry run takes nothing');
  const done = await evict(ns, 'db-0');
  t.is(done.status, 201);
  t.like(done.json, { kind: 'Status', status: 'Success' });
  const after = await statusOf(ns, 'db');
  t.true(Object.hasOwn(after.disruptedPods ?? {}, 'db-0') || after.currentHealthy === 1, JSON.stringify(after));
  const pod = (await send({ path: podPath(ns, 'db-0') })).json;
  t.truthy(pod?.metadata.deletionTimestamp, 'a bound pod is deleted gracefully');
  t.like(
    pod?.status.conditions.find((x: { type: string }) => x.type === 'DisruptionTarget'),
    { status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' },
  );
  const second = await evict(ns, 'db-1');
  t.is(second.status, 429, 'the budget is spent: the pod being evicted no longer counts as healthy');
});

test.serial('kubectl drain waits on a budget of minAvailable = replicas, retrying, and finishes once the budget allows', async (t) => {
  const ns = await namespace('pdb-drain');
  for (const [i, node] of ['pdb-n1', 'pdb-n1', 'pdb-n2'].entries()) await readyPod(ns, `app-${i}`, node, { app: 'app' });
  await post(pdbPath(ns), pdb('app', { minAvailable: 3, selector: { matchLabels: { app: 'app' } } }));
  await until('app budget synced', async () => (await statusOf(ns, 'app')).currentHealthy === 3);
  const started = Date.now();
  const drain = c.kubectl(['drain', 'pdb-n1', '--force', '--grace-period=0', '--timeout=90s', '--pod-selector=app=app'], { timeoutMs: 120_000 });
  let finished = false;
  void drain.then(() => (finished = true));
  // kubectl retries a refused eviction every 5 s: let it be refused twice
  await new Promise((r) => setTimeout(r, 7_000));
  t.false(finished, 'drain is still waiting on the budget');
  const stillThere = (await send({ path: `${podPath(ns)}?fieldSelector=spec.nodeName%3Dpdb-n1` })).json?.items ?? [];
  t.is(stillThere.length, 2, 'no pod left the node while the budget forbade it');
  t.is((await mergePatch(pdbPath(ns, 'app'), { spec: { minAvailable: 1 } })).status, 200);
  const out = await drain;
  t.is(out.code, 0, out.stderr);
  t.true(Date.now() - started > 7_000);
  t.regex(
    out.stderr + out.stdout,
    new RegExp(`error when evicting pods/"app-[01]" -n "${ns}" \\(will retry after 5s\\): Cannot evict pod as it would violate the pod's disruption budget\\.`),
  );
  t.regex(out.stdout, /node\/pdb-n1 drained/);
  const left = (await send({ path: `${podPath(ns)}?fieldSelector=spec.nodeName%3Dpdb-n1` })).json?.items ?? [];
  t.deepEqual(left, [], 'both pods evicted');
  t.true((await send({ path: '/api/v1/nodes/pdb-n1' })).json?.spec.unschedulable, 'the node is cordoned');
});

test.serial('kubectl create pdb (a protobuf body) stores the budget as sent', async (t) => {
  const ns = await namespace('pdb-create');
  await c.ok(['create', 'pdb', 'web', '-n', ns, '--selector=app=web', '--min-available=50%']);
  await c.ok(['create', 'pdb', 'api', '-n', ns, '--selector=app=api', '--max-unavailable=1']);
  const web = (await send({ path: pdbPath(ns, 'web') })).json;
  t.deepEqual(web?.spec, { minAvailable: '50%', selector: { matchLabels: { app: 'web' } } });
  t.deepEqual((await send({ path: pdbPath(ns, 'api') })).json?.spec, { maxUnavailable: 1, selector: { matchLabels: { app: 'api' } } });
});
