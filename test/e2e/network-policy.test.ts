// NetworkPolicy enforced with real packets (issue 19) on a two-node lab of its own: upstream's
// NetworkPolicy e2e cases (default deny ingress, allow from a namespace, allow from pods with a
// label, egress deny, ipBlock except, named ports, a policy update keeping a running connection),
// each checked with real connections both ways, from the server's node and across nodes (pods and
// checks: helpers/netpol-e2e.ts). nftables mode runs the short variant in netpol-nftables.test.ts.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { downLab, eventually, kubectl, kubectlJson, kubectlOk, upLab, type NodeLab } from './helpers/node-e2e.ts';
import { PolicyLab, type P, type Placement } from './helpers/netpol-e2e.ts';

const LAB = 'npl';
const SUBNET = '10.74.0.0/24';
let L: NodeLab;
const suffix = randomBytes(3).toString('hex');
const NS_A = `np-a-${suffix}`;
const NS_B = `np-b-${suffix}`;
/** two Ready nodes (the lab's workers; the conformance runner's lab when it gives one) */
let nodes: string[] = [];

const server1: P = { ns: NS_A, name: 'server-1' };
const server2: P = { ns: NS_A, name: 'server-2' };
const clientA1: P = { ns: NS_A, name: 'client-a1' }; // role=client, the servers' node... and the other
const clientA2: P = { ns: NS_A, name: 'client-a2' };
const plainA: P = { ns: NS_A, name: 'plain-a' }; // no role label
const clientB1: P = { ns: NS_B, name: 'client-b1' };
const clientB2: P = { ns: NS_B, name: 'client-b2' };

let PL: PolicyLab;
const policy = (ns: string, name: string, spec: object) => PL.policy(ns, name, spec);
const clearPolicies = () => PL.clearPolicies([NS_A, NS_B]);
const expect: PolicyLab['expect'] = (t, what, checks) => PL.expect(t, what, checks);

test.before(async () => {
  L = await upLab(LAB, SUBNET);
  PL = new PolicyLab(L);
  nodes = ((await kubectlJson(L.kc, ['get', 'nodes'])).items as { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[])
    .filter((n) => n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((n) => n.metadata.name)
    .sort()
    .slice(0, 2);
  if (nodes.length < 2) throw new Error(`two Ready nodes needed, found ${nodes.join(', ')}`);
  await kubectlOk(L.kc, ['create', 'namespace', NS_A]);
  await kubectlOk(L.kc, ['create', 'namespace', NS_B]);
  await kubectlOk(L.kc, ['label', 'namespace', NS_B, 'team=b']);
  const placed: Placement[] = [
    [server1, nodes[0], { app: 'server' }, true],
    [server2, nodes[1], { app: 'server' }, true],
    [clientA1, nodes[0], { role: 'client' }, false],
    [clientA2, nodes[1], { role: 'client' }, false],
    [plainA, nodes[1], {}, false],
    [clientB1, nodes[0], { role: 'client' }, false],
    [clientB2, nodes[1], { role: 'client' }, false],
  ];
  await PL.place(placed);
});

test.after.always(async () => {
  if (L) {
    await kubectl(L.kc, ['delete', 'namespace', NS_A, NS_B, '--wait=false']);
  }
  await downLab(LAB, SUBNET);
});

test.afterEach.always(async () => {
  if (L) await clearPolicies();
});

test.serial('[sig-network] [hawser] NetworkPolicy default deny ingress: no pod reaches the isolated pods, which still reach out', async (t) => {
  await expect(t, 'before any policy', [
    [clientA1, server1, 8080, true],
    [clientB2, server1, 8080, true],
  ]);
  await policy(NS_A, 'default-deny', { podSelector: {}, policyTypes: ['Ingress'] });
  await expect(t, 'default deny', [
    [clientA1, server1, 8080, false],
    [clientA2, server1, 8080, false],
    [clientB1, server2, 8080, false],
    [clientB2, server1, 8080, false],
    [server1, clientB1, 8080, true],
    [server1, clientB2, 8080, true],
    [server2, clientB1, 8080, true],
  ]);
  await clearPolicies();
  await expect(t, 'policy deleted', [
    [clientA1, server1, 8080, true],
    [clientB2, server2, 8080, true],
  ]);
});

test.serial('[sig-network] [hawser] NetworkPolicy allows traffic only from a namespace (namespaceSelector)', async (t) => {
  await policy(NS_A, 'from-team-b', {
    podSelector: { matchLabels: { app: 'server' } },
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }] }],
  });
  await expect(t, 'namespace selector', [
    [clientB1, server1, 8080, true],
    [clientB2, server1, 8080, true],
    [clientB1, server2, 8080, true],
    [clientA1, server1, 8080, false],
    [clientA2, server2, 8080, false],
    [server1, clientA2, 8080, true],
    [server2, clientB1, 8080, true],
  ]);
});

test.serial('[sig-network] [hawser] NetworkPolicy allows traffic only from pods with a label (podSelector, namespaceSelector AND podSelector)', async (t) => {
  await policy(NS_A, 'from-clients', {
    podSelector: { matchLabels: { app: 'server' } },
    ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }] }],
  });
  await expect(t, 'pod selector in the policy namespace', [
    [clientA1, server1, 8080, true],
    [clientA2, server1, 8080, true],
    [clientA2, server2, 8080, true],
    [plainA, server1, 8080, false],
    [clientB1, server1, 8080, false],
    [clientB2, server2, 8080, false],
  ]);
  await policy(NS_A, 'from-clients', {
    podSelector: { matchLabels: { app: 'server' } },
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'b' } }, podSelector: { matchLabels: { role: 'client' } } }] }],
  });
  await expect(t, 'namespace AND pod selector', [
    [clientB1, server1, 8080, true],
    [clientB2, server2, 8080, true],
    [clientA1, server1, 8080, false],
    [plainA, server2, 8080, false],
  ]);
});

test.serial('[sig-network] [hawser] NetworkPolicy egress deny: an isolated pod reaches nothing, and is still reached', async (t) => {
  await policy(NS_B, 'deny-egress', { podSelector: {}, policyTypes: ['Egress'] });
  await expect(t, 'egress deny', [
    [clientB1, server1, 8080, false],
    [clientB2, server1, 8080, false],
    [clientB1, server2, 8080, false],
    [server1, clientB1, 8080, true],
    [server2, clientB1, 8080, true],
    [clientA1, server1, 8080, true],
  ]);
});

test.serial('[sig-network] [hawser] NetworkPolicy egress to an ipBlock with except', async (t) => {
  // the /16 holding the pods (each lab has a pod network of its own), all but one server
  const podNet = `${(server1.ip ?? '').split('.').slice(0, 2).join('.')}.0.0/16`;
  await policy(NS_B, 'egress-block', {
    podSelector: {},
    policyTypes: ['Egress'],
    egress: [{ to: [{ ipBlock: { cidr: podNet, except: [`${server1.ip}/32`] } }] }],
  });
  await expect(t, 'ipBlock except', [
    [clientB1, server2, 8080, true],
    [clientB2, server2, 8080, true],
    [clientB1, server1, 8080, false],
    [clientB2, server1, 8080, false],
    [server1, clientB2, 8080, true],
  ]);
});

test.serial('[sig-network] [hawser] NetworkPolicy named ports are resolved on each target pod', async (t) => {
  await policy(NS_A, 'named-port', { podSelector: { matchLabels: { app: 'server' } }, ingress: [{ ports: [{ port: 'serve-9090' }] }] });
  await expect(t, 'ingress named port', [
    [clientA1, server1, 9090, true],
    [clientB2, server1, 9090, true],
    [clientB1, server2, 9090, true],
    [clientA1, server1, 8080, false],
    [clientB2, server2, 8080, false],
  ]);
  await clearPolicies();
  await policy(NS_B, 'egress-named', {
    podSelector: {},
    policyTypes: ['Egress'],
    egress: [{ to: [{ namespaceSelector: {} }], ports: [{ port: 'serve-8080' }] }],
  });
  await expect(t, 'egress named port', [
    [clientB1, server1, 8080, true],
    [clientB2, server2, 8080, true],
    [clientB1, server1, 9090, false],
    [clientB2, server2, 9090, false],
  ]);
});

test.serial('[sig-network] [hawser] NetworkPolicy update: a running connection keeps flowing, new connections follow the new policy', async (t) => {
  const marker = `m${randomBytes(3).toString('hex')}`;
  // 16 lines over 8 s on one connection to server-1's nc sink, from the other node
  const running = kubectl(
    L.kc,
    ['-n', NS_B, 'exec', clientB2.name, '-c', 'web', '--', 'sh', '-c', `(for i in $(seq 1 16); do echo ${marker}-$i; sleep 0.5; done) | nc ${server1.ip} 7000`],
    undefined,
    60_000,
  );
  await eventually(
    'the connection is up',
    async () => (await kubectl(L.kc, ['-n', NS_A, 'logs', server1.name, '-c', 'sink'])).stdout.includes(`${marker}-2`),
    10_000,
    200,
  );
  await policy(NS_A, 'deny-now', { podSelector: {}, policyTypes: ['Ingress'] });
  await expect(t, 'new connections after the update', [
    [clientB2, server1, 8080, false],
    [clientA1, server1, 8080, false],
  ]);
  const r = await running;
  t.is(r.code, 0, r.stderr);
  const logs = (await kubectl(L.kc, ['-n', NS_A, 'logs', server1.name, '-c', 'sink'])).stdout;
  t.true(
    logs.includes(`${marker}-16`),
    `the running connection delivered every line: ${logs
      .split('\n')
      .filter((l) => l.startsWith(marker))
      .join(' ')}`,
  );
  await policy(NS_A, 'deny-now', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }] }] });
  await expect(t, 'updated policy', [
    [clientB2, server1, 8080, true],
    [clientA1, server1, 8080, false],
  ]);
});
