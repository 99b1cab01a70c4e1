// [sig-network] NetworkPolicy as an API (test/e2e/network/netpol/network_policy_api.go upstream,
// "Netpol API"; not a conformance test in v1.35): discovery, create/get/list/watch/patch/update/delete/
// deletecollection, and endPort validation. Enforcement with real packets is network-policy.test.ts.
import { conformance, type Kube, until } from '../conformance/fixture.ts';

const it = conformance('netpol-api');
const raw = (k: Kube, path: string) => JSON.parse(k.ok(['get', '--raw', path]));
const BASE = (ns: string) => `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`;

const template = (unique: string, egress?: object[]) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { generateName: 'e2e-example-netpol', labels: { 'special-label': unique } },
  spec: {
    podSelector: { matchLabels: { 'pod-name': 'test-pod' } },
    ...(egress
      ? { egress }
      : { ingress: [{ from: [{ podSelector: { matchLabels: { 'pod-name': 'client-a' } }, namespaceSelector: { matchLabels: { 'ns-name': 'pod-b' } } }] }] }),
  },
});

it('[sig-network] Netpol API should support creating NetworkPolicy API operations', async (t, c) => {
  const groups = raw(c.kc, '/apis').groups as { name: string; versions: { version: string }[] }[];
  t.true(
    groups.some((g) => g.name === 'networking.k8s.io' && g.versions.some((v) => v.version === 'v1')),
    'networking.k8s.io/v1 in /apis',
  );
  t.true(raw(c.kc, '/apis/networking.k8s.io').versions.some((v: { version: string }) => v.version === 'v1'));
  t.true(raw(c.kc, '/apis/networking.k8s.io/v1').resources.some((r: { name: string }) => r.name === 'networkpolicies'));
  const sel = `special-label=${c.ns}`;
  const create = () => JSON.parse(c.k.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(template(c.ns))));
  create();
  create();
  const made = create();
  t.is(c.k.json<any>(['get', 'networkpolicy', made.metadata.name]).metadata.uid, made.metadata.uid);
  // the server's own list (kubectl's -o json list carries no resourceVersion)
  const list = raw(c.kc, `${BASE(c.ns)}?labelSelector=${encodeURIComponent(sel)}`);
  t.is(list.items.length, 3, 'filtered list should have 3 items');
  t.is(c.kc.json<any>(['get', 'networkpolicies', '-A', '-l', sel]).items.length, 3, 'cluster-wide list');
  const patched = JSON.parse(
    c.k.ok(['patch', 'networkpolicy', made.metadata.name, '--type=merge', '-p', '{"metadata":{"annotations":{"patched":"true"}}}', '-o', 'json']),
  );
  t.is(patched.metadata.annotations.patched, 'true');
  patched.metadata.annotations.updated = 'true';
  const updated = JSON.parse(c.k.ok(['replace', '-f', '-', '-o', 'json'], JSON.stringify(patched)));
  t.is(updated.metadata.annotations.updated, 'true');
  // the watch from the list's resourceVersion replays both modifications, as upstream's watch sees them
  const events = c.kc
    .ok(['get', '--raw', `${BASE(c.ns)}?watch=1&resourceVersion=${list.metadata.resourceVersion}&labelSelector=${encodeURIComponent(sel)}&timeoutSeconds=2`])
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; object: any });
  t.true(
    events.every((e) => e.type === 'MODIFIED'),
    events.map((e) => e.type).join(','),
  );
  t.true(events.some((e) => e.object.metadata.annotations?.patched === 'true' && e.object.metadata.annotations?.updated === 'true'));
  c.k.ok(['delete', 'networkpolicy', made.metadata.name]);
  t.is(c.k.get('networkpolicy', made.metadata.name), undefined);
  t.is(c.k.json<any>(['get', 'networkpolicies', '-l', sel]).items.length, 2, 'filtered list should have 2 items');
  c.k.ok(['delete', 'networkpolicies', '-l', sel]);
  await until('the collection is gone', () => c.k.json<any>(['get', 'networkpolicies', '-l', sel]).items.length === 0, 60_000);
});

it('[sig-network] Netpol API should support creating NetworkPolicy API with endport field', (t, c) => {
  const create = (egress: object[]) => c.k.run(['create', '-f', '-'], JSON.stringify(template(c.ns, egress)));
  t.not(create([{ ports: [{ endPort: 20000 }] }]).code, 0, 'endPort without port');
  t.not(create([{ ports: [{ port: 'serve-80', endPort: 20000 }] }]).code, 0, 'endPort with a named port');
  const smaller = create([{ ports: [{ port: 30000, endPort: 20000 }] }]);
  t.regex(smaller.stderr, /spec\.egress\[0\]\.ports\[0\]\.endPort: Invalid value: 30000: must be greater than or equal to `port`/);
  t.is(create([{ ports: [{ port: 20000, endPort: 20000 }] }]).code, 0, 'endPort equal to port');
  t.is(create([{ ports: [{ port: 10000, endPort: 20000 }] }]).code, 0, 'endPort greater than port');
  c.k.ok(['delete', 'networkpolicies', '-l', `special-label=${c.ns}`]);
});
