// Endpoints/EndpointSlice contents and the garbage collector's graph and verdicts, and the
// ServiceAccount controller's one decision.
import test from 'ava';
import type { Obj } from '../../agents/control-plane/apiserver/strategies/types.ts';
import { desiredSlices, endpointSubsets, planSlices, podPorts, resolvePort, selects } from '../../agents/control-plane/controllers/endpoints/rules.ts';
import { blockingDependents, Graph, judgeDependent, ownerState, type OwnerState, withoutOwners } from '../../agents/control-plane/controllers/gc/graph.ts';
import { needsDefaultAccount } from '../../agents/control-plane/controllers/serviceaccount/serviceaccount.ts';

const svc = (o: Record<string, unknown> = {}): Obj => ({
  metadata: { name: 'web', namespace: 'ns' },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...o },
});
function pod(
  name: string,
  ip: string | string[] | undefined,
  o: { port?: number; ready?: boolean; deleting?: boolean; phase?: string; node?: string; labels?: Record<string, string>; hostname?: string } = {},
): Obj {
  const ips = ip === undefined ? [] : Array.isArray(ip) ? ip : [ip];
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels: o.labels ?? { app: 'web' }, deletionTimestamp: o.deleting ? 'x' : undefined },
    spec: {
      nodeName: o.node ?? 'n1',
      hostname: o.hostname,
      subdomain: o.hostname ? 'web' : undefined,
      containers: [{ name: 'c', ports: [{ name: 'http', containerPort: o.port ?? 8080, protocol: 'TCP' }] }],
    },
    status: {
      phase: o.phase ?? 'Running',
      podIP: ips[0],
      podIPs: ips.map((x) => ({ ip: x })),
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  };
}

test('target ports: numbers as is, names per pod and protocol; unresolvable ports are left out', (t) => {
  const p = pod('a', '10.0.0.1', { port: 8443 });
  t.is(resolvePort({ port: 80, targetPort: 'http' }, p), 8443);
  t.is(resolvePort({ port: 80, targetPort: 'http', protocol: 'UDP' }, p), undefined);
  t.is(resolvePort({ port: 80, targetPort: 9000 }, p), 9000);
  t.is(resolvePort({ port: 80 }, p), 80);
  t.deepEqual(
    podPorts(
      svc({
        ports: [
          { name: 'x', port: 1, targetPort: 'nope' },
          { name: 'y', port: 2, appProtocol: 'h2c' },
        ],
      }),
      p,
    ),
    [{ name: 'y', port: 2, protocol: 'TCP', appProtocol: 'h2c' }],
  );
  t.true(selects(svc(), p));
  t.false(selects(svc({ selector: {} }), p), 'no selector: not ours');
  t.false(selects(svc(), { ...p, metadata: { ...p.metadata, namespace: 'other' } }));
});

test('Endpoints: ready and not-ready addresses, grouped by port list; terminating, finished and IP-less pods out', (t) => {
  const pods = [
    pod('a', '10.0.0.2'),
    pod('b', '10.0.0.10', { ready: false }),
    pod('c', '10.0.0.3', { port: 9090, hostname: 'c' }),
    pod('d', '10.0.0.4', { deleting: true }),
    pod('e', '10.0.0.5', { phase: 'Succeeded' }),
    pod('f', undefined),
    pod('g', '10.0.0.6', { labels: { app: 'other' } }),
  ];
  const subsets = endpointSubsets(svc(), pods);
  t.is(subsets.length, 2);
  const s8080 = subsets.find((s) => s.ports[0].port === 8080)!;
  t.deepEqual(
    s8080.addresses.map((a: { ip: string }) => a.ip),
    ['10.0.0.2'],
  );
  t.deepEqual(
    s8080.notReadyAddresses.map((a: { ip: string }) => a.ip),
    ['10.0.0.10'],
  );
  t.like(s8080.addresses[0], { nodeName: 'n1', targetRef: { kind: 'Pod', name: 'a', uid: 'uid-a' } });
  const s9090 = subsets.find((s) => s.ports[0].port === 9090)!;
  t.is(s9090.addresses[0].hostname, 'c');
  const publish = endpointSubsets(svc({ publishNotReadyAddresses: true }), pods);
  t.is(publish.flatMap((s) => s.addresses ?? []).length, 4, 'not ready and terminating pods published too');
  t.deepEqual(endpointSubsets(svc(), []), []);
});

test('EndpointSlices: per family and port list, with ready/serving/terminating conditions, chunked', (t) => {
  const pods = [pod('a', ['10.0.0.2', 'fd00::2']), pod('b', '10.0.0.3', { ready: false }), pod('d', '10.0.0.4', { deleting: true })];
  const dual = desiredSlices(svc({ ipFamilies: ['IPv4', 'IPv6'] }), pods, (n) => (n === 'n1' ? 'zone-a' : undefined));
  t.deepEqual(
    dual.map((s) => s.addressType),
    ['IPv4', 'IPv6'],
  );
  const v4 = dual[0];
  t.deepEqual(v4.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  const cond = (ip: string) => v4.endpoints.find((e) => e.addresses[0] === ip)!.conditions;
  t.deepEqual(cond('10.0.0.2'), { ready: true, serving: true, terminating: false });
  t.deepEqual(cond('10.0.0.3'), { ready: false, serving: false, terminating: false });
  t.deepEqual(cond('10.0.0.4'), { ready: false, serving: true, terminating: true });
  t.like(v4.endpoints[0], { nodeName: 'n1', zone: 'zone-a', targetRef: { kind: 'Pod' } });
  t.deepEqual(
    dual[1].endpoints.map((e) => e.addresses[0]),
    ['fd00::2'],
  );
  const many = Array.from({ length: 250 }, (_, i) => pod(`p${i}`, `10.1.${Math.floor(i / 200)}.${i % 200}`));
  t.deepEqual(
    desiredSlices(svc(), many, () => undefined).map((s) => s.endpoints.length),
    [100, 100, 50],
  );
  const empty = desiredSlices(svc(), [], () => undefined);
  t.deepEqual(empty, [{ addressType: 'IPv4', ports: [], endpoints: [] }], 'no backends: one empty slice');
  t.true(desiredSlices(svc({ publishNotReadyAddresses: true }), [pod('b', '10.0.0.3', { ready: false })], () => undefined)[0].endpoints[0].conditions.ready);
});

test('slice plan: keep identical slices, rewrite others of the same family, create and delete the rest', (t) => {
  const want = desiredSlices(svc(), [pod('a', '10.0.0.2')], () => undefined);
  const same: Obj = { metadata: { name: 'web-1' }, addressType: 'IPv4', ports: want[0].ports, endpoints: want[0].endpoints };
  t.deepEqual(planSlices([same], want), { create: [], update: [], remove: [] });
  const stale: Obj = { metadata: { name: 'web-2' }, addressType: 'IPv4', ports: [], endpoints: [] };
  const v6: Obj = { metadata: { name: 'web-3' }, addressType: 'IPv6', ports: [], endpoints: [] };
  const plan = planSlices([stale, v6], want);
  t.deepEqual(
    plan.update.map((u) => u.slice.metadata.name),
    ['web-2'],
  );
  t.deepEqual(
    plan.remove.map((s) => s.metadata.name),
    ['web-3'],
  );
  t.deepEqual(planSlices([], want).create, want);
});

const obj = (uid: string, owners: { uid: string; block?: boolean }[] = [], o: { deleting?: boolean; finalizers?: string[] } = {}): Obj => ({
  metadata: {
    uid,
    name: uid,
    namespace: 'ns',
    deletionTimestamp: o.deleting ? 'x' : undefined,
    finalizers: o.finalizers,
    ownerReferences: owners.map((w) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: w.uid, uid: w.uid, blockOwnerDeletion: w.block })),
  },
});

test('graph: dependents by owner, and who needs a look after each change', (t) => {
  const g = new Graph();
  t.deepEqual(g.upsert(obj('rs'), '/rs'), []);
  t.deepEqual(g.upsert(obj('p1', [{ uid: 'rs' }]), '/pods'), ['p1'], 'a new dependent is checked');
  g.upsert(obj('p2', [{ uid: 'rs' }, { uid: 'ghost' }]), '/pods');
  t.deepEqual(
    g
      .dependents('rs')
      .map((n) => n.uid)
      .sort(),
    ['p1', 'p2'],
  );
  t.deepEqual(g.upsert(obj('p1', [{ uid: 'rs' }]), '/pods'), [], 'an unchanged update needs nothing');
  t.deepEqual(
    g.upsert(obj('rs', [], { deleting: true, finalizers: ['foregroundDeletion'] }), '/rs').sort(),
    ['p1', 'p2', 'rs'],
    'foreground deletion wakes every dependent',
  );
  t.deepEqual(g.remove(obj('p1', [{ uid: 'rs' }])), ['rs'], 'a waiting owner re-checks when a dependent goes');
  t.deepEqual(g.remove(obj('rs')), ['p2'], 'an owner that goes wakes its dependents');
  t.deepEqual(
    g.dependents('ghost').map((n) => n.uid),
    ['p2'],
  );
});

test('verdicts: delete when every owner is gone, unlink gone owners while one lives, foreground and orphan propagate', (t) => {
  const states = (s: Record<string, OwnerState>) => new Map(Object.entries(s));
  const dep = obj('d', [{ uid: 'a' }, { uid: 'b' }]);
  t.deepEqual(judgeDependent(dep, states({ a: 'absent', b: 'absent' }), false), { action: 'delete', propagation: 'Background' });
  t.deepEqual(judgeDependent(dep, states({ a: 'solid', b: 'absent' }), false), { action: 'unlink', owners: ['b'] });
  t.deepEqual(judgeDependent(dep, states({ a: 'solid', b: 'waiting' }), false), { action: 'unlink', owners: ['b'] });
  t.deepEqual(judgeDependent(dep, states({ a: 'solid', b: 'solid' }), false), { action: 'keep' });
  t.deepEqual(judgeDependent(dep, states({ a: 'waiting', b: 'absent' }), true), { action: 'delete', propagation: 'Foreground' }, 'its own dependents go first');
  t.deepEqual(judgeDependent(dep, states({ a: 'waiting', b: 'absent' }), false), { action: 'delete', propagation: 'Background' });
  t.deepEqual(judgeDependent(obj('d', [{ uid: 'a' }], { finalizers: ['orphan'] }), states({ a: 'absent' }), false), {
    action: 'delete',
    propagation: 'Orphan',
  });
  t.deepEqual(judgeDependent(obj('d', [{ uid: 'a' }], { deleting: true }), states({ a: 'absent' }), false), { action: 'keep' }, 'already going');
  t.is(ownerState(undefined, { apiVersion: 'v1', kind: 'X', name: 'a', uid: 'a' }), 'absent');
  t.is(ownerState(obj('other'), { apiVersion: 'v1', kind: 'X', name: 'a', uid: 'a' }), 'absent', 'same name, new uid: the owner is gone');
  t.is(ownerState(obj('a', [], { deleting: true, finalizers: ['foregroundDeletion'] }), { apiVersion: 'v1', kind: 'X', name: 'a', uid: 'a' }), 'waiting');
  t.is(ownerState(obj('a', [], { deleting: true }), { apiVersion: 'v1', kind: 'X', name: 'a', uid: 'a' }), 'solid');
  const owner = obj('o');
  t.deepEqual(
    blockingDependents(owner, [obj('x', [{ uid: 'o', block: true }]), obj('y', [{ uid: 'o' }])]).map((d) => d.metadata.uid),
    ['x'],
  );
  t.deepEqual(
    withoutOwners(dep, ['a']).map((r) => r.uid),
    ['b'],
  );
});

test('the default ServiceAccount is made for live namespaces only', (t) => {
  t.true(needsDefaultAccount({ metadata: { name: 'a' } }, false));
  t.false(needsDefaultAccount({ metadata: { name: 'a' } }, true));
  t.false(needsDefaultAccount({ metadata: { name: 'a', deletionTimestamp: 'x' } }, false));
  t.false(needsDefaultAccount({ metadata: { name: 'a' }, status: { phase: 'Terminating' } }, false));
  t.false(needsDefaultAccount(undefined, false));
});
