// nftables mode as data: per-Service chains and verdict-map elements, and the transactions that
// carry only the difference.
import test from 'ava';
import type { V1Service } from '@kubernetes/client-node';
import { servicePorts, type Endpoint } from '../../agents/kube-proxy/model.ts';
import { nftBase, nftEndpointBase } from '../../agents/kube-proxy/names.ts';
import { ElementBook, baseTransaction, deleteTransaction, fullTransaction, partialTransaction } from '../../agents/kube-proxy/nftables/plan.ts';
import { renderNftService, type NftContext, type NftFragment } from '../../agents/kube-proxy/nftables/render.ts';

const ctx: NftContext = { clusterCIDR: '10.0.0.0/8', masqueradeAll: false, nodeIP: '192.168.0.2' };
const ep = (ip: string, o: Partial<Endpoint> = {}): Endpoint => ({ ip, port: 80, ready: true, serving: true, terminating: false, local: false, ...o });

function render(spec: Record<string, unknown>, eps: Endpoint[], status?: Record<string, unknown>, name = 'svc1'): NftFragment {
  const s = {
    metadata: { namespace: 'ns1', name },
    spec: { clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }], ...spec },
    status,
  } as V1Service;
  return renderNftService(
    servicePorts(s).map((p) => ({ svc: p, endpoints: eps })),
    ctx,
  );
}
const base = nftBase(servicePorts({ metadata: { namespace: 'ns1', name: 'svc1' }, spec: { clusterIP: '1.1.1.1', ports: [{ name: 'p80', port: 80 }] } })[0]);
const elements = (f: NftFragment) => Object.fromEntries([...f.elements].map(([k, m]) => [k, Object.fromEntries(m)]));

test('ClusterIP + NodePort: service chain DNATs through a numgen map', (t) => {
  const f = render({ type: 'NodePort', ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }] }, [ep('10.180.0.1'), ep('10.180.0.2')]);
  t.deepEqual([...f.chains.keys()], [`service-${base}`, `external-${base}`]);
  t.deepEqual(f.chains.get(`service-${base}`), [
    'ip daddr 172.30.0.41 tcp dport 80 ip saddr != 10.0.0.0/8 jump mark-for-masquerade',
    'meta l4proto tcp dnat ip to numgen random mod 2 map { 0 : 10.180.0.1 . 80, 1 : 10.180.0.2 . 80 }',
  ]);
  t.deepEqual(f.chains.get(`external-${base}`), ['jump mark-for-masquerade', `goto service-${base}`]);
  t.deepEqual(elements(f), {
    'service-ips': { '172.30.0.41 . tcp . 80': `goto service-${base}` },
    'service-nodeports': { 'tcp . 3001': `goto external-${base}` },
    'hairpin-pairs': { '10.180.0.1 . 10.180.0.1': '', '10.180.0.2 . 10.180.0.2': '' },
  });
  t.deepEqual(render({}, [ep('10.180.0.1')]).chains.get(`service-${base}`)![1], 'meta l4proto tcp dnat ip to 10.180.0.1:80');
});

test('no endpoints and no local endpoints: reject and drop verdicts', (t) => {
  const none = render({ type: 'NodePort', ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }] }, []);
  t.is(none.chains.size, 0);
  t.deepEqual(elements(none), {
    'no-endpoint-services': { '172.30.0.41 . tcp . 80': 'goto reject-chain' },
    'no-endpoint-nodeports': { 'tcp . 3001': 'goto reject-chain' },
  });
  const local = render({ externalIPs: ['192.168.99.11'], externalTrafficPolicy: 'Local' }, [ep('10.180.0.2')]);
  t.is(elements(local)['no-endpoint-services']['192.168.99.11 . tcp . 80'], 'drop');
  t.deepEqual(local.chains.get(`external-${base}`), [
    `ip saddr 10.0.0.0/8 goto service-${base}`,
    'fib saddr type local jump mark-for-masquerade',
    `fib saddr type local goto service-${base}`,
  ]);
});

test('LoadBalancer with source ranges and Local policy', (t) => {
  const f = render(
    {
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      loadBalancerSourceRanges: ['192.168.0.0/24'],
      ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }],
    },
    [ep('10.180.0.1', { local: true }), ep('10.180.0.2')],
    { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
  );
  t.deepEqual(f.chains.get(`firewall-${base}`), ['ip saddr != { 192.168.0.0/24, 1.2.3.4 } drop']);
  t.deepEqual(f.chains.get(`local-${base}`), ['meta l4proto tcp dnat ip to 10.180.0.1:80']);
  t.is(f.chains.get(`external-${base}`)!.at(-1), `goto local-${base}`);
  t.is(elements(f)['firewall-ips']['1.2.3.4 . tcp . 80'], `goto firewall-${base}`);
  t.is(elements(f)['service-ips']['1.2.3.4 . tcp . 80'], `goto external-${base}`);
});

test('ClientIP affinity uses endpoint chains and timeout sets', (t) => {
  const f = render({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }, [ep('10.180.0.1'), ep('10.180.0.2')]);
  const p = servicePorts({ metadata: { namespace: 'ns1', name: 'svc1' }, spec: { clusterIP: '1.1.1.1', ports: [{ name: 'p80', port: 80 }] } })[0];
  const [e1, e2] = ['10.180.0.1', '10.180.0.2'].map((ip) => nftEndpointBase(p, { ip, port: 80 }));
  t.deepEqual(
    [...f.affinitySets],
    [
      [`affinity-${e1}`, 60],
      [`affinity-${e2}`, 60],
    ],
  );
  t.deepEqual(f.chains.get(`service-${base}`)!.slice(1), [
    `ip saddr @affinity-${e1} goto endpoint-${e1}`,
    `ip saddr @affinity-${e2} goto endpoint-${e2}`,
    `numgen random mod 2 vmap { 0 : goto endpoint-${e1}, 1 : goto endpoint-${e2} }`,
  ]);
  t.deepEqual(f.chains.get(`endpoint-${e1}`), [`update @affinity-${e1} { ip saddr }`, 'meta l4proto tcp dnat ip to 10.180.0.1:80']);
});

test('base transaction rebuilds the table atomically, nodeport-ips when addresses are given', (t) => {
  const all = baseTransaction({ nodePortIPs: [] }).join('\n');
  t.regex(all, /^add table ip kube-proxy \{ comment "rules for kube-proxy" ; \}\ndelete table ip kube-proxy\nadd table/);
  t.true(all.includes('add rule ip kube-proxy services fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports'));
  t.true(all.includes('add rule ip kube-proxy reject-chain meta l4proto tcp reject with tcp reset'));
  const some = baseTransaction({ nodePortIPs: ['192.168.0.2'] }).join('\n');
  t.true(some.includes('add element ip kube-proxy nodeport-ips { 192.168.0.2 }'));
  t.true(some.includes('add rule ip kube-proxy services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports'));
});

test('full transaction: chains before elements, elements batched per map', (t) => {
  const book = new ElementBook();
  const text = fullTransaction(new Map([['ns1/svc1', render({}, [ep('10.180.0.1')])]]), { nodePortIPs: [] }, book);
  const chainAt = text.indexOf(`add chain ip kube-proxy service-${base}`);
  const elemAt = text.indexOf('add element ip kube-proxy service-ips');
  t.true(chainAt > 0 && elemAt > chainAt);
  t.true(text.includes(`add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto service-${base} }`));
  t.true(text.includes('add element ip kube-proxy hairpin-pairs { 10.180.0.1 . 10.180.0.1 }'));
});

test('partial transaction: only the changed chain and elements; stale chains flushed for later deletion', (t) => {
  const book = new ElementBook();
  const a = render({}, [ep('10.180.0.1'), ep('10.180.0.2')]);
  const other = render({ clusterIP: '172.30.0.42' }, [ep('10.180.0.1')], undefined, 'svc2');
  fullTransaction(
    new Map([
      ['ns1/svc1', a],
      ['ns1/svc2', other],
    ]),
    { nodePortIPs: [] },
    book,
  );
  const applied = new Map([
    ['ns1/svc1', a],
    ['ns1/svc2', other],
  ]);
  const b = render({}, [ep('10.180.0.1'), ep('10.180.0.3')]);
  const r = partialTransaction(applied, new Map([['ns1/svc1', b]]), book);
  t.deepEqual(r.text.split('\n').filter(Boolean), [
    `add chain ip kube-proxy service-${base}`,
    `flush chain ip kube-proxy service-${base}`,
    `add rule ip kube-proxy service-${base} ip daddr 172.30.0.41 tcp dport 80 ip saddr != 10.0.0.0/8 jump mark-for-masquerade`,
    `add rule ip kube-proxy service-${base} meta l4proto tcp dnat ip to numgen random mod 2 map { 0 : 10.180.0.1 . 80, 1 : 10.180.0.3 . 80 }`,
    'delete element ip kube-proxy hairpin-pairs { 10.180.0.2 . 10.180.0.2 }',
    'add element ip kube-proxy hairpin-pairs { 10.180.0.3 . 10.180.0.3 }',
  ]);
  applied.set('ns1/svc1', b);
  // 10.180.0.1 is shared with svc2: its hairpin pair stays while svc2 claims it
  const gone = partialTransaction(applied, new Map([['ns1/svc1', undefined]]), book);
  t.deepEqual(gone.staleChains, [`service-${base}`]);
  t.true(gone.text.includes(`delete element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 }`));
  t.true(gone.text.includes('delete element ip kube-proxy hairpin-pairs { 10.180.0.3 . 10.180.0.3 }'));
  t.false(gone.text.includes('10.180.0.1 . 10.180.0.1'));
  t.true(gone.text.endsWith(`flush chain ip kube-proxy service-${base}\n`));
  t.is(partialTransaction(new Map([['ns1/svc2', other]]), new Map([['ns1/svc2', other]]), book).text, '');
  t.is(deleteTransaction(['c1'], ['s1']), 'delete chain ip kube-proxy c1\ndelete set ip kube-proxy s1\n');
});

test('element book: a verdict change is a delete then an add', (t) => {
  const book = new ElementBook();
  const open = render({}, [ep('10.180.0.1')]);
  const closed = render({}, []);
  book.update('ns1/svc1', undefined, open);
  const ops = book.update('ns1/svc1', open, closed);
  t.deepEqual(ops.del.map((o) => o.set).sort(), ['hairpin-pairs', 'service-ips']);
  t.deepEqual(ops.add, [{ set: 'no-endpoint-services', key: '172.30.0.41 . tcp . 80', value: 'goto reject-chain' }]);
});
