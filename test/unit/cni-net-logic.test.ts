// Pure network logic of the plugins: address arithmetic, range iteration, bridge planning,
// portmap rules.
import test from 'ava';
import { formatIP, parseCIDR, parseIP } from '../../agents/api/ip.ts';
import { candidates, canonicalizeRangeSet } from '../../cni-plugins/host-local/range.ts';
import { parseResolvConf } from '../../cni-plugins/host-local/dns.ts';
import { planGateways } from '../../cni-plugins/bridge/gateways.ts';
import { bridgeAddrLines, containerLines } from '../../cni-plugins/bridge/plan.ts';
import { loadBridgeConf } from '../../cni-plugins/bridge/config.ts';
import { chainComment, chainName } from '../../cni-plugins/pkg/ipmasq.ts';
import { addRestore, delRestore, dnatRules, parsePortMapConf, parseSave } from '../../cni-plugins/portmap/rules.ts';
import type { Result } from '../../cni-plugins/skel/result.ts';

test('addresses parse and print as Go prints them', (t) => {
  const cases: Array<[string, string]> = [
    ['10.0.0.1', '10.0.0.1'],
    ['fd00:0:0:0:0:0:0:1', 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::', '::'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['fe80::1:2', 'fe80::1:2'],
    ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
  ];
  for (const [i, o] of cases) t.is(formatIP(parseIP(i)!), o, i);
  for (const bad of ['10.0.0', '10.0.0.256', '01.2.3.4', '1::2::3', 'g::1', '']) t.is(parseIP(bad), null, bad);
  t.is(parseCIDR('10.0.0.0/33'), null);
  t.deepEqual(parseCIDR('10.0.0.7/24')?.prefix, 24);
});

test('range iteration: round robin from the last reserved, gateway skipped, one full cycle', (t) => {
  const set = canonicalizeRangeSet([{ subnet: '10.0.0.0/29' }]);
  const all = (last?: string) => [...candidates(set, last ? parseIP(last)! : undefined)].map((c) => formatIP(c.ip));
  t.deepEqual(all(), ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
  t.deepEqual(all('10.0.0.4'), ['10.0.0.5', '10.0.0.6', '10.0.0.2', '10.0.0.3', '10.0.0.4']);
  t.deepEqual(all('192.168.0.1'), all()); // not in the set: start over
  const two = canonicalizeRangeSet([{ subnet: '10.1.0.0/30' }, { subnet: '10.2.0.0/30' }]);
  t.deepEqual(
    [...candidates(two, parseIP('10.1.0.2')!)].map((c) => formatIP(c.ip)),
    ['10.2.0.2', '10.1.0.2'],
  );
  const v6 = canonicalizeRangeSet([{ subnet: 'fd00::/126' }]);
  t.deepEqual(
    [...candidates(v6, undefined)].map((c) => formatIP(c.ip)),
    ['fd00::2', 'fd00::3'],
  );
  t.throws(() => canonicalizeRangeSet([{ subnet: '10.0.0.0/24' }, { subnet: 'fd00::/64' }]), { message: /mixed address families/ });
});

test('resolv.conf to DNS', (t) => {
  t.deepEqual(parseResolvConf('# c\n; c\nnameserver 1.1.1.1\nnameserver 8.8.8.8\ndomain corp\nsearch a b\noptions ndots:5 edns0\nbogus\n'), {
    nameservers: ['1.1.1.1', '8.8.8.8'],
    domain: 'corp',
    search: ['a', 'b'],
    options: ['ndots:5', 'edns0'],
  });
});

test('bridge config defaults and checks', (t) => {
  const c = loadBridgeConf(
    { name: 'n', cniVersion: '1.0.0', isDefaultGateway: true, runtimeConfig: { mac: '0A-58-0A-F4-01-33' } },
    'IgnoreUnknown=1;MAC=0a:58:00:00:00:01',
  );
  t.is(c.bridge, 'cni0');
  t.true(c.isGateway);
  t.is(c.mac, '0a:58:0a:f4:01:33'); // runtimeConfig wins over CNI_ARGS
  t.throws(() => loadBridgeConf({ name: 'n', vlan: 4095 }, ''), { message: /invalid VLAN ID 4095/ });
  t.throws(() => loadBridgeConf({ name: 'n', mtu: 'big' }, ''), { message: /cannot unmarshal string/ });
});

test('gateways: computed when missing, default routes added once per family', (t) => {
  const r: Result = {
    cniVersion: '1.0.0',
    ips: [{ address: '10.0.0.5/24' }, { address: 'fd00::5/64', gateway: 'fd00::fe' }],
    routes: [{ dst: '::/0', gw: 'fd00::fe' }],
    dns: {},
  };
  const plan = planGateways(r, { isGateway: true, isDefaultGateway: true });
  t.deepEqual(plan, { v4: ['10.0.0.1/24'], v6: ['fd00::fe/64'] });
  t.deepEqual(r.ips, [
    { address: '10.0.0.5/24', interface: 2, gateway: '10.0.0.1' },
    { address: 'fd00::5/64', gateway: 'fd00::fe', interface: 2 },
  ]);
  t.deepEqual(r.routes, [
    { dst: '::/0', gw: 'fd00::fe' },
    { dst: '0.0.0.0/0', gw: '10.0.0.1' },
  ]);
  const l2: Result = { cniVersion: '1.0.0', ips: [{ address: '10.0.0.5/24' }], dns: {} };
  t.deepEqual(planGateways(l2, { isGateway: false, isDefaultGateway: false }), { v4: [], v6: [] });
  t.is(l2.ips![0].gateway, undefined);
});

test('bridge gateway address: kept, added, replaced with forceAddress, refused without', (t) => {
  const have = [{ family: 'inet' as const, local: '10.0.0.1', prefixlen: 24, scope: 'global' }];
  t.deepEqual(bridgeAddrLines('cni0', have, '10.0.0.1/24', false), []);
  t.deepEqual(bridgeAddrLines('cni0', [], '10.0.0.1/24', false), ['address replace 10.0.0.1/24 brd + dev cni0']);
  t.throws(() => bridgeAddrLines('cni0', have, '10.9.0.1/24', false), { message: /already has an IP address different from 10.9.0.1\/24/ });
  t.deepEqual(bridgeAddrLines('cni0', have, '10.9.0.1/24', true), ['address del 10.0.0.1/24 dev cni0', 'address replace 10.9.0.1/24 brd + dev cni0']);
  // IPv6: a second, non-overlapping prefix may coexist
  const v6 = [{ family: 'inet6' as const, local: 'fd00:1::1', prefixlen: 64, scope: 'global' }];
  t.deepEqual(bridgeAddrLines('cni0', v6, 'fd00:2::1/64', false), ['address replace fd00:2::1/64 dev cni0']);
});

test('container lines: addresses, link up, routes via the family gateway', (t) => {
  const r: Result = {
    cniVersion: '1.0.0',
    ips: [
      { address: '10.0.0.5/24', gateway: '10.0.0.1' },
      { address: 'fd00::5/64', gateway: 'fd00::1' },
    ],
    routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }, { dst: '192.168.0.0/16', gw: '10.0.0.254' }],
    dns: {},
  };
  t.deepEqual(containerLines('eth0', r), [
    'address add 10.0.0.5/24 brd + dev eth0',
    'address add fd00::5/64 dev eth0',
    'link set dev eth0 up',
    'route prepend 0.0.0.0/0 via 10.0.0.1 dev eth0',
    'route prepend ::/0 via fd00::1 dev eth0',
    'route prepend 192.168.0.0/16 via 10.0.0.254 dev eth0',
  ]);
});

test('masquerade chain names and comments match the reference format', (t) => {
  const c = chainName('hawser', 'abc');
  t.regex(c, /^CNI-[0-9a-f]{24}$/);
  t.is(c.length, 28);
  t.is(chainComment('hawser', 'abc'), 'name: "hawser" id: "abc"');
});

test('portmap: rules per mapping, hostIP family filter, multiport groups of 15, idempotent restore', (t) => {
  const prev = {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'cni0' }, { name: 'eth0', sandbox: '/x' }],
    ips: [
      { interface: 1, address: '10.0.0.5/24' },
      { interface: 1, address: 'fd00::5/64' },
    ],
  };
  const maps = [
    { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    { hostPort: 53, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' },
    { hostPort: 443, containerPort: 443, protocol: 'tcp', hostIP: 'fd00::1' },
  ];
  const conf = parsePortMapConf({ name: 'net', prevResult: prev, runtimeConfig: { portMappings: maps } }, 'eth0');
  t.is(conf.contV4, '10.0.0.5/24');
  t.is(conf.contV6, 'fd00::5/64');
  const d4 = dnatRules(conf, 'c1', conf.contV4!);
  t.deepEqual(d4.rules, [
    ['-p', 'tcp', '--dport', '8080', '-s', '10.0.0.5/24', '-j', 'CNI-HOSTPORT-SETMARK'],
    ['-p', 'tcp', '--dport', '8080', '-s', '127.0.0.1', '-j', 'CNI-HOSTPORT-SETMARK'],
    ['-p', 'tcp', '--dport', '8080', '-j', 'DNAT', '--to-destination', '10.0.0.5:80'],
    ['-p', 'udp', '--dport', '53', '-d', '127.0.0.1', '-s', '10.0.0.5/24', '-j', 'CNI-HOSTPORT-SETMARK'],
    ['-p', 'udp', '--dport', '53', '-d', '127.0.0.1', '-s', '127.0.0.1', '-j', 'CNI-HOSTPORT-SETMARK'],
    ['-p', 'udp', '--dport', '53', '-d', '127.0.0.1', '-j', 'DNAT', '--to-destination', '10.0.0.5:53'],
  ]);
  const d6 = dnatRules(conf, 'c1', conf.contV6!);
  // no hostIP: both families; hostIP 127.0.0.1: IPv4 only; hostIP fd00::1: IPv6 only
  t.deepEqual(
    d6.rules.map((r) => r.at(-1)),
    ['CNI-HOSTPORT-SETMARK', '[fd00::5]:80', 'CNI-HOSTPORT-SETMARK', '[fd00::5]:443'],
  );
  const many = parsePortMapConf(
    { name: 'net', runtimeConfig: { portMappings: Array.from({ length: 17 }, (_, i) => ({ hostPort: 1000 + i, containerPort: 80, protocol: 'tcp' })) } },
    'eth0',
  );
  t.is(dnatRules(many, 'c1', '10.0.0.5/24').entry.length, 2);
  t.throws(() => parsePortMapConf({ name: 'n', runtimeConfig: { portMappings: [{ hostPort: 0, containerPort: 1, protocol: 'tcp' }] } }, 'eth0'), {
    message: /Invalid host port/,
  });

  // with the shared chains already there, only the container's chain is (re)written
  const first = addRestore(conf, 'c1', conf.contV4!, parseSave(''));
  t.true(first.includes(':CNI-HOSTPORT-DNAT - [0:0]'));
  t.true(first.includes('-I POSTROUTING 1 -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ'));
  const saved = [
    '*nat',
    ':CNI-HOSTPORT-DNAT - [0:0]',
    ':CNI-HOSTPORT-SETMARK - [0:0]',
    ':CNI-HOSTPORT-MASQ - [0:0]',
    `:${d4.chain} - [0:0]`,
    '-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ',
    '-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
    '-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
    '-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000',
    '-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE',
    `-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"net\\" id: \\"c1\\"" -m multiport --dports 8080 -j ${d4.chain}`,
    'COMMIT',
  ].join('\n');
  const again = addRestore(conf, 'c1', conf.contV4!, parseSave(saved));
  t.false(again.includes(':CNI-HOSTPORT-DNAT'));
  t.false(again.includes('POSTROUTING'));
  t.true(again.includes(`-D CNI-HOSTPORT-DNAT -p tcp`));
  const del = delRestore('net', 'c1', parseSave(saved))!;
  t.deepEqual(
    del
      .split('\n')
      .filter((l) => l.startsWith('-'))
      .map((l) => l.split(' ')[0]),
    ['-D', '-F', '-X'],
  );
  t.is(delRestore('net', 'other', parseSave(saved)), null);
});
