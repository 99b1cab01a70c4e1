// The cluster zone's records and answers, from Service/EndpointSlice/Pod objects (pure, no sockets).
import test from 'ava';
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import type { Answer } from 'dns-packet';
import { resolveQuestion, type Reply } from '../../agents/control-plane/dns/answer.ts';
import { buildIndex, emptyIndex, type DnsIndex } from '../../agents/control-plane/dns/records.ts';
import { dashedIP, ipv6Groups, reverseName, selfAndAncestors } from '../../agents/control-plane/dns/names.ts';

const svc = (name: string, spec: V1Service['spec'], ns = 'default'): V1Service => ({ metadata: { name, namespace: ns }, spec });
const slice = (
  svcName: string,
  endpoints: { ip: string; hostname?: string; ready?: boolean }[],
  ports = [{ name: 'pg', port: 5432, protocol: 'TCP' }],
  name = `${svcName}-abc`,
  addressType = 'IPv4',
): V1EndpointSlice => ({
  metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': svcName } },
  addressType,
  endpoints: endpoints.map((e) => ({ addresses: [e.ip], hostname: e.hostname, conditions: e.ready === undefined ? {} : { ready: e.ready } })),
  ports,
});
const pod = (
  name: string,
  ip: string,
  o: {
    labels?: Record<string, string>;
    hostname?: string;
    subdomain?: string;
    ready?: boolean;
    ns?: string;
    ports?: { name: string; containerPort: number }[];
  } = {},
): V1Pod => ({
  metadata: { name, namespace: o.ns ?? 'default', labels: o.labels ?? {} },
  spec: { hostname: o.hostname, subdomain: o.subdomain, containers: [{ name: 'c', ports: o.ports }] },
  status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
});

const services: V1Service[] = [
  svc('web', {
    type: 'ClusterIP',
    clusterIP: '10.96.5.5',
    clusterIPs: ['10.96.5.5'],
    ports: [
      { name: 'http', port: 80, protocol: 'TCP' },
      { port: 8080, protocol: 'TCP' },
    ],
  }),
  svc('dual', { clusterIP: '10.96.6.6', clusterIPs: ['10.96.6.6', 'fd00:96::6'], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
  svc('db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }),
  svc('empty', { clusterIP: 'None', ports: [{ name: 'x', port: 1 }] }),
  svc('ext', { type: 'ExternalName', externalName: 'www.Example.com.' }),
  svc('alias', { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' }),
  svc('sub', { clusterIP: 'None', selector: { app: 'sub' }, ports: [{ name: 'http', port: 80, targetPort: 'web' as never }] }),
  svc('kube-dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }, 'kube-system'),
];
const slices = [
  slice('db', [
    { ip: '10.244.1.5', hostname: 'db-0' },
    { ip: '10.244.2.6', ready: true },
    { ip: '10.244.3.7', ready: false },
  ]),
  slice('empty', []),
];
const pods = [
  pod('s1', '10.244.1.9', { labels: { app: 'sub' }, hostname: 'h1', subdomain: 'sub', ports: [{ name: 'web', containerPort: 8081 }] }),
  pod('s2', '10.244.2.9', { labels: { app: 'sub' }, ready: false }),
  pod('other', '10.244.4.4', { ns: 'team' }),
];
const ix: DnsIndex = buildIndex({ zone: 'cluster.local.', serial: 42, services, slices, pods });

function ask(name: string, type: string, index = ix): Reply {
  const r = resolveQuestion(index, { name, type: type as never, class: 'IN' });
  if (r.forward) throw new Error(`${name} ${type} was forwarded`);
  return r.reply;
}
const data = (as: Answer[]) => as.map((a) => (a as { data: unknown }).data);

test('A for a ClusterIP Service, authoritative, TTL 5, owner as asked', (t) => {
  const r = ask('Web.Default.SVC.cluster.local', 'A');
  t.is(r.rcode, 'NOERROR');
  t.true(r.authoritative);
  t.deepEqual(data(r.answers), ['10.96.5.5']);
  t.is(r.answers[0].name, 'Web.Default.SVC.cluster.local');
  t.is((r.answers[0] as { ttl: number }).ttl, 5);
});

test('AAAA of an IPv4-only Service is NODATA with the zone SOA; a missing name is NXDOMAIN with it', (t) => {
  const nodata = ask('web.default.svc.cluster.local', 'AAAA');
  t.is(nodata.rcode, 'NOERROR');
  t.deepEqual(nodata.answers, []);
  t.is(nodata.authorities.length, 1);
  const soa = nodata.authorities[0] as Extract<Answer, { type: 'SOA' }>;
  t.is(soa.type, 'SOA');
  t.is(soa.name, 'cluster.local');
  t.like(soa.data, { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 42, minimum: 5 });
  const nx = ask('nope.default.svc.cluster.local', 'A');
  t.is(nx.rcode, 'NXDOMAIN');
  t.true(nx.authoritative);
  t.is(nx.authorities[0].type, 'SOA');
  // a search-path expansion of an already qualified name is just as missing
  t.is(ask('web.default.svc.cluster.local.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
});

test('empty non-terminals (namespace, svc, zone apex) are NODATA, not NXDOMAIN', (t) => {
  for (const n of ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', '_tcp.web.default.svc.cluster.local']) {
    const r = ask(n, 'A');
    t.is(r.rcode, 'NOERROR', n);
    t.deepEqual(r.answers, [], n);
    t.is(r.authorities[0]?.type, 'SOA', n);
  }
  t.is(ask('nons.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
});

test('SRV for named ports of a ClusterIP Service, with the target A in additionals; none for unnamed ports', (t) => {
  const r = ask('_http._tcp.web.default.svc.cluster.local', 'SRV');
  t.is(r.rcode, 'NOERROR');
  t.deepEqual(data(r.answers), [{ priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }]);
  t.deepEqual(
    r.additionals.map((a) => [a.name, a.type, (a as { data: unknown }).data]),
    [['web.default.svc.cluster.local', 'A', '10.96.5.5']],
  );
  t.is(ask('_http._udp.web.default.svc.cluster.local', 'SRV').rcode, 'NXDOMAIN');
  t.is(ask('_dns._udp.dual.default.svc.cluster.local', 'SRV').answers.length, 1);
});

test('PTR for cluster IPs (IPv4 and IPv6) and dual-stack A + AAAA', (t) => {
  t.deepEqual(data(ask('5.5.96.10.in-addr.arpa', 'PTR').answers), ['web.default.svc.cluster.local']);
  t.deepEqual(data(ask('dual.default.svc.cluster.local', 'A').answers), ['10.96.6.6']);
  t.deepEqual(data(ask('dual.default.svc.cluster.local', 'AAAA').answers), ['fd00:96::6']);
  t.deepEqual(data(ask(reverseName('fd00:96::6')!, 'PTR').answers), ['dual.default.svc.cluster.local']);
});

test('headless: one A per ready endpoint, named and dashed endpoint hosts, SRV per endpoint, PTR to the host', (t) => {
  t.deepEqual(data(ask('db.default.svc.cluster.local', 'A').answers).sort(), ['10.244.1.5', '10.244.2.6']);
  t.deepEqual(data(ask('db-0.db.default.svc.cluster.local', 'A').answers), ['10.244.1.5']);
  t.deepEqual(data(ask('10-244-2-6.db.default.svc.cluster.local', 'A').answers), ['10.244.2.6']);
  t.is(ask('10-244-3-7.db.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN', 'a not-ready endpoint has no record');
  const srv = ask('_pg._tcp.db.default.svc.cluster.local', 'SRV');
  t.deepEqual(
    data(srv.answers)
      .map((d: any) => `${d.port} ${d.target}`)
      .sort(),
    ['5432 10-244-2-6.db.default.svc.cluster.local', '5432 db-0.db.default.svc.cluster.local'],
  );
  t.is(srv.additionals.length, 2);
  t.deepEqual(data(ask('5.1.244.10.in-addr.arpa', 'PTR').answers), ['db-0.db.default.svc.cluster.local']);
});

test('a headless Service with no ready endpoints is NXDOMAIN; publishNotReadyAddresses lists them all', (t) => {
  t.is(ask('empty.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
  const all = buildIndex({ zone: 'cluster.local', serial: 1, slices, pods: [], services: [svc('db', { clusterIP: 'None', publishNotReadyAddresses: true })] });
  t.deepEqual(data(ask('db.default.svc.cluster.local', 'A', all).answers).sort(), ['10.244.1.5', '10.244.2.6', '10.244.3.7']);
});

test('a pod with hostname + subdomain of a headless Service resolves; its ready pods stand in while no slice exists', (t) => {
  t.deepEqual(data(ask('h1.sub.default.svc.cluster.local', 'A').answers), ['10.244.1.9']);
  t.deepEqual(data(ask('sub.default.svc.cluster.local', 'A').answers), ['10.244.1.9'], 'the not-ready pod is left out');
  // the named targetPort resolves through the container port name
  t.deepEqual(data(ask('_http._tcp.sub.default.svc.cluster.local', 'SRV').answers), [
    { priority: 0, weight: 100, port: 8081, target: 'h1.sub.default.svc.cluster.local' },
  ]);
  const moved = buildIndex({
    zone: 'cluster.local',
    serial: 1,
    services,
    slices,
    pods: [pod('s1', '10.244.1.9', { labels: { app: 'other' }, hostname: 'h1', subdomain: 'sub' })],
  });
  t.is(ask('h1.sub.default.svc.cluster.local', 'A', moved).rcode, 'NXDOMAIN', 'only pods the Service selects');
});

test('ExternalName: CNAME, chased upstream when outside the zone, inside the index when inside', (t) => {
  const r = ask('ext.default.svc.cluster.local', 'A');
  t.deepEqual(
    r.answers.map((a) => [a.type, (a as { data: unknown }).data]),
    [['CNAME', 'www.example.com']],
  );
  t.deepEqual(r.chase, { name: 'www.example.com', type: 'A' });
  const inner = ask('alias.default.svc.cluster.local', 'A');
  t.deepEqual(
    inner.answers.map((a) => [a.name, a.type]),
    [
      ['alias.default.svc.cluster.local', 'CNAME'],
      ['web.default.svc.cluster.local', 'A'],
    ],
  );
  t.is(inner.chase, undefined);
  t.deepEqual(data(ask('ext.default.svc.cluster.local', 'CNAME').answers), ['www.example.com']);
});

test('pod A records exist only for pods that have the address ("pods verified")', (t) => {
  t.deepEqual(data(ask('10-244-4-4.team.pod.cluster.local', 'A').answers), ['10.244.4.4']);
  t.is(ask('10-244-4-4.default.pod.cluster.local', 'A').rcode, 'NXDOMAIN');
  t.is(ask('10-9-9-9.team.pod.cluster.local', 'A').rcode, 'NXDOMAIN');
});

test('zone apex SOA and NS, ns.dns A is the kube-dns cluster IP, dns-version TXT', (t) => {
  const soa = ask('cluster.local', 'SOA');
  t.is(soa.answers[0].type, 'SOA');
  const ns = ask('cluster.local', 'NS');
  t.deepEqual(data(ns.answers), ['ns.dns.cluster.local']);
  t.deepEqual(data(ns.additionals), ['10.96.0.10']);
  t.deepEqual(data(ask('dns-version.cluster.local', 'TXT').answers), [['1.1.0']]);
  t.true(ask('cluster.local', 'ANY').answers.length >= 2);
});

test('names outside the zone and unknown reverse names are forwarded; before sync the zone is SERVFAIL', (t) => {
  t.true(resolveQuestion(ix, { name: 'example.com', type: 'A' }).forward);
  t.true(resolveQuestion(ix, { name: '9.9.9.9.in-addr.arpa', type: 'PTR' }).forward);
  t.true(resolveQuestion(ix, { name: 'cluster.localhost', type: 'A' }).forward);
  const r = resolveQuestion(emptyIndex('cluster.local'), { name: 'web.default.svc.cluster.local', type: 'A' });
  t.false(r.forward);
  if (!r.forward) t.is(r.reply.rcode, 'SERVFAIL');
});

test('a Service that is gone from the input is gone from the index', (t) => {
  const after = buildIndex({ zone: 'cluster.local', serial: 43, services: services.filter((s) => s.metadata!.name !== 'web'), slices, pods });
  t.is(ask('web.default.svc.cluster.local', 'A', after).rcode, 'NXDOMAIN');
  t.true(resolveQuestion(after, { name: '5.5.96.10.in-addr.arpa', type: 'PTR' }).forward);
});

test('name helpers: reverse names, IPv6 expansion, dashed labels, ancestors', (t) => {
  t.is(reverseName('10.96.0.1'), '1.0.96.10.in-addr.arpa');
  t.is(reverseName('2001:db8::1'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
  t.deepEqual(ipv6Groups('::ffff:10.0.0.1'), [0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001]);
  t.deepEqual(ipv6Groups('fd00::'), [0xfd00, 0, 0, 0, 0, 0, 0, 0]);
  t.is(reverseName('nope'), undefined);
  t.is(dashedIP('10.244.1.5'), '10-244-1-5');
  t.deepEqual(selfAndAncestors('a.b.cluster.local', 'cluster.local'), ['a.b.cluster.local', 'b.cluster.local', 'cluster.local']);
});
