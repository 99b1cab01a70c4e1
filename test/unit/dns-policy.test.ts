// A pod's resolver settings per dnsPolicy (pure): what ends up in its /etc/resolv.conf.
import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import { mergeOptions, podDnsConfig, podDnsConfigWithWarnings } from '../../agents/kubelet/pods/dns-policy.ts';

const host = { servers: ['192.0.2.53', '192.0.2.54'], searches: ['corp.example.', 'example.com'], options: ['timeout:2', 'rotate'] };
const o = { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', host };
const pod = (spec: Partial<V1Pod['spec']> = {}, ns = 'team'): V1Pod => ({ metadata: { name: 'p', namespace: ns }, spec: { containers: [], ...spec } });

test("ClusterFirst (the default): cluster DNS, namespace search path before the host's, ndots:5", (t) => {
  const want = {
    servers: ['10.96.0.10'],
    searches: ['team.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'example.com'],
    options: ['ndots:5'],
  };
  t.deepEqual(podDnsConfig(pod(), o), want);
  t.deepEqual(podDnsConfig(pod({ dnsPolicy: 'ClusterFirst' }), o), want);
});

test('ClusterFirst on hostNetwork falls back to the host; ClusterFirstWithHostNet keeps cluster DNS', (t) => {
  t.deepEqual(podDnsConfig(pod({ hostNetwork: true }), o), { servers: host.servers, searches: ['corp.example', 'example.com'], options: host.options });
  t.deepEqual(podDnsConfig(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), o).servers, ['10.96.0.10']);
});

test("Default is the node's resolv.conf", (t) => {
  t.deepEqual(podDnsConfig(pod({ dnsPolicy: 'Default' }), o), { servers: host.servers, searches: ['corp.example', 'example.com'], options: host.options });
});

test("None takes only the pod's dnsConfig", (t) => {
  const cfg = podDnsConfig(
    pod({
      dnsPolicy: 'None',
      dnsConfig: {
        nameservers: ['1.2.3.4'],
        searches: ['ns1.svc.cluster-domain.example', 'my.dns.search.suffix'],
        options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
      },
    }),
    o,
  );
  t.deepEqual(cfg, { servers: ['1.2.3.4'], searches: ['ns1.svc.cluster-domain.example', 'my.dns.search.suffix'], options: ['ndots:2', 'edns0'] });
  t.deepEqual(podDnsConfig(pod({ dnsPolicy: 'None' }), o), { servers: [], searches: [], options: [] });
});

test('dnsConfig merges into ClusterFirst: servers and searches appended once, options replaced by name', (t) => {
  const cfg = podDnsConfig(
    pod({
      dnsConfig: {
        nameservers: ['10.96.0.10', '9.9.9.9'],
        searches: ['svc.cluster.local', 'extra.example'],
        options: [{ name: 'ndots', value: '1' }, { name: 'single-request-reopen' }],
      },
    }),
    o,
  );
  t.deepEqual(cfg.servers, ['10.96.0.10', '9.9.9.9']);
  t.deepEqual(cfg.searches, ['team.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'example.com', 'extra.example']);
  t.deepEqual(cfg.options, ['ndots:1', 'single-request-reopen']);
  t.deepEqual(mergeOptions(['ndots:5', 'rotate'], [{ name: 'rotate' }, { name: 'timeout', value: '3' }]), ['ndots:5', 'rotate', 'timeout:3']);
});

test('without a cluster DNS address ClusterFirst falls back to Default, with a warning', (t) => {
  const r = podDnsConfigWithWarnings(pod(), { ...o, clusterDNS: [] });
  t.deepEqual(r.config.servers, host.servers);
  t.regex(r.warnings.join('\n'), /Falling back to "Default"/);
});

test('limits: 3 nameservers, 32 search paths, 2048 characters, no domain over 253, each cut with a warning', (t) => {
  const servers = podDnsConfigWithWarnings(pod({ dnsConfig: { nameservers: ['1.1.1.1', '2.2.2.2', '3.3.3.3'] } }), o);
  t.deepEqual(servers.config.servers, ['10.96.0.10', '1.1.1.1', '2.2.2.2']);
  t.regex(servers.warnings[0], /Nameserver limits were exceeded/);
  const many = Array.from({ length: 40 }, (_, i) => `d${i}.example`);
  const paths = podDnsConfigWithWarnings(pod({ dnsConfig: { searches: many } }), o);
  t.is(paths.config.searches.length, 32);
  t.regex(paths.warnings[0], /Search Line limits were exceeded/);
  const long = Array.from({ length: 20 }, (_, i) => `${String(i).padStart(3, '0')}.${'x'.repeat(120)}.example`);
  const chars = podDnsConfigWithWarnings(pod({ dnsPolicy: 'None', dnsConfig: { searches: long } }), o);
  t.true(chars.config.searches.join(' ').length <= 2048);
  t.is(chars.config.searches.length, 15);
  t.deepEqual(chars.config.searches, long.slice(0, 15), 'the trailing domains go');
  const huge = podDnsConfigWithWarnings(pod({ dnsPolicy: 'None', dnsConfig: { searches: ['a'.repeat(254), 'ok.example'] } }), o);
  t.deepEqual(huge.config.searches, ['ok.example']);
  t.is(podDnsConfigWithWarnings(pod(), o).warnings.length, 0);
});
