// iptables mode as data: the rules of each Service kind against upstream kube-proxy's expected
// output, and the planner that turns changes into restore inputs touching only what changed.
import test from 'ava';
import type { V1Service } from '@kubernetes/client-node';
import { servicePorts, type Endpoint } from '../../agents/kube-proxy/model.ts';
import { fullSync, partialSync, ruleCounts } from '../../agents/kube-proxy/iptables/plan.ts';
import { renderService, type IptContext, type IptFragment } from '../../agents/kube-proxy/iptables/render.ts';
import { JUMPS, topTails } from '../../agents/kube-proxy/iptables/statics.ts';
import { hasJump, jumpRestore } from '../../agents/kube-proxy/netfilter.ts';

const ctx: IptContext = { clusterCIDR: '10.0.0.0/8', masqueradeAll: false, nodeIP: '192.168.0.2' };
const tails = topTails({ nodePortIPs: [] });
const ep = (ip: string, o: Partial<Endpoint> = {}): Endpoint => ({ ip, port: 80, ready: true, serving: true, terminating: false, local: false, ...o });

function frag(spec: Record<string, unknown>, eps: Endpoint[], status?: Record<string, unknown>, c: IptContext = ctx, name = 'svc1'): IptFragment {
  const s = {
    metadata: { namespace: 'ns1', name },
    spec: { clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }], ...spec },
    status,
  } as V1Service;
  return renderService(
    servicePorts(s).map((p) => ({ svc: p, endpoints: eps })),
    c,
  );
}
const lines = (f: IptFragment) => [...f.chains.values()].flat();

test('ClusterIP + NodePort: upstream layout, names and order', (t) => {
  const f = frag({ type: 'NodePort', ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }] }, [ep('10.180.0.1'), ep('10.180.0.2')]);
  t.deepEqual([...f.chains.keys()], ['KUBE-EXT-XPGD46QRK7WJZT7O', 'KUBE-SVC-XPGD46QRK7WJZT7O', 'KUBE-SEP-SXIVWICOYRO3J4NJ', 'KUBE-SEP-LXVODXWDISEETFEF']);
  t.deepEqual(f.top['nat KUBE-SERVICES'], [
    '-m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O',
  ]);
  t.deepEqual(f.top['nat KUBE-NODEPORTS'], ['-m comment --comment ns1/svc1:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-XPGD46QRK7WJZT7O']);
  t.deepEqual(lines(f), [
    '-A KUBE-EXT-XPGD46QRK7WJZT7O -m comment --comment "masquerade traffic for ns1/svc1:p80 external destinations" -j KUBE-MARK-MASQ',
    '-A KUBE-EXT-XPGD46QRK7WJZT7O -j KUBE-SVC-XPGD46QRK7WJZT7O',
    '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
    '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-SXIVWICOYRO3J4NJ',
    '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.2:80" -j KUBE-SEP-LXVODXWDISEETFEF',
    '-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ',
    '-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80',
    '-A KUBE-SEP-LXVODXWDISEETFEF -m comment --comment ns1/svc1:p80 -s 10.180.0.2 -j KUBE-MARK-MASQ',
    '-A KUBE-SEP-LXVODXWDISEETFEF -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80',
  ]);
  t.deepEqual(f.top['filter KUBE-SERVICES'], []);
});

test('probabilities spread evenly over n endpoints', (t) => {
  const f = frag(
    {},
    ['1', '2', '3', '4'].map((i) => ep(`10.1.0.${i}`)),
  );
  const probs = f.chains.get('KUBE-SVC-XPGD46QRK7WJZT7O')!.map((l) => /--probability (\S+)/.exec(l)?.[1] ?? 'last');
  t.deepEqual(probs.slice(1), ['0.2500000000', '0.3333333333', '0.5000000000', 'last']);
});

test('no endpoints: no nat chains, filter rejects ClusterIP and NodePort (TCP reset)', (t) => {
  const f = frag({ type: 'NodePort', ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }] }, []);
  t.is(f.chains.size, 0);
  t.deepEqual(f.top['nat KUBE-SERVICES'], []);
  t.deepEqual(f.top['filter KUBE-SERVICES'], [
    '-m comment --comment "ns1/svc1:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j REJECT --reject-with tcp-reset',
  ]);
  t.deepEqual(f.top['filter KUBE-EXTERNAL-SERVICES'], [
    '-m comment --comment "ns1/svc1:p80 has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j REJECT --reject-with tcp-reset',
  ]);
  const udp = frag({ ports: [{ name: 'p80', port: 80, protocol: 'UDP' }] }, []);
  t.regex(udp.top['filter KUBE-SERVICES'][0], /-m udp -p udp -d 172\.30\.0\.41 --dport 80 -j REJECT$/);
});

test('LoadBalancer with source ranges: KUBE-FW chain and KUBE-PROXY-FIREWALL drop', (t) => {
  const f = frag(
    {
      type: 'LoadBalancer',
      loadBalancerSourceRanges: ['192.168.0.0/24', '203.0.113.0/25'],
      ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }],
    },
    [ep('10.180.0.1')],
    { loadBalancer: { ingress: [{ ip: '1.2.3.4' }, { ip: '5.6.7.8' }] } },
  );
  t.deepEqual(f.chains.get('KUBE-FW-XPGD46QRK7WJZT7O'), [
    '-A KUBE-FW-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 loadbalancer IP" -s 192.168.0.0/24 -j KUBE-EXT-XPGD46QRK7WJZT7O',
    '-A KUBE-FW-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-XPGD46QRK7WJZT7O',
    '-A KUBE-FW-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 loadbalancer IP" -s 1.2.3.4 -j KUBE-EXT-XPGD46QRK7WJZT7O',
    '-A KUBE-FW-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 loadbalancer IP" -s 5.6.7.8 -j KUBE-EXT-XPGD46QRK7WJZT7O',
    '-A KUBE-FW-XPGD46QRK7WJZT7O -m comment --comment "other traffic to ns1/svc1:p80 will be dropped by KUBE-PROXY-FIREWALL"',
  ]);
  t.deepEqual(f.top['nat KUBE-SERVICES'].slice(1), [
    '-m comment --comment "ns1/svc1:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-FW-XPGD46QRK7WJZT7O',
    '-m comment --comment "ns1/svc1:p80 loadbalancer IP" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j KUBE-FW-XPGD46QRK7WJZT7O',
  ]);
  t.deepEqual(f.top['filter KUBE-PROXY-FIREWALL'], [
    '-m comment --comment "ns1/svc1:p80 traffic not accepted by KUBE-FW-XPGD46QRK7WJZT7O" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP',
    '-m comment --comment "ns1/svc1:p80 traffic not accepted by KUBE-FW-XPGD46QRK7WJZT7O" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j DROP',
  ]);
});

test('externalTrafficPolicy Local: EXT short-circuits pods and the node, then KUBE-SVL', (t) => {
  const f = frag({ externalIPs: ['192.168.99.11'], externalTrafficPolicy: 'Local' }, [ep('10.180.0.1', { local: true }), ep('10.180.0.2')]);
  t.deepEqual(f.chains.get('KUBE-EXT-XPGD46QRK7WJZT7O'), [
    '-A KUBE-EXT-XPGD46QRK7WJZT7O -m comment --comment "pod traffic for ns1/svc1:p80 external destinations" -s 10.0.0.0/8 -j KUBE-SVC-XPGD46QRK7WJZT7O',
    '-A KUBE-EXT-XPGD46QRK7WJZT7O -m comment --comment "masquerade LOCAL traffic for ns1/svc1:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ',
    '-A KUBE-EXT-XPGD46QRK7WJZT7O -m comment --comment "route LOCAL traffic for ns1/svc1:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-XPGD46QRK7WJZT7O',
    '-A KUBE-EXT-XPGD46QRK7WJZT7O -j KUBE-SVL-XPGD46QRK7WJZT7O',
  ]);
  t.deepEqual(f.chains.get('KUBE-SVL-XPGD46QRK7WJZT7O'), [
    '-A KUBE-SVL-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ',
  ]);
  t.deepEqual(
    f.top['nat KUBE-SERVICES'][1],
    '-m comment --comment "ns1/svc1:p80 external IP" -m tcp -p tcp -d 192.168.99.11 --dport 80 -j KUBE-EXT-XPGD46QRK7WJZT7O',
  );
  // no local endpoint: external traffic not short-circuited is dropped, the EXT chain stays
  const none = frag({ externalIPs: ['192.168.99.11'], externalTrafficPolicy: 'Local' }, [ep('10.180.0.2')]);
  t.deepEqual(none.top['filter KUBE-EXTERNAL-SERVICES'], [
    '-m comment --comment "ns1/svc1:p80 has no local endpoints" -m tcp -p tcp -d 192.168.99.11 --dport 80 -j DROP',
  ]);
  t.false(none.chains.get('KUBE-EXT-XPGD46QRK7WJZT7O')!.some((l) => l.endsWith('KUBE-SVL-XPGD46QRK7WJZT7O')));
  const hc = frag(
    { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 30000, ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }] },
    [ep('10.180.0.1', { local: true })],
  );
  t.deepEqual(hc.top['filter KUBE-NODEPORTS'], ['-m comment --comment "ns1/svc1:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT']);
});

test('internalTrafficPolicy Local: ClusterIP goes to KUBE-SVL, or is dropped', (t) => {
  const f = frag({ internalTrafficPolicy: 'Local' }, [ep('10.180.0.1', { local: true }), ep('10.180.0.2')]);
  t.deepEqual([...f.chains.keys()], ['KUBE-SVL-XPGD46QRK7WJZT7O', 'KUBE-SEP-SXIVWICOYRO3J4NJ']);
  t.regex(f.top['nat KUBE-SERVICES'][0], /-j KUBE-SVL-XPGD46QRK7WJZT7O$/);
  const none = frag({ internalTrafficPolicy: 'Local' }, [ep('10.180.0.2')]);
  t.deepEqual(none.top['filter KUBE-SERVICES'], ['-m comment --comment "ns1/svc1:p80 has no local endpoints" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j DROP']);
});

test('ClientIP affinity: recent --rcheck first, --set in the endpoint chain', (t) => {
  const f = frag({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } } }, [ep('10.180.0.1')]);
  t.deepEqual(f.chains.get('KUBE-SVC-XPGD46QRK7WJZT7O')!.slice(1), [
    '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m recent --name KUBE-SEP-SXIVWICOYRO3J4NJ --rcheck --seconds 10800 --reap -j KUBE-SEP-SXIVWICOYRO3J4NJ',
    '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ',
  ]);
  t.is(
    f.chains.get('KUBE-SEP-SXIVWICOYRO3J4NJ')![1],
    '-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m recent --name KUBE-SEP-SXIVWICOYRO3J4NJ --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80',
  );
});

test('masqueradeAll, no cluster CIDR, large cluster mode', (t) => {
  const all = frag({}, [ep('10.180.0.1')], undefined, { ...ctx, masqueradeAll: true });
  t.is(
    all.chains.get('KUBE-SVC-XPGD46QRK7WJZT7O')![0],
    '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-MARK-MASQ',
  );
  const noCidr = frag({}, [ep('10.180.0.1')], undefined, { ...ctx, clusterCIDR: '' });
  t.false(lines(noCidr).some((l) => l.includes('cluster IP')));
  const large = frag({}, [ep('10.180.0.1')], undefined, { ...ctx, largeCluster: true });
  t.deepEqual(large.chains.get('KUBE-SEP-SXIVWICOYRO3J4NJ'), [
    '-A KUBE-SEP-SXIVWICOYRO3J4NJ -s 10.180.0.1 -j KUBE-MARK-MASQ',
    '-A KUBE-SEP-SXIVWICOYRO3J4NJ -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80',
  ]);
  t.is(large.chains.get('KUBE-SVC-XPGD46QRK7WJZT7O')![1], '-A KUBE-SVC-XPGD46QRK7WJZT7O -j KUBE-SEP-SXIVWICOYRO3J4NJ');
});

test('full sync: static chains first, Service chains in chunks, shared chains last, stale chains removed', (t) => {
  const fragments = new Map<string, IptFragment>();
  for (let i = 0; i < 10; i++)
    fragments.set(`ns1/s${i}`, frag({ clusterIP: `172.30.0.${i}` }, [ep(`10.1.0.${i}`), ep(`10.2.0.${i}`)], undefined, ctx, `s${i}`));
  const inputs = fullSync({ fragments, tails, existing: ['KUBE-SVC-GONEGONEGONEGONE', 'KUBE-SEP-GONEGONEGONEGONE'], maxChains: 7 });
  t.regex(inputs[0], /^\*nat\n:KUBE-POSTROUTING - \[0:0\]\n:KUBE-MARK-MASQ/);
  const chunks = inputs.slice(1, -3);
  t.is(chunks.length, 5, 'three chains per Service, at most seven per input: two Services each');
  t.true(chunks.every((c) => c.split('\n').filter((l) => l.startsWith(':')).length === 6));
  const fin = inputs[inputs.length - 3];
  t.regex(fin, /^\*filter\n:KUBE-SERVICES - \[0:0\]\n:KUBE-EXTERNAL-SERVICES/);
  t.true(
    fin.includes(
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS\nCOMMIT',
    ),
  );
  t.is(fin.match(/cluster IP" -m tcp -p tcp -d 172\.30\.0\.\d+ --dport 80 -j KUBE-SVC-/g)?.length, 10);
  t.is(inputs[inputs.length - 2], '*nat\n:KUBE-SVC-GONEGONEGONEGONE - [0:0]\n:KUBE-SEP-GONEGONEGONEGONE - [0:0]\nCOMMIT\n');
  t.is(inputs[inputs.length - 1], '*nat\n-X KUBE-SVC-GONEGONEGONEGONE\n-X KUBE-SEP-GONEGONEGONEGONE\nCOMMIT\n');
  t.deepEqual(ruleCounts(fragments.values()), { nat: 10 * (1 + 1 + 2 + 4), filter: 0 });
});

test("partial sync: one endpoint change rewrites only that Service's chains", (t) => {
  const applied = new Map<string, IptFragment>();
  for (let i = 0; i < 50; i++) applied.set(`ns1/s${i}`, frag({ clusterIP: `172.30.0.${i}` }, [ep(`10.1.0.${i}`), ep(`10.2.0.${i}`)], undefined, ctx, `s${i}`));
  const next = frag({ clusterIP: '172.30.0.7' }, [ep('10.1.0.7'), ep('10.3.0.7')], undefined, ctx, 's7');
  const [text, ...rest] = partialSync({ applied, changed: new Map([['ns1/s7', next]]), tails });
  t.deepEqual(rest, []);
  const old = applied.get('ns1/s7')!;
  const [svcChain, keptSep, goneSep] = [...old.chains.keys()];
  const newSep = [...next.chains.keys()].find((c) => !old.chains.has(c))!;
  t.true(text.startsWith('*nat\n'), 'no filter section: nothing changed there');
  t.deepEqual(
    text
      .split('\n')
      .filter((l) => l.startsWith(':'))
      .sort(),
    [`:${svcChain} - [0:0]`, `:${newSep} - [0:0]`, `:${goneSep} - [0:0]`].sort(),
  );
  t.false(text.includes(`:${keptSep}`), 'an unchanged endpoint chain is not rewritten');
  t.true(text.includes(`-X ${goneSep}\nCOMMIT`));
  t.false(text.includes('KUBE-SERVICES'), 'the shared chain is untouched');
  for (const [s, f] of applied) if (s !== 'ns1/s7') for (const c of f.chains.keys()) t.false(text.includes(c));
  // nothing changed: nothing to run
  t.deepEqual(partialSync({ applied, changed: new Map([['ns1/s3', applied.get('ns1/s3')]]), tails }), []);
});

test('partial sync: shared chains get rule edits, the NodePort jump stays last', (t) => {
  const applied = new Map([['ns1/svc1', frag({}, [ep('10.1.0.1')])]]);
  const gone = partialSync({ applied, changed: new Map([['ns1/svc1', frag({}, [])]]), tails })[0];
  t.true(gone.includes('*filter\n-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints"'));
  t.true(
    gone.includes('\n-D KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O\n'),
  );
  t.regex(gone, /-X KUBE-SVC-XPGD46QRK7WJZT7O\n-X KUBE-SEP-\w+\nCOMMIT\n$/);
  const added = partialSync({ applied: new Map(), changed: new Map([['ns1/svc1', frag({}, [ep('10.1.0.1')])]]), tails })[0];
  t.true(added.includes('\n-I KUBE-SERVICES 1 -m comment --comment "ns1/svc1:p80 cluster IP"'));
  // many edits: the shared chain is rewritten whole, tail included
  const many = new Map<string, IptFragment | undefined>();
  for (let i = 0; i < 30; i++) many.set(`ns1/s${i}`, frag({ clusterIP: `172.30.1.${i}` }, [ep(`10.1.1.${i}`)], undefined, ctx, `s${i}`));
  const big = partialSync({ applied: new Map(), changed: many, tails, maxTopEdits: 10 })[0];
  t.true(big.includes('\n:KUBE-SERVICES - [0:0]\n'));
  t.regex(big, /-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain"[^\n]*\nCOMMIT\n$/);
  // many new chains: cut into several inputs, shared chains in the last
  const chunked = partialSync({ applied: new Map(), changed: many, tails, maxChains: 6 });
  t.is(chunked.length, 11, 'two chains per Service, six per input, then the shared chains');
  t.true(chunked.slice(0, -1).every((x) => !x.includes('KUBE-SERVICES')));
});

test('jumps from built-in chains: only missing ones are inserted, first', (t) => {
  const listing = '-P PREROUTING ACCEPT\n-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n';
  const pre = JUMPS.find((j) => j.chain === 'PREROUTING')!;
  t.true(hasJump(listing, pre));
  t.false(hasJump('-P PREROUTING ACCEPT\n', pre));
  t.is(jumpRestore([]), '');
  t.is(jumpRestore([pre]), '*nat\n-I PREROUTING 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\nCOMMIT\n');
});
