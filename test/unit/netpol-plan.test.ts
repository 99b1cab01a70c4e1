// The NetworkPolicy planner (agents/netpol/plan.ts, restore.ts): policies, pods and namespaces in,
// chains, rules and ipsets out, for the semantics upstream defines.
import test from 'ava';
import type { NpNamespace, NpPod, NpPolicy, NpSpec } from '../../agents/netpol/model.ts';
import { plan, podChain, TOP_CHAIN, type NpPlan } from '../../agents/netpol/plan.ts';
import { steps } from '../../agents/netpol/restore.ts';

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
  { name: 'a', labels: { 'kubernetes.io/metadata.name': 'a', team: 'x' } },
  { name: 'b', labels: { 'kubernetes.io/metadata.name': 'b', team: 'y' } },
];
const server = pod('a', 'server', '10.0.0.10', { app: 'server' }, { ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] });
const clientA = pod('a', 'client', '10.0.0.11', { app: 'client' });
const clientB = pod('b', 'client', '10.0.1.11', { app: 'client' }, { node: 'n2' });
const other = pod('b', 'other', '10.0.1.12', { app: 'other' }, { node: 'n2' });
const pods = [server, clientA, clientB, other];
const run = (policies: NpPolicy[], ps = pods): NpPlan => plan({ node: NODE, policies, pods: ps, namespaces });
/** The ipset a rule line names, with its entries. */
const setOf = (p: NpPlan, line: string) => p.sets.get(/--match-set (\S+)/.exec(line)![1])!.entries;
const returns = (p: NpPlan, chain: string) => p.chains.get(chain)!.filter((r) => r.endsWith('-j RETURN'));

test('no policy selects a pod: no chains, nothing isolated, the top chain stays empty', (t) => {
  const p = run([pol('a', 'other-pods', { podSelector: { matchLabels: { app: 'nothing' } } })]);
  t.deepEqual([...p.chains.keys()], [TOP_CHAIN]);
  t.deepEqual(p.chains.get(TOP_CHAIN), []);
});

test('default deny ingress isolates every pod of the namespace for ingress only; conntrack and the node come first', (t) => {
  const p = run([pol('a', 'deny', { podSelector: {}, policyTypes: ['Ingress'] })]);
  const top = p.chains.get(TOP_CHAIN)!;
  t.regex(top[0], /--ctstate RELATED,ESTABLISHED -j RETURN$/);
  t.regex(top[1], /--src-type LOCAL -j RETURN$/);
  t.deepEqual(
    top.slice(2).map((r) => r.replace(/^-m comment --comment "[^"]*" /, '')),
    [`-d 10.0.0.11/32 -j ${podChain('ingress', clientA)}`, `-d 10.0.0.10/32 -j ${podChain('ingress', server)}`],
  );
  t.deepEqual(p.chains.get(podChain('ingress', server)), ['-m comment --comment "a/server ingress default deny" -j REJECT']);
  t.false(p.chains.has(podChain('egress', server)), 'not isolated for egress');
  t.false(p.chains.has(podChain('ingress', clientB)), 'a pod of another node gets no chain here');
});

test('policyTypes default: a policy with egress rules isolates for both; egress-only leaves ingress open', (t) => {
  const both = run([pol('a', 'p', { podSelector: { matchLabels: { app: 'server' } }, egress: [{}] })]);
  t.true(both.chains.has(podChain('ingress', server)));
  t.true(both.chains.has(podChain('egress', server)));
  const eg = run([pol('a', 'p', { podSelector: { matchLabels: { app: 'server' } }, policyTypes: ['Egress'] })]);
  t.false(eg.chains.has(podChain('ingress', server)));
  const top = eg.chains.get(TOP_CHAIN)!;
  t.regex(top[2], new RegExp(`-s 10.0.0.10/32 -j ${podChain('egress', server)}$`));
});

test('namespaceSelector and podSelector in one peer are an AND; in two peers an OR; rules and policies are unions', (t) => {
  const and = run([
    pol('a', 'and', {
      podSelector: { matchLabels: { app: 'server' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'y' } }, podSelector: { matchLabels: { app: 'client' } } }] }],
    }),
  ]);
  const [andLine] = returns(and, podChain('ingress', server));
  t.deepEqual(setOf(and, andLine), ['10.0.1.11']);
  t.regex(andLine, /--match-set hnp-[0-9a-f]{16} src -j RETURN$/);
  const or = run([
    pol('a', 'or', {
      podSelector: { matchLabels: { app: 'server' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'y' } } }, { podSelector: { matchLabels: { app: 'client' } } }] }],
    }),
  ]);
  t.deepEqual(setOf(or, returns(or, podChain('ingress', server))[0]), ['10.0.0.11', '10.0.1.11', '10.0.1.12']);
  // a podSelector alone selects in the policy's own namespace
  const own = run([
    pol('a', 'own', { podSelector: { matchLabels: { app: 'server' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }] }),
  ]);
  t.deepEqual(setOf(own, returns(own, podChain('ingress', server))[0]), ['10.0.0.11']);
  // two policies selecting the same pod: both allow
  const two = run([
    pol('a', 'one', { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }] }),
    pol('a', 'two', { podSelector: { matchLabels: { app: 'server' } }, ingress: [{ ports: [{ port: 9000 }] }] }),
  ]);
  const lines = returns(two, podChain('ingress', server));
  t.is(lines.length, 2);
  t.regex(lines[1], /a\/two ingress\[0\]" -p tcp -m tcp --dport 9000 -j RETURN$/);
  t.is(two.chains.get(podChain('ingress', server))!.at(-1), '-m comment --comment "a/server ingress default deny" -j REJECT');
});

test('an empty ingress rule allows every source on every port', (t) => {
  const all = run([pol('a', 'all', { podSelector: {}, ingress: [{}] })]);
  t.deepEqual(returns(all, podChain('ingress', server)), ['-m comment --comment "a/all ingress[0]" -j RETURN']);
});

test('ipBlock: a block alone is its cidr with except entries as nomatch, 0.0.0.0/0 as its two halves', (t) => {
  const egress = (...blocks: { cidr: string; except: string[] }[]) =>
    run([
      pol('a', 'blocks', {
        podSelector: { matchLabels: { app: 'server' } },
        policyTypes: ['Egress'],
        egress: [{ to: blocks.map((ipBlock) => ({ ipBlock })) }],
      }),
    ]);
  const one = egress({ cidr: '10.0.0.0/16', except: ['10.0.1.0/24'] });
  const [line] = returns(one, podChain('egress', server));
  t.regex(line, / dst -j RETURN$/);
  t.deepEqual(setOf(one, line), ['10.0.0.0/16', '10.0.1.0/24 nomatch']);
  t.is([...one.sets.values()][0].type, 'hash:net');
  const all = egress({ cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] });
  t.deepEqual(setOf(all, returns(all, podChain('egress', server))[0]), ['0.0.0.0/1', '10.0.0.0/8 nomatch', '128.0.0.0/1']);
  // both in one rule: one set, their union
  const both = egress({ cidr: '10.0.0.0/16', except: ['10.0.1.0/24'] }, { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] });
  const lines = returns(both, podChain('egress', server));
  t.is(lines.length, 1);
  const entries = setOf(both, lines[0]);
  for (const [ip, want] of [
    ['10.0.0.1', true],
    ['10.0.1.1', false],
    ['10.1.0.1', false],
    ['11.0.0.1', true],
    ['9.0.0.1', true],
  ] as const)
    t.is(netMatches(entries, ip), want, ip);
});

test('ports: endPort is a range; a named ingress port is resolved per target pod; an unresolved one allows nothing', (t) => {
  const web2 = pod('a', 'server2', '10.0.0.20', { app: 'server' }, { ports: [{ name: 'http', port: 9090, protocol: 'TCP' }] });
  const bare = pod('a', 'server3', '10.0.0.21', { app: 'server' });
  const p = run(
    [
      pol('a', 'ports', {
        podSelector: { matchLabels: { app: 'server' } },
        ingress: [
          {
            ports: [
              { port: 'http', protocol: 'TCP' },
              { port: 1000, endPort: 2000, protocol: 'UDP' },
            ],
          },
        ],
      }),
    ],
    [...pods, web2, bare],
  );
  const strip = (ls: string[]) => ls.map((r) => r.replace(/^-m comment --comment "[^"]*" /, ''));
  t.deepEqual(strip(returns(p, podChain('ingress', server))), ['-p tcp -m tcp --dport 8080 -j RETURN', '-p udp -m udp --dport 1000:2000 -j RETURN']);
  t.deepEqual(strip(returns(p, podChain('ingress', web2))), ['-p tcp -m tcp --dport 9090 -j RETURN', '-p udp -m udp --dport 1000:2000 -j RETURN']);
  t.deepEqual(strip(returns(p, podChain('ingress', bare))), ['-p udp -m udp --dport 1000:2000 -j RETURN']);
});

test('a named egress port is resolved against each destination pod: an ip,port set', (t) => {
  const web2 = pod('b', 'web', '10.0.1.20', { app: 'server' }, { node: 'n2', ports: [{ name: 'http', port: 9090, protocol: 'TCP' }] });
  const p = run(
    [
      pol('a', 'egress-named', {
        podSelector: { matchLabels: { app: 'client' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'server' } } }], ports: [{ port: 'http' }] }],
      }),
    ],
    [...pods, web2],
  );
  const lines = returns(p, podChain('egress', clientA));
  t.is(lines.length, 1);
  t.regex(lines[0], / -m set --match-set hnp-[0-9a-f]{16} dst,dst -j RETURN$/);
  t.deepEqual(setOf(p, lines[0]), ['10.0.0.10,tcp:8080', '10.0.1.20,tcp:9090']);
});

test('restore steps: a label change refills one set and rewrites no chain; a deleted policy leaves stale chains and sets removed', (t) => {
  const policy = pol('a', 'from-clients', {
    podSelector: { matchLabels: { app: 'server' } },
    ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'client' } } }] }],
  });
  const first = run([policy]);
  const fresh = steps({ chains: ['HAWSER-NPI-0000000000000000'], sets: ['hnp-0000000000000000'] }, first);
  t.regex(fresh.rules, /^\*filter\n:HAWSER-NPI-[0-9A-F]{16} - \[0:0\]\n:HAWSER-NETPOL - \[0:0\]\n:HAWSER-NPI-0000000000000000 - \[0:0\]\n/);
  t.is(fresh.dropChains, '*filter\n-X HAWSER-NPI-0000000000000000\nCOMMIT\n');
  t.is(fresh.dropSets, 'destroy hnp-0000000000000000\n');
  const name = [...first.sets.keys()][0];
  t.regex(
    fresh.sets,
    new RegExp(
      `^create ${name} hash:ip family inet -exist\ncreate ${name}-t hash:ip family inet -exist\nflush ${name}-t\nadd ${name}-t 10.0.0.11\nadd ${name}-t 10.0.1.11\nswap ${name}-t ${name}\ndestroy ${name}-t\n$`,
    ),
  );
  const relabelled = run([policy], [server, clientA, { ...clientB, labels: { app: 'other' } }, other]);
  const partial = steps({ plan: first }, relabelled);
  t.is(partial.rules, '', 'no chain changed');
  t.regex(partial.sets, new RegExp(`add ${name}-t 10.0.0.11\nswap`));
  t.is(steps({ plan: relabelled }, relabelled).sets, '', 'nothing changed: nothing to do');
  const gone = steps({ plan: first }, run([]));
  t.is(gone.rules, `*filter\n:HAWSER-NETPOL - [0:0]\n:${podChain('ingress', server)} - [0:0]\nCOMMIT\n`);
  t.is(gone.dropChains, `*filter\n-X ${podChain('ingress', server)}\nCOMMIT\n`);
  t.is(gone.dropSets, `destroy ${name}\n`);
});

test('100 policies selecting one pod, each allowing other pods on one port: one rule over one set of all their peers', (t) => {
  const teams = Array.from({ length: 100 }, (_, i) => pod('a', `c${i}`, `10.0.2.${i + 1}`, { team: `t${i}` }, { node: 'n2' }));
  const policies = teams.map((_, i) =>
    pol('a', `np-${String(i).padStart(3, '0')}`, {
      podSelector: { matchLabels: { app: 'server' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { team: `t${i}` } } }], ports: [{ port: 8080 }] }],
    }),
  );
  const p = run(policies, [...pods, ...teams]);
  const lines = returns(p, podChain('ingress', server));
  t.is(lines.length, 1);
  t.regex(lines[0], /^-m comment --comment "a\/np-000 ingress\[0\] and 99 more" -m set --match-set hnp-[0-9a-f]{16} src -p tcp -m tcp --dport 8080 -j RETURN$/);
  t.deepEqual(setOf(p, lines[0]), teams.map((c) => c.ip).sort());
  // a second port and an any-address rule: one rule more each, whatever the number of policies
  const more = run(
    [
      ...policies,
      pol('a', 'metrics', { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { team: 't1' } } }], ports: [{ port: 9090 }] }] }),
      pol('a', 'health', { podSelector: {}, ingress: [{ ports: [{ port: 8081 }] }] }),
    ],
    [...pods, ...teams],
  );
  t.is(returns(more, podChain('ingress', server)).length, 3);
});

test('pods that the same policies select share their sets; a block and pod peers of one port match are two rules', (t) => {
  const twin = pod('a', 'server-2', '10.0.0.12', { app: 'server' });
  const p = run(
    [
      pol('a', 'x', {
        podSelector: { matchLabels: { app: 'server' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }, { ipBlock: { cidr: '192.168.0.0/16' } }] }],
      }),
      pol('a', 'y', { podSelector: { matchLabels: { app: 'server' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'y' } } }] }] }),
    ],
    [...pods, twin],
  );
  const a = returns(p, podChain('ingress', server));
  t.is(a.length, 2);
  t.deepEqual(setOf(p, a[0]), ['10.0.0.11', '10.0.1.11', '10.0.1.12']);
  t.deepEqual(setOf(p, a[1]), ['192.168.0.0/16']);
  t.deepEqual(returns(p, podChain('ingress', twin)), a, 'the same rules, naming the same sets');
  t.is(p.sets.size, 2);
});

/** Whether ipset hash:net entries match an address: the most specific entry wins, nomatch refuses. */
function netMatches(entries: string[], ip: string): boolean {
  const n = (s: string) => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  let best: { bits: number; match: boolean } | undefined;
  for (const e of entries) {
    const [cidr, flag] = e.split(' ');
    const [net, b] = cidr.split('/');
    const bits = Number(b);
    const size = 2 ** (32 - bits);
    if (Math.floor(n(ip) / size) !== Math.floor(n(net) / size)) continue;
    if (!best || bits > best.bits) best = { bits, match: flag !== 'nomatch' };
  }
  return !!best?.match;
}

test('blocks with excepts merged into one hash:net set: their union, exactly', (t) => {
  const p = run([
    pol('a', 'wide', { podSelector: { matchLabels: { app: 'server' } }, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }] }] }),
    pol('a', 'narrow', {
      podSelector: { matchLabels: { app: 'server' } },
      ingress: [{ from: [{ ipBlock: { cidr: '10.1.0.0/16', except: ['10.1.1.0/24'] } }] }],
    }),
    pol('a', 'all-but', {
      podSelector: { matchLabels: { app: 'server' } },
      ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['0.0.0.0/2', '192.0.0.0/2'] } }] }],
    }),
  ]);
  const [line] = returns(p, podChain('ingress', server));
  const entries = setOf(p, line);
  t.is(p.sets.get(/--match-set (\S+)/.exec(line)![1])!.type, 'hash:net');
  t.false(
    entries.some((e) => e.endsWith('/0')),
    'hash:net refuses a /0',
  );
  const cases: [string, boolean][] = [
    ['10.0.0.1', true],
    ['10.1.0.1', true],
    ['10.1.1.7', false],
    ['10.1.2.7', true],
    ['10.255.255.255', true],
    ['9.255.255.255', false],
    ['11.0.0.0', false],
    ['64.0.0.0', true],
    ['191.255.255.255', true],
    ['192.0.0.1', false],
  ];
  for (const [ip, want] of cases) t.is(netMatches(entries, ip), want, ip);
});

test('egress named ports of several policies: one ip,port set', (t) => {
  const web2 = pod('b', 'web', '10.0.1.20', { app: 'server' }, { node: 'n2', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] });
  const p = run(
    [
      pol('a', 'http', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http' }] }] }),
      pol('a', 'dns', { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'dns', protocol: 'UDP' }] }] }),
    ],
    [...pods, web2],
  );
  const lines = returns(p, podChain('egress', clientA));
  t.is(lines.length, 1);
  t.regex(lines[0], /a\/dns egress\[0\] and 1 more" -m set --match-set hnp-[0-9a-f]{16} dst,dst -j RETURN$/);
  t.deepEqual(setOf(p, lines[0]), ['10.0.0.10,tcp:8080', '10.0.1.20,udp:53']);
});

test('a policy more for a pod: its merged set is made under a new name first, the chain moved to it, the old set destroyed last', (t) => {
  const from = (name: string, app: string) =>
    pol('a', name, {
      podSelector: { matchLabels: { app: 'server' } },
      ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app } } }] }],
    });
  const first = run([from('one', 'client'), from('two', 'other')]);
  const second = run([from('one', 'client'), from('two', 'other'), from('three', 'server')]);
  const [oldSet] = first.sets.keys();
  const [newSet] = second.sets.keys();
  t.not(oldSet, newSet);
  const s = steps({ plan: first }, second);
  t.regex(s.sets, new RegExp(`^create ${newSet} hash:ip`));
  t.true(s.rules.includes(`--match-set ${newSet} src`));
  t.false(s.rules.includes(oldSet), 'no rule names the old set once the chain is rewritten');
  t.is(s.dropSets, `destroy ${oldSet}\n`);
  t.deepEqual(second.sets.get(newSet)!.entries, ['10.0.0.10', '10.0.0.11', '10.0.1.11', '10.0.1.12']);
});
