// NetworkPolicy enforced in nftables mode (issue 19) with real packets on a two-node lab of its
// own, switched to kube-proxy's nftables mode as an install with --proxy-mode nftables runs it
// (podnet and kube-proxy read the same key). The short variant of network-policy.test.ts: default
// deny, allow from a namespace, ipBlock except, named port, egress deny, a policy change keeping a
// running connection; each checked with real connections both ways, on one node and across nodes.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { downLab, eventually, kubectl, kubectlOk, upLab, type NodeLab } from './helpers/node-e2e.ts';
import { inNode, PolicyLab, switchToNftables, type P } from './helpers/netpol-e2e.ts';

const LAB = ['npn', '10.90.0.0/24'] as const;
let L: NodeLab;
let PL: PolicyLab;
const suffix = randomBytes(3).toString('hex');
const NS_A = `npn-a-${suffix}`;
const NS_B = `npn-b-${suffix}`;
const server: P = { ns: NS_A, name: 'server' };
const clientA: P = { ns: NS_A, name: 'client-a' }; // the other node
const clientB1: P = { ns: NS_B, name: 'client-b1' }; // the server's node
const clientB2: P = { ns: NS_B, name: 'client-b2' }; // the other node

test.before(async () => {
  L = await upLab(...LAB);
  PL = new PolicyLab(L);
  const [n0, n1] = L.lab.nodes;
  for (const n of [n0, n1]) await switchToNftables(L, n);
  await kubectlOk(L.kc, ['create', 'namespace', NS_A]);
  await kubectlOk(L.kc, ['create', 'namespace', NS_B]);
  await kubectlOk(L.kc, ['label', 'namespace', NS_B, 'team=b']);
  await PL.place([
    [server, n0.name, { app: 'server' }, true],
    [clientA, n1.name, {}, false],
    [clientB1, n0.name, {}, false],
    [clientB2, n1.name, {}, false],
  ]);
});
test.after.always(async () => {
  if (L) await kubectl(L.kc, ['delete', 'namespace', NS_A, NS_B, '--wait=false']);
  await downLab(...LAB);
});
test.afterEach.always(async () => {
  if (PL) await PL.clearPolicies([NS_A, NS_B]);
});

test.serial('[hawser] nftables mode: default deny ingress, then only from a namespace; the isolated pod still reaches out', async (t) => {
  const n0 = L.lab.nodes[0];
  await PL.policy(NS_A, 'default-deny', { podSelector: {}, policyTypes: ['Ingress'] });
  await PL.expect(t, 'default deny', [
    [clientA, server, 8080, false],
    [clientB1, server, 8080, false],
    [clientB2, server, 8080, false],
    [server, clientB2, 8080, true],
    [server, clientB1, 8080, true],
    [clientB1, clientA, 8080, false],
  ]);
  t.regex(
    inNode(n0, 'nft', ['list', 'map', 'ip', 'hawser-netpol', 'ingress-pods']),
    new RegExp(`${server.ip!.replace(/\./g, '\\.')} : jump i-`),
    'enforced by the nftables table',
  );
  t.notRegex(inNode(n0, 'iptables-save', ['-t', 'filter']), /HAWSER-NETPOL/, 'and not by iptables');
  await PL.clearPolicies([NS_A]);
  await PL.policy(NS_A, 'from-team-b', {
    podSelector: { matchLabels: { app: 'server' } },
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }] }],
  });
  await PL.expect(t, 'namespace selector', [
    [clientB1, server, 8080, true],
    [clientB2, server, 8080, true],
    [clientA, server, 8080, false],
    [server, clientA, 8080, true],
  ]);
});

test.serial('[hawser] nftables mode: egress deny, ipBlock except and a named port', async (t) => {
  await PL.policy(NS_B, 'deny-egress', { podSelector: {}, policyTypes: ['Egress'] });
  await PL.expect(t, 'egress deny', [
    [clientB1, server, 8080, false],
    [clientB2, clientA, 8080, false],
    [server, clientB1, 8080, true],
    [clientA, clientB2, 8080, true],
  ]);
  await PL.clearPolicies([NS_B]);
  const podNet = `${server.ip!.split('.').slice(0, 2).join('.')}.0.0/16`;
  await PL.policy(NS_B, 'egress-block', {
    podSelector: {},
    policyTypes: ['Egress'],
    egress: [{ to: [{ ipBlock: { cidr: podNet, except: [`${server.ip}/32`] } }] }],
  });
  await PL.expect(t, 'ipBlock except', [
    [clientB1, clientA, 8080, true],
    [clientB2, clientA, 8080, true],
    [clientB1, server, 8080, false],
    [clientB2, server, 8080, false],
    [server, clientB2, 8080, true],
  ]);
  await PL.clearPolicies([NS_B]);
  await PL.policy(NS_A, 'named-port', { podSelector: { matchLabels: { app: 'server' } }, ingress: [{ ports: [{ port: 'serve-9090' }] }] });
  await PL.expect(t, 'ingress named port', [
    [clientA, server, 9090, true],
    [clientB1, server, 9090, true],
    [clientA, server, 8080, false],
    [clientB2, server, 8080, false],
  ]);
});

test.serial('[hawser] nftables mode: a running connection keeps flowing across a policy change', async (t) => {
  const marker = `m${randomBytes(3).toString('hex')}`;
  const running = kubectl(
    L.kc,
    ['-n', NS_B, 'exec', clientB2.name, '-c', 'web', '--', 'sh', '-c', `(for i in $(seq 1 12); do echo ${marker}-$i; sleep 0.5; done) | nc ${server.ip} 7000`],
    undefined,
    60_000,
  );
  await eventually(
    'the connection is up',
    async () => (await kubectl(L.kc, ['-n', NS_A, 'logs', server.name, '-c', 'sink'])).stdout.includes(`${marker}-2`),
    10_000,
    200,
  );
  await PL.policy(NS_A, 'deny-now', { podSelector: {}, policyTypes: ['Ingress'] });
  await PL.expect(t, 'new connections refused', [[clientB2, server, 8080, false]]);
  const r = await running;
  t.is(r.code, 0, r.stderr);
  const logs = (await kubectl(L.kc, ['-n', NS_A, 'logs', server.name, '-c', 'sink'])).stdout;
  t.true(
    logs.includes(`${marker}-12`),
    `the running connection delivered every line: ${logs
      .split('\n')
      .filter((l) => l.startsWith(marker))
      .join(' ')}`,
  );
});
