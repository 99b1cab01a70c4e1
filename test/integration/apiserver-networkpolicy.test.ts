// NetworkPolicy (networking.k8s.io/v1, issue 19) through the real API server and kubectl v1.35:
// served in discovery and OpenAPI, defaulted as upstream (policyTypes, port protocol), refused with
// a 422 naming the field for each rule upstream's validation has, printed by get and describe.
import test from 'ava';
import type { Cluster } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { rawClient, type Send } from './_raw-client.ts';

let c: Cluster;
let send: Send & { close(): void };
fileCluster((cluster, own) => {
  c = cluster;
  send = own(rawClient(c.admin));
});

const BASE = '/apis/networking.k8s.io/v1/namespaces/default/networkpolicies';
const policy = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name }, spec });
const post = (body: unknown) => send({ method: 'POST', path: BASE, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const causes = (r: { json?: Record<string, any> }) =>
  (r.json?.details?.causes ?? []).map((x: { field: string; message: string }) => `${x.field}: ${x.message}`);

test.serial('each invalid spec is a 422 Invalid whose causes name the field, and nothing is stored', async (t) => {
  const cases: [Record<string, unknown>, string[]][] = [
    [{ ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }] }, ['spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0.0/33": not a valid CIDR']],
    [
      { egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24'] } }] }] },
      ['spec.egress[0].to[0].ipBlock.except[0]: Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`'],
    ],
    [
      { egress: [{ ports: [{ port: 30000, endPort: 20000 }] }] },
      ['spec.egress[0].ports[0].endPort: Invalid value: 30000: must be greater than or equal to `port`'],
    ],
    [
      { egress: [{ ports: [{ port: 'serve-80', endPort: 20000 }] }] },
      ['spec.egress[0].ports[0].endPort: Invalid value: 20000: may not be specified when `port` is non-numeric'],
    ],
    [
      { egress: [{ ports: [{ endPort: 20000 }] }] },
      ['spec.egress[0].ports[0].endPort: Invalid value: 20000: may not be specified when `port` is not specified'],
    ],
    [
      { ingress: [{ ports: [{ protocol: 'ICMP', port: 80 }] }] },
      ['spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"'],
    ],
    [{ policyTypes: ['Ingress', 'Sideways'] }, ['spec.policyTypes[1]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"']],
    [
      { podSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } },
      ["spec.podSelector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"],
    ],
    [
      { ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'a', operator: 'Near', values: ['x'] }] } }] }] },
      [
        'spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].operator: Unsupported value: "Near": supported values: "In", "NotIn", "Exists", "DoesNotExist"',
      ],
    ],
    [{ ingress: [{ from: [{}] }] }, ['spec.ingress[0].from[0]: Required value: must specify a peer']],
    [
      { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] },
      ['spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer'],
    ],
  ];
  for (const [i, [spec, want]] of cases.entries()) {
    const r = await post(policy(`bad-${i}`, spec));
    t.is(r.status, 422, JSON.stringify(spec));
    t.is(r.json?.reason, 'Invalid');
    t.deepEqual(causes(r), want);
    t.regex(r.json?.message ?? '', new RegExp(`^NetworkPolicy.networking.k8s.io "bad-${i}" is invalid: `));
  }
  const list = await send({ path: BASE });
  t.deepEqual(list.json?.items, []);
});

test.serial('policyTypes default to Ingress, plus Egress when egress rules are given; ports default to TCP', async (t) => {
  const a = await post(policy('ingress-only', { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] }));
  t.is(a.status, 201);
  t.deepEqual(a.json?.spec.policyTypes, ['Ingress']);
  t.deepEqual(a.json?.spec.ingress[0].ports, [{ protocol: 'TCP', port: 80 }]);
  const b = await post(
    policy('with-egress', {
      podSelector: {},
      egress: [
        {
          ports: [
            { port: 53, protocol: 'UDP' },
            { port: 1000, endPort: 2000 },
          ],
        },
      ],
    }),
  );
  t.is(b.status, 201);
  t.deepEqual(b.json?.spec.policyTypes, ['Ingress', 'Egress']);
  t.deepEqual(b.json?.spec.egress[0].ports, [
    { port: 53, protocol: 'UDP' },
    { protocol: 'TCP', port: 1000, endPort: 2000 },
  ]);
  const c2 = await post(policy('egress-only', { podSelector: {}, policyTypes: ['Egress'] }));
  t.deepEqual(c2.json?.spec.policyTypes, ['Egress']);
  t.is(a.json?.metadata.generation, 1);
  for (const n of ['ingress-only', 'with-egress', 'egress-only']) await send({ method: 'DELETE', path: `${BASE}/${n}` });
});

test.serial('kubectl apply, get, describe and explain work on NetworkPolicy', async (t) => {
  const yaml = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-allow}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: a}}
      podSelector: {matchLabels: {role: client}}
    ports: [{port: http}]
`;
  t.regex(await c.ok(['apply', '-f', '-'], { input: yaml }), /networkpolicy.networking.k8s.io\/web-allow created/);
  t.regex(await c.ok(['get', 'netpol']), /^NAME\s+POD-SELECTOR\s+AGE\nweb-allow\s+app=web\s+\d+s\n/);
  const d = await c.ok(['describe', 'networkpolicy', 'web-allow']);
  t.regex(d, /PodSelector:\s+app=web/);
  t.regex(d, /To Port: http\/TCP/);
  t.regex(d, /NamespaceSelector: team=a/);
  t.regex(await c.ok(['explain', 'networkpolicy.spec.ingress.ports.endPort']), /endPort/);
  const bad = await c.kubectl(['apply', '-f', '-'], { input: yaml.replace('{port: http}', '{port: 80, endPort: 70}') });
  t.not(bad.code, 0);
  t.regex(bad.stderr, /spec.ingress\[0\].ports\[0\].endPort: Invalid value: 80: must be greater than or equal to `port`/);
  await c.ok(['delete', 'netpol', 'web-allow']);
});
