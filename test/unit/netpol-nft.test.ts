// NetworkPolicy in nftables mode (agents/netpol/nft-plan.ts, nft-transaction.ts): the same
// decisions as the iptables rules, rendered as sets, verdict maps and pod chains, and the
// transactions that carry only what changed.
import test from 'ava';
import type { NpNamespace, NpPod, NpPolicy, NpSpec } from '../../agents/netpol/model.ts';
import { blockIntervals, EGRESS_MAP, INGRESS_MAP, nftPlan, nftPodChain, type NftPolicyPlan } from '../../agents/netpol/nft-plan.ts';
import { deleteTransaction, fullTransaction, partialTransaction } from '../../agents/netpol/nft-transaction.ts';

const NODE = 'n1';
const pod = (namespace: string, name: string, ip: string, labels: Record<string, string>, o: Partial<NpPod> = {}): NpPod => ({
  namespace,
  name,
  ip,
  node: NODE,
  labels,
  ports: [],
  ...o,
});
const pol = (namespace: string, name: string, spec: NpSpec): NpPolicy => ({ namespace, name, spec });
const namespaces: NpNamespace[] = [
  { name: 'a', labels: { team: 'x' } },
  { name: 'b', labels: { team: 'y' } },
];
const server = pod('a', 'server', '10.0.0.10', { app: 'server' }, { ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] });
const clientA = pod('a', 'client', '10.0.0.11', { app: 'client' });
const clientB = pod('b', 'client', '10.0.1.11', { app: 'client' }, { node: 'n2' });
const web = pod('b', 'web', '10.0.1.20', { app: 'server' }, { node: 'n2', ports: [{ name: 'http', port: 9090, protocol: 'TCP' }] });
const pods = [server, clientA, clientB, web];
const run = (policies: NpPolicy[], ps = pods): NftPolicyPlan => nftPlan({ node: NODE, policies, pods: ps, namespaces });
const strip = (rules: string[] | undefined) => (rules ?? []).map((r) => r.replace(/ comment "[^"]*"$/, ''));
/** the elements of the set a rule names */
const setOf = (p: NftPolicyPlan, rule: string) => p.sets.get(/@(s-[0-9a-f]{16})/.exec(rule)![1])!.elements;

test('default deny: isolated pods are verdict map elements jumping to their chain, which rejects; others are not isolated', (t) => {
  const p = run([pol('a', 'deny', { podSelector: {}, policyTypes: ['Ingress'] })]);
  t.deepEqual(
    [...p.ingress],
    [
      ['10.0.0.11', nftPodChain('ingress', clientA)],
      ['10.0.0.10', nftPodChain('ingress', server)],
    ],
  );
  t.deepEqual(p.egress.size, 0, 'not isolated for egress');
  t.deepEqual(p.chains.get(nftPodChain('ingress', server)), ['reject comment "a/server ingress default deny"']);
  t.false([...p.ingress.keys()].includes(clientB.ip), 'a pod of another node gets nothing here');
  t.regex(nftPodChain('egress', server), /^e-[0-9a-f]{16}$/);
});

test('peers and ports: namespace AND pod selector as one address set, port ranges, protocol alone, named ports per target', (t) => {
  const p = run([
    pol('a', 'p', {
      podSelector: { matchLabels: { app: 'server' } },
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { team: 'y' } }, podSelector: { matchLabels: { app: 'client' } } }],
          ports: [{ port: 'http' }, { port: 9000, endPort: 9100, protocol: 'UDP' }, { protocol: 'SCTP' }],
        },
      ],
    }),
  ]);
  const rules = strip(p.chains.get(nftPodChain('ingress', server)));
  t.deepEqual(
    rules.map((r) => r.replace(/@s-[0-9a-f]{16}/, '@S')),
    [
      'ip saddr @S meta l4proto tcp th dport 8080 return',
      'ip saddr @S meta l4proto udp th dport 9000-9100 return',
      'ip saddr @S meta l4proto sctp return',
      'reject',
    ],
  );
  t.deepEqual(setOf(p, rules[0]), ['10.0.1.11']);
  t.deepEqual(p.sets.get(/@(s-\S+)/.exec(rules[0])![1]), { type: 'ipv4_addr', interval: false, elements: ['10.0.1.11'] });
  const any = run([pol('a', 'all', { podSelector: {}, ingress: [{}] })]);
  t.deepEqual(any.chains.get(nftPodChain('ingress', server)), ['return comment "a/all ingress[0]"', 'reject comment "a/server ingress default deny"']);
});

test('egress: an ipBlock is an interval set without its except ranges; a named port is an address . protocol . port set', (t) => {
  const p = run([
    pol('a', 'e', {
      podSelector: { matchLabels: { app: 'client' } },
      policyTypes: ['Egress'],
      egress: [
        { to: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.1.0/24', '10.0.0.10/32'] } }] },
        { to: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'server' } } }], ports: [{ port: 'http' }] },
      ],
    }),
  ]);
  const [block, named, deny] = strip(p.chains.get(nftPodChain('egress', clientA)));
  t.regex(block, /^ip daddr @s-[0-9a-f]{16} return$/);
  t.deepEqual(p.sets.get(/@(s-\S+)/.exec(block)![1]), {
    type: 'ipv4_addr',
    interval: true,
    elements: ['10.0.0.0-10.0.0.9', '10.0.0.11-10.0.0.255', '10.0.2.0-10.0.255.255'],
  });
  t.regex(named, /^ip daddr \. meta l4proto \. th dport @s-[0-9a-f]{16} return$/);
  t.deepEqual(setOf(p, named), ['10.0.0.10 . tcp . 8080', '10.0.1.20 . tcp . 9090']);
  t.is(deny, 'reject');
  t.deepEqual([...p.egress.keys()], ['10.0.0.11']);
});

test('blockIntervals cuts excepts out of the cidr (nested, at the edges, whole, a single address alone)', (t) => {
  t.deepEqual(blockIntervals('0.0.0.0/0', ['10.0.0.0/8']), ['0.0.0.0-9.255.255.255', '11.0.0.0-255.255.255.255']);
  t.deepEqual(blockIntervals('10.0.0.0/30', ['10.0.0.0/31']), ['10.0.0.2-10.0.0.3']);
  t.deepEqual(blockIntervals('10.0.0.0/30', ['10.0.0.0/32', '10.0.0.2/31']), ['10.0.0.1']);
  t.deepEqual(blockIntervals('10.0.0.0/24', ['10.0.0.0/16']), []);
  t.deepEqual(blockIntervals('10.0.0.0/24', ['10.1.0.0/16', '10.0.0.128/25', '10.0.0.128/26']), ['10.0.0.0-10.0.0.127']);
});

test('full transaction: the table replaced atomically; conntrack and the node first, then the two verdict maps', (t) => {
  const text = fullTransaction(run([pol('a', 'deny', { podSelector: { matchLabels: { app: 'server' } } })]));
  const lines = text.trim().split('\n');
  t.deepEqual(lines.slice(0, 3), [
    'add table ip hawser-netpol { comment "hawser network policy" ; }',
    'delete table ip hawser-netpol',
    'add table ip hawser-netpol { comment "hawser network policy" ; }',
  ]);
  t.deepEqual(
    lines.filter((l) => l.startsWith('add rule ip hawser-netpol dispatch')).map((l) => l.replace(/ comment "[^"]*"$/, '')),
    [
      'add rule ip hawser-netpol dispatch ct state established,related return',
      'add rule ip hawser-netpol dispatch fib saddr type local return',
      `add rule ip hawser-netpol dispatch ip saddr vmap @${EGRESS_MAP}`,
      `add rule ip hawser-netpol dispatch ip daddr vmap @${INGRESS_MAP}`,
    ],
  );
  t.is(lines.at(-1), `add element ip hawser-netpol ${INGRESS_MAP} { 10.0.0.10 : jump ${nftPodChain('ingress', server)} }`);
});

test('partial transactions carry only what changed: a label change refills one set, a deleted policy flushes then deletes', (t) => {
  const policy = pol('a', 'from-clients', {
    podSelector: { matchLabels: { app: 'server' } },
    ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'client' } } }] }],
  });
  const first = run([policy]);
  t.deepEqual(partialTransaction(first, run([policy])), { text: '', staleChains: [], staleSets: [] }, 'nothing changed: nothing sent');
  const relabelled = run([policy], [server, clientA, { ...clientB, labels: { app: 'other' } }, web]);
  const set = [...first.sets.keys()][0];
  t.is(partialTransaction(first, relabelled).text, `flush set ip hawser-netpol ${set}\nadd element ip hawser-netpol ${set} { 10.0.0.11 }\n`);
  const newPod = pod('a', 'server2', '10.0.0.20', { app: 'server' });
  const grown = partialTransaction(first, run([policy], [...pods, newPod])).text;
  t.regex(grown, new RegExp(`^add chain ip hawser-netpol ${nftPodChain('ingress', newPod)}\nadd rule `, 'm'), 'a new chain, not flushed');
  t.regex(grown, new RegExp(`add element ip hawser-netpol ${INGRESS_MAP} \\{ 10.0.0.20 : jump ${nftPodChain('ingress', newPod)} \\}`));
  t.notRegex(grown, new RegExp(nftPodChain('ingress', server)), 'the unchanged chain is not rewritten');
  const gone = partialTransaction(first, run([]));
  t.is(gone.text, `delete element ip hawser-netpol ${INGRESS_MAP} { 10.0.0.10 }\nflush chain ip hawser-netpol ${nftPodChain('ingress', server)}\n`);
  t.is(
    deleteTransaction(gone.staleChains, gone.staleSets),
    `delete chain ip hawser-netpol ${nftPodChain('ingress', server)}\ndelete set ip hawser-netpol ${set}\n`,
  );
  const rewritten = partialTransaction(
    first,
    run([pol('a', 'from-clients', { podSelector: { matchLabels: { app: 'server' } }, ingress: [{ ports: [{ port: 80 }] }] })]),
  ).text;
  t.regex(
    rewritten,
    new RegExp(
      `^add chain ip hawser-netpol ${nftPodChain('ingress', server)}\nflush chain ip hawser-netpol ${nftPodChain('ingress', server)}\nadd rule .* meta l4proto tcp th dport 80 return`,
    ),
  );
});
