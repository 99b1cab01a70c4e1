// Issue 24's fuzz suite: seeded, time-bounded property tests (fast-check) that send random and
// adversarial bodies, patches of all four types, paths, query strings and headers to a real
// in-process API server as a cluster admin, a user with no rights and a node credential, and after
// EVERY request assert: no 5xx, Object.prototype unchanged, /readyz answers within 1 s, and a
// refused write stored nothing. Reproduce a run with HAWSER_FUZZ_SEED=<seed printed in the log>;
// HAWSER_FUZZ_MS sets the time budget per backend (default 60 s on SQLite, 20 s on etcd).
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { etcdAvailable } from '../support/etcd-server.ts';
import { type Cluster, readyNode, startCluster } from './_apiserver-kit.ts';
import { rawClient, type Send } from './_raw-client.ts';
import {
  bodyCase,
  subresourceCase,
  described,
  describe as describeCase,
  fixture,
  type FuzzCase,
  headerCase,
  KINDS,
  NODE,
  NS,
  patchCase,
  pathCase,
  queryCase,
  type Who,
} from './_fuzz-arbitraries.ts';

const SEED = Number(process.env.HAWSER_FUZZ_SEED ?? 24_2026);
const BUDGET_MS = Number(process.env.HAWSER_FUZZ_MS ?? 60_000);

type Clients = Record<Who, Send & { close(): void }>;

/** Own properties (and their values) of the prototypes a polluting key would reach. */
const PROTOS: [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
];
const snapshot = () => new Map(PROTOS.map(([n, p]) => [n, new Map(Reflect.ownKeys(p).map((k) => [k, Object.getOwnPropertyDescriptor(p, k)?.value]))]));

/** What changed on the prototypes since the snapshot (and puts them back, so the next case runs clean). */
function pollution(before: ReturnType<typeof snapshot>): string[] {
  const out: string[] = [];
  for (const [name, proto] of PROTOS) {
    const was = before.get(name)!;
    const rec = proto as Record<PropertyKey, unknown>;
    for (const k of Reflect.ownKeys(proto)) {
      if (!was.has(k)) {
        out.push(`${name}.${String(k)} added`);
        delete rec[k];
      } else if (Object.getOwnPropertyDescriptor(proto, k)?.value !== was.get(k)) {
        out.push(`${name}.${String(k)} changed`);
        rec[k] = was.get(k);
      }
    }
  }
  const probe: Record<string, unknown> = {};
  for (const p of ['polluted', 'resources', 'apiGroups', 'verbs', 'nonResourceURLs']) if (probe[p] !== undefined) out.push(`({}).${p} is set`);
  return out;
}

type Fingerprint = Map<string, { fp: string; deleting: boolean }>;

/** The objects of some fuzz kinds (all if none named) in the fuzz namespace, less what controllers change on their own. */
async function fingerprint(admin: Send, plural?: string): Promise<Fingerprint> {
  const out: Fingerprint = new Map();
  for (const k of KINDS.filter((x) => !plural || x.plural === plural)) {
    const r = await admin({ path: `${k.prefix}/namespaces/${NS}/${k.plural}` });
    if (r.status !== 200) throw new Error(`fingerprint list ${k.plural}: ${r.status} ${r.text.slice(0, 300)}`);
    for (const o of r.json?.items ?? []) {
      // objects made by controllers (ReplicaSets' pods) come and go by themselves
      if (o.metadata.ownerReferences?.length) continue;
      const { resourceVersion: _rv, managedFields: _mf, annotations, ...meta } = o.metadata;
      const { 'deployment.kubernetes.io/revision': _rev, ...ann } = annotations ?? {};
      // the scheduler binds a pending pod on its own (spec.nodeName) whenever a node suits it
      const spec = k.plural === 'pods' && o.spec ? { ...o.spec, nodeName: undefined } : o.spec;
      out.set(`${k.plural}/${o.metadata.name}`, {
        fp: JSON.stringify({ ...o, spec, status: undefined, metadata: { ...meta, annotations: ann } }),
        deleting: !!o.metadata.deletionTimestamp,
      });
    }
  }
  return out;
}

function storedChanges(before: Fingerprint, after: Fingerprint): string[] {
  const out: string[] = [];
  for (const [k, v] of after) {
    const b = before.get(k);
    if (!b) out.push(`${k} created`);
    else if (b.fp !== v.fp && !b.deleting) out.push(`${k} changed`);
  }
  for (const [k, b] of before) if (!after.has(k) && !b.deleting) out.push(`${k} removed`);
  return out;
}

interface Tally {
  /** the last fingerprint taken per kind, still current unless a write succeeded since */
  known: Map<string, Fingerprint>;
  cases: number;
  byWho: Record<Who, number>;
  byStatus: Map<number, number>;
}

/** Sends one case and runs every check; throws (for fast-check to shrink) on the first violation. */
async function runCase(clients: Clients, c: FuzzCase, tally: Tally, protos: ReturnType<typeof snapshot>): Promise<void> {
  const write = !['GET', 'HEAD', 'OPTIONS'].includes(c.method);
  // node writes land outside the fuzz namespace (its Node): compare all fuzz kinds then
  const scope = c.kind && c.kind !== 'nodes' ? c.kind : 'all';
  const before = write ? (tally.known.get(scope) ?? (await fingerprint(clients.admin, scope === 'all' ? undefined : scope))) : undefined;
  const r = await clients[c.who]({ method: c.method, path: c.path, headers: c.headers, body: c.body, timeoutMs: 10_000 }).catch((e: Error) => {
    throw new Error(`no answer: ${e.message}`);
  });
  tally.cases++;
  tally.byWho[c.who]++;
  tally.byStatus.set(r.status, (tally.byStatus.get(r.status) ?? 0) + 1);
  const polluted = pollution(protos);
  if (polluted.length) throw new Error(`prototype pollution: ${polluted.join(', ')}`);
  // (skipped: the pollution, undone above, also made this case's answer a 500)
  if (r.status >= 500) throw new Error(`${r.status}: ${r.text.slice(0, 500)}`);
  const t0 = performance.now();
  const ready = await clients.admin({ path: '/readyz', timeoutMs: 1_000 }).catch((e: Error) => ({ status: 0, text: e.message }));
  const ms = performance.now() - t0;
  if (ready.status !== 200 || ms > 1_000) throw new Error(`/readyz after the case: ${ready.status} in ${ms.toFixed(0)} ms (${ready.text.slice(0, 200)})`);
  if (!before) return;
  tally.known.clear();
  if (r.status >= 400) {
    const after = await fingerprint(clients.admin, scope === 'all' ? undefined : scope);
    const changed = storedChanges(before, after);
    if (changed.length) throw new Error(`a ${r.status} write stored something: ${changed.join(', ')}`);
    tally.known.set(scope, after);
  }
}

async function setUp(backend: 'sqlite' | 'etcd'): Promise<{ c: Cluster; clients: Clients }> {
  const c = await startCluster(backend);
  const clients: Clients = {
    admin: rawClient(c.admin),
    user: rawClient(await c.identity('fz-user', ['fz-group'])),
    node: rawClient(await c.identity(`system:node:${NODE}`, ['system:nodes'])),
  };
  const post = async (path: string, obj: unknown) => {
    const r = await clients.admin({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(obj) });
    if (r.status !== 201) throw new Error(`fixture ${path}: ${r.status} ${r.text}`);
  };
  await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await post('/api/v1/nodes', readyNode(NODE, '127.0.0.2'));
  for (const k of KINDS) await post(`${k.prefix}/namespaces/${NS}/${k.plural}`, fixture(k));
  // The namespace controller adds the default ServiceAccount and kube-root-ca.crt on its own
  // time; wait for both, or the first case's "nothing stored" check sees them appear (it did, on etcd).
  for (const path of [`/api/v1/namespaces/${NS}/serviceaccounts/default`, `/api/v1/namespaces/${NS}/configmaps/kube-root-ca.crt`]) {
    const until = Date.now() + 30_000;
    while ((await clients.admin({ path })).status !== 200) {
      if (Date.now() > until) throw new Error(`fixture: ${path} never appeared`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { c, clients };
}

async function tearDown(s: { c: Cluster; clients: Clients } | undefined): Promise<void> {
  for (const cl of Object.values(s?.clients ?? {})) cl.close();
  await s?.c.close();
}

const newTally = (): Tally => ({ known: new Map(), cases: 0, byWho: { admin: 0, user: 0, node: 0 }, byStatus: new Map() });
const summary = (t: Tally) =>
  `${t.cases} cases (admin ${t.byWho.admin}, user ${t.byWho.user}, node ${t.byWho.node}); statuses ${[...t.byStatus]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s}:${n}`)
    .join(' ')}`;

const FAMILIES: [string, fc.Arbitrary<FuzzCase>, number][] = [
  ['bodies', bodyCase, 0.2],
  ['subresources', subresourceCase, 0.1],
  ['patches', patchCase, 0.24],
  ['paths', pathCase, 0.14],
  ['query strings', queryCase, 0.18],
  ['headers', headerCase, 0.14],
];

async function fuzz(t: ExecutionContext, clients: Clients, name: string, arb: fc.Arbitrary<FuzzCase>, ms: number, tally: Tally): Promise<void> {
  const protos = snapshot();
  const own = newTally();
  const details = await fc.check(
    fc.asyncProperty(arb.map(described), (c) => runCase(clients, c, own, protos)),
    {
      seed: SEED,
      numRuns: 1_000_000,
      interruptAfterTimeLimit: ms,
      markInterruptAsFailure: false,
      // a failure shrinks for at most as long again
      skipAllAfterTimeLimit: 2 * ms,
    },
  );
  if (details.failed) {
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(
      `${name}: ${cause}\nafter ${details.numRuns} cases, shrunk ${details.numShrinks} times; counterexample:\n${details.counterexample?.map(describeCase).join('\n')}\nreplay: HAWSER_FUZZ_SEED=${SEED} (path ${details.counterexamplePath})`,
    );
  }
  tally.cases += own.cases;
  for (const w of Object.keys(own.byWho) as Who[]) tally.byWho[w] += own.byWho[w];
  for (const [s, n] of own.byStatus) tally.byStatus.set(s, (tally.byStatus.get(s) ?? 0) + n);
  t.log(`${name}: ${summary(own)}`);
  t.true(own.cases > 0, `${name}: no case ran`);
}

test.serial(`SQLite: no 5xx, no prototype change, /readyz within 1 s and nothing stored after a 4xx (seed ${SEED})`, async (t) => {
  t.timeout(BUDGET_MS * 3 + 60_000);
  t.log(`seed ${SEED} (HAWSER_FUZZ_SEED to replay), budget ${BUDGET_MS} ms`);
  const s = await setUp('sqlite');
  const tally = newTally();
  try {
    for (const [name, arb, share] of FAMILIES) await fuzz(t, s.clients, name, arb, BUDGET_MS * share, tally);
  } finally {
    await tearDown(s);
  }
  t.log(`SQLite total: ${summary(tally)}`);
});

test.serial(`etcd: the same properties over every family at once (seed ${SEED})`, async (t) => {
  if (!etcdAvailable()) {
    t.log('etcd is not installed: skipped');
    t.pass();
    return;
  }
  const ms = process.env.HAWSER_FUZZ_MS ? BUDGET_MS / 3 : 20_000;
  t.timeout(ms * 3 + 60_000);
  const s = await setUp('etcd');
  const tally = newTally();
  try {
    await fuzz(t, s.clients, 'all families', fc.oneof(...FAMILIES.map(([, a]) => a)), ms, tally);
  } finally {
    await tearDown(s);
  }
  t.log(`etcd total: ${summary(tally)}`);
});
