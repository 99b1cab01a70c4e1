// Pure parts of the proxy's view of the API: Service and EndpointSlice conversion, endpoint
// policy, chain names and the change tracker.
import test from 'ava';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { servicePorts, sliceEndpoints, type Endpoint, type ServicePort } from '../../agents/kube-proxy/model.ts';
import { base32, iptablesChains, iptablesEndpointChain, nftBase, nftEndpointBase } from '../../agents/kube-proxy/names.ts';
import { categorize, planPort } from '../../agents/kube-proxy/policy.ts';
import { ChangeTracker } from '../../agents/kube-proxy/tracker.ts';

const svc = (spec: Record<string, unknown>, status?: Record<string, unknown>): V1Service =>
  ({ metadata: { namespace: 'ns1', name: 'svc1' }, spec: { clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80 }], ...spec }, status }) as V1Service;

const slice = (name: string, eps: Array<Record<string, unknown>>, extra: Partial<V1EndpointSlice> = {}): V1EndpointSlice => ({
  addressType: 'IPv4',
  metadata: { namespace: 'ns1', name, labels: { 'kubernetes.io/service-name': 'svc1' } },
  ports: [{ name: 'p80', port: 8080, protocol: 'TCP' }],
  endpoints: eps as never,
  ...extra,
});

test('base32 follows RFC 4648 (without padding)', (t) => {
  t.is(base32(Buffer.from('')), '');
  t.is(base32(Buffer.from('f')), 'MY');
  t.is(base32(Buffer.from('foobar')), 'MZXW6YTBOI');
});

test("chain names are upstream kube-proxy's (its test vectors)", (t) => {
  const p = servicePorts(svc({}))[0];
  t.is(p.name, 'ns1/svc1:p80');
  t.deepEqual(iptablesChains(p), {
    svc: 'KUBE-SVC-XPGD46QRK7WJZT7O',
    svl: 'KUBE-SVL-XPGD46QRK7WJZT7O',
    ext: 'KUBE-EXT-XPGD46QRK7WJZT7O',
    fw: 'KUBE-FW-XPGD46QRK7WJZT7O',
  });
  t.is(iptablesEndpointChain(p, '10.180.0.1:80'), 'KUBE-SEP-SXIVWICOYRO3J4NJ');
  t.is(iptablesEndpointChain(p, '10.180.0.2:80'), 'KUBE-SEP-LXVODXWDISEETFEF');
  t.regex(nftBase(p), /^[A-Z2-7]{8}-ns1\/svc1\/tcp\/p80$/);
  t.regex(nftEndpointBase(p, { ip: '10.180.0.1', port: 80 }), /^[A-Z2-7]{8}-ns1\/svc1\/tcp\/p80__10\.180\.0\.1\/80$/);
  // an unnamed port is just ns/name; UDP hashes differently
  const unnamed = servicePorts(svc({ ports: [{ port: 53, protocol: 'UDP' }] }))[0];
  t.is(unnamed.name, 'ns1/svc1');
  t.not(iptablesChains(unnamed).svc, iptablesChains(p).svc);
});

test('servicePorts skips what kube-proxy skips and fills defaults', (t) => {
  t.deepEqual(servicePorts(svc({ clusterIP: 'None' })), []);
  t.deepEqual(servicePorts(svc({ clusterIP: '' })), []);
  t.deepEqual(servicePorts(svc({ type: 'ExternalName', externalName: 'x.example' })), []);
  t.deepEqual(servicePorts(svc({ clusterIP: 'fd00::1', clusterIPs: ['fd00::1'] })), []);
  const [p] = servicePorts(svc({ clusterIPs: ['fd00::1', '172.30.0.41'] }));
  t.is(p.clusterIP, '172.30.0.41');
  t.is(p.protocol, 'TCP');
  t.is(p.nodePort, 0);
  t.is(p.affinitySeconds, 0);
  t.false(p.externalPolicyLocal);
});

test('servicePorts: NodePort, LoadBalancer, affinity and traffic policies', (t) => {
  const [np] = servicePorts(svc({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'p80', port: 80, nodePort: 30080 }] }));
  t.is(np.nodePort, 30080);
  t.true(np.externalPolicyLocal);
  t.is(np.healthCheckNodePort, 0, 'only LoadBalancer Services get a health check node port');
  // ClusterIP with nodePort set is not a NodePort; Local policy needs external access
  const [cip] = servicePorts(svc({ externalTrafficPolicy: 'Local', ports: [{ name: 'p80', port: 80, nodePort: 30080 }] }));
  t.is(cip.nodePort, 0);
  t.false(cip.externalPolicyLocal);
  const [ext] = servicePorts(svc({ externalTrafficPolicy: 'Local', externalIPs: ['192.168.99.11', 'fd00::5'] }));
  t.deepEqual(ext.externalIPs, ['192.168.99.11']);
  t.true(ext.externalPolicyLocal);
  const [lb] = servicePorts(
    svc(
      {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 32000,
        loadBalancerSourceRanges: [' 192.168.0.0/24 '],
        ports: [{ name: 'p80', port: 80, nodePort: 3001 }],
      },
      { loadBalancer: { ingress: [{ ip: '1.2.3.4' }, { ip: '5.6.7.8', ipMode: 'Proxy' }, { hostname: 'lb.example' }] } },
    ),
  );
  t.deepEqual(lb.loadBalancerIPs, ['1.2.3.4']);
  t.deepEqual(lb.loadBalancerSourceRanges, ['192.168.0.0/24']);
  t.is(lb.healthCheckNodePort, 32000);
  const [aff] = servicePorts(svc({ sessionAffinity: 'ClientIP' }));
  t.is(aff.affinitySeconds, 10800);
  const [aff2] = servicePorts(svc({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }));
  t.is(aff2.affinitySeconds, 60);
  t.true(servicePorts(svc({ internalTrafficPolicy: 'Local' }))[0].internalPolicyLocal);
});

test('sliceEndpoints: conditions, node locality, merging and order', (t) => {
  const eps = sliceEndpoints(
    [
      slice('a', [
        { addresses: ['10.0.0.9'], nodeName: 'n1' },
        { addresses: ['10.0.0.10'], nodeName: 'n2', conditions: { ready: false, serving: true, terminating: true } },
        { addresses: ['10.0.0.2'], conditions: { ready: false } },
      ]),
      slice('b', [{ addresses: ['10.0.0.2'], nodeName: 'n1', conditions: { ready: true } }]),
      slice('c', [{ addresses: ['fd00::1'] }], { addressType: 'IPv6' }),
    ],
    'n1',
  ).get('p80/TCP')!;
  t.deepEqual(
    eps.map((e) => e.ip),
    ['10.0.0.2', '10.0.0.9', '10.0.0.10'],
  );
  t.deepEqual(eps[0], { ip: '10.0.0.2', port: 8080, ready: true, serving: true, terminating: false, local: true }, 'ready copy wins');
  t.deepEqual(eps[2], { ip: '10.0.0.10', port: 8080, ready: false, serving: true, terminating: true, local: false });
});

const ep = (ip: string, o: Partial<Endpoint> = {}): Endpoint => ({ ip, port: 80, ready: true, serving: true, terminating: false, local: false, ...o });
const port = (o: Partial<ServicePort> = {}): ServicePort => ({ ...servicePorts(svc({}))[0], ...o });

test('categorize: ready first, serving-terminating as fallback, Cluster and Local separately', (t) => {
  const term = (ip: string, local = false) => ep(ip, { ready: false, serving: true, terminating: true, local });
  let c = categorize(port(), [ep('10.0.0.1'), term('10.0.0.2')]);
  t.deepEqual(
    c.cluster.map((e) => e.ip),
    ['10.0.0.1'],
  );
  t.true(c.hasAny);
  c = categorize(port(), [term('10.0.0.2'), ep('10.0.0.3', { ready: false, serving: false, terminating: true })]);
  t.deepEqual(
    c.cluster.map((e) => e.ip),
    ['10.0.0.2'],
  );
  c = categorize(port({ nodePort: 30000, externalPolicyLocal: true }), [ep('10.0.0.1'), term('10.0.0.2', true)]);
  t.deepEqual(
    c.cluster.map((e) => e.ip),
    ['10.0.0.1'],
  );
  t.deepEqual(
    c.local.map((e) => e.ip),
    ['10.0.0.2'],
    'no local ready endpoint: local terminating one is used',
  );
  t.deepEqual(
    c.reachable.map((e) => e.ip),
    ['10.0.0.1', '10.0.0.2'],
  );
  c = categorize(port({ internalPolicyLocal: true }), [ep('10.0.0.1')]);
  t.deepEqual(c.cluster, [], 'internal Local without external access uses no Cluster endpoints');
  t.deepEqual(c.local, []);
  t.true(c.hasAny);
  t.false(categorize(port(), [ep('10.0.0.1', { ready: false, serving: false })]).hasAny);
});

test('planPort: what to do without endpoints', (t) => {
  const none = planPort(port({ nodePort: 30000 }), []);
  t.is(none.internalFilter, 'REJECT');
  t.is(none.externalFilter, 'REJECT');
  t.false(none.usesExternalChain);
  const noLocal = planPort(port({ nodePort: 30000, externalPolicyLocal: true, internalPolicyLocal: true }), [ep('10.0.0.1')]);
  t.is(noLocal.internalFilter, 'DROP');
  t.is(noLocal.externalFilter, 'DROP');
  t.true(noLocal.usesExternalChain, 'the EXT chain still short-circuits pod and node traffic');
  t.true(noLocal.usesClusterChain);
  const fw = planPort(port({ loadBalancerIPs: ['1.2.3.4'], loadBalancerSourceRanges: ['10.0.0.0/8'] }), [ep('10.0.0.1')]);
  t.true(fw.usesFirewallChain);
});

test('tracker reports only real changes, per Service', (t) => {
  const tr = new ChangeTracker('n1');
  t.true(tr.setService('ns1/svc1', svc({})));
  t.true(tr.setSlice(slice('a', [{ addresses: ['10.0.0.1'], nodeName: 'n1' }])));
  t.deepEqual([...tr.takeChanges().services], ['ns1/svc1']);
  // a status-only update, a resent slice and a slice of an unlabeled owner change nothing
  t.false(tr.setService('ns1/svc1', { ...svc({}), status: { conditions: [] } } as V1Service));
  t.false(tr.setSlice(slice('a', [{ addresses: ['10.0.0.1'], nodeName: 'n1' }])));
  t.false(tr.setSlice({ ...slice('x', [{ addresses: ['10.0.0.5'] }]), metadata: { namespace: 'ns1', name: 'x' } }));
  t.false(tr.hasPending());
  // endpoints of a port the Service does not have are irrelevant
  t.false(tr.setSlice({ ...slice('b', [{ addresses: ['10.0.0.7'] }]), ports: [{ name: 'other', port: 1 }] }));
  t.true(tr.setSlice(slice('a', [{ addresses: ['10.0.0.1'], nodeName: 'n1', conditions: { ready: false } }])));
  const [p] = tr.service('ns1/svc1');
  t.deepEqual(
    p.endpoints.map((e) => [e.ip, e.ready, e.local]),
    [['10.0.0.1', false, true]],
  );
  t.true(tr.setService('ns1/svc1', undefined));
  t.deepEqual(tr.service('ns1/svc1'), []);
  t.deepEqual([...tr.takeChanges().services], ['ns1/svc1']);
  // a headless Service is not proxied
  t.false(tr.setService('ns1/svc1', svc({ clusterIP: 'None' })));
});

test('tracker keeps endpoint change trigger times for the latency metric', (t) => {
  const tr = new ChangeTracker('n1');
  tr.setService('ns1/svc1', svc({}));
  const s = slice('a', [{ addresses: ['10.0.0.1'] }]);
  s.metadata!.annotations = { 'endpoints.kubernetes.io/last-change-trigger-time': '2024-01-01T00:00:00Z' };
  tr.setSlice(s);
  t.deepEqual(tr.takeChanges().triggerTimes, [Date.parse('2024-01-01T00:00:00Z')]);
});
