// The differential matrix: configs and requests that go to our plugins and the reference alike.
// "@DATADIR@" becomes each flavour's own IPAM dir, "@DIR@" the shared sandbox dir.

type Json = Record<string, unknown>;

export interface Case {
  name: string;
  plugin?: string; // default bridge
  conf: Json | string;
  /** containers to ADD, in order (default one, "c1") */
  containers?: string[];
  env?: Record<string, string | undefined>;
  args?: string;
  ifName?: string;
  netns?: string | null; // override CNI_NETNS (null: unset)
  command?: 'ADD' | 'DEL' | 'CHECK';
  /** the error code both must report on the (first) request; undefined: success */
  error?: number;
  /** after ADD: CHECK with the flavour's own result as prevResult */
  check?: boolean;
  /** after ADD: a portmap call chained on the bridge result, with these mappings */
  portmap?: Json[];
  /** before the case: write these files into the sandbox dir */
  files?: Record<string, string>;
  /** before the case: commands run in each flavour's host namespace */
  hostSetup?: string[][];
  /** the outcome depends on kernel features: both may fail, but then alike */
  kernelDependent?: boolean;
  /** known, intended differences from the reference: dropped from our result before comparing */
  dropFromOurs?: (result: Json) => void;
}

/** The lab's bridge config (per-node conflist entry as a single-plugin config), with overrides. */
export const bridgeConf = (over: Json = {}, ipam: Json | null = {}): Json => ({
  cniVersion: '1.0.0',
  name: 'hawser',
  type: 'bridge',
  bridge: 'cni0',
  isGateway: true,
  ipMasq: false,
  hairpinMode: true,
  ...(ipam === null
    ? {}
    : { ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: '@DATADIR@', ...ipam } }),
  ...over,
});

const hostLocalConf = (ipam: Json | undefined, over: Json = {}): Json => ({
  cniVersion: '1.0.0',
  name: 'hlnet',
  type: 'host-local',
  ...(ipam ? { ipam: { type: 'host-local', dataDir: '@DATADIR@', ...ipam } } : {}),
  ...over,
});

const STALE_BRIDGE = [
  ['ip', 'link', 'add', 'cni0', 'type', 'bridge'],
  ['ip', 'addr', 'add', '10.99.0.1/24', 'dev', 'cni0'],
];

export const CASES: Case[] = [
  // --- bridge successes, one per option or version
  { name: 'lab config, 1.0.0', conf: bridgeConf(), containers: ['c1', 'c2'] },
  { name: 'cniVersion 0.3.0', conf: bridgeConf({ cniVersion: '0.3.0' }) },
  { name: 'cniVersion 0.3.1', conf: bridgeConf({ cniVersion: '0.3.1' }) },
  { name: 'cniVersion 0.4.0 with CHECK', conf: bridgeConf({ cniVersion: '0.4.0' }), check: true },
  { name: 'cniVersion 1.0.0 with CHECK', conf: bridgeConf(), check: true },
  { name: 'cniVersion 0.2.0 (ip4 result)', conf: bridgeConf({ cniVersion: '0.2.0' }) },
  { name: 'isDefaultGateway, no IPAM routes', conf: bridgeConf({ isDefaultGateway: true }, { routes: undefined }) },
  { name: 'not a gateway', conf: bridgeConf({ isGateway: false }, { routes: [] }) },
  { name: 'ipMasq', conf: bridgeConf({ ipMasq: true }), containers: ['c1', 'c2'] },
  { name: 'mtu 1400', conf: bridgeConf({ mtu: 1400 }) },
  { name: 'forceAddress replaces a stale bridge address', conf: bridgeConf({ forceAddress: true }), hostSetup: STALE_BRIDGE },
  {
    name: 'existing bridge with the right address is reused',
    conf: bridgeConf(),
    hostSetup: [
      ['ip', 'link', 'add', 'cni0', 'type', 'bridge'],
      ['ip', 'addr', 'add', '10.244.1.1/24', 'dev', 'cni0'],
    ],
  },
  { name: 'promiscMode', conf: bridgeConf({ promiscMode: true, hairpinMode: false }) },
  // this kernel has no bridge VLAN filtering: then both refuse to create the bridge
  { name: 'vlan 100 with gateway', conf: bridgeConf({ vlan: 100 }), kernelDependent: true },
  { name: 'IPv6 only', conf: bridgeConf({}, { ranges: [[{ subnet: 'fd00:10:244:1::/64' }]], routes: [{ dst: '::/0' }] }), check: true },
  {
    name: 'dual stack with rangeStart/rangeEnd/gateway',
    conf: bridgeConf(
      {},
      {
        ranges: [
          [{ subnet: '10.244.2.0/24', rangeStart: '10.244.2.100', rangeEnd: '10.244.2.110', gateway: '10.244.2.254' }],
          [{ subnet: 'fd00:10:244:2::/64' }],
        ],
        routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }],
      },
    ),
    containers: ['c1', 'c2'],
    check: true,
  },
  {
    name: 'routes with explicit gateways',
    conf: bridgeConf({}, { routes: [{ dst: '0.0.0.0/0' }, { dst: '192.168.50.0/24', gw: '10.244.1.254' }, { dst: '172.16.0.0/12' }] }),
  },
  { name: 'old single-range style (ipam.subnet, rangeStart)', conf: bridgeConf({}, { ranges: undefined, subnet: '10.244.3.0/24', rangeStart: '10.244.3.10' }) },
  {
    name: 'resolvConf gives DNS',
    conf: bridgeConf({}, { resolvConf: '@DIR@/resolv.conf' }),
    files: { 'resolv.conf': '# test\nnameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local\noptions ndots:5\n' },
  },
  { name: 'requested IP through CNI_ARGS', conf: bridgeConf(), args: 'IgnoreUnknown=1;K8S_POD_NAME=web;IP=10.244.1.77' },
  { name: 'requested MAC through runtimeConfig', conf: bridgeConf({ runtimeConfig: { mac: '0a:58:0a:f4:01:33' } }) },
  { name: 'layer 2 only (no ipam)', conf: bridgeConf({ isGateway: false }, null) },
  { name: 'macspoofchk', conf: bridgeConf({ macspoofchk: true }) },
  {
    name: 'bridge + portmap chain',
    conf: bridgeConf(),
    portmap: [
      { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { hostPort: 5353, containerPort: 53, protocol: 'udp' },
    ],
  },
  { name: 'bridge + portmap with hostIP', conf: bridgeConf(), portmap: [{ hostPort: 9090, containerPort: 90, protocol: 'tcp', hostIP: '127.0.0.1' }] },
  // --- host-local and loopback on their own
  {
    name: 'host-local dual stack',
    plugin: 'host-local',
    conf: hostLocalConf({ ranges: [[{ subnet: '10.10.0.0/28' }], [{ subnet: 'fd00:aa::/120' }]], routes: [{ dst: '0.0.0.0/0' }] }),
    containers: ['c1', 'c2', 'c3'],
  },
  { name: 'loopback', plugin: 'loopback', conf: { cniVersion: '1.0.0', name: 'cni-loopback', type: 'loopback' }, check: true },
  {
    name: 'loopback 0.3.1',
    plugin: 'loopback',
    conf: { cniVersion: '0.3.1', name: 'cni-loopback', type: 'loopback' },
    // the reference prints its 1.0 result under a 0.3.1 label, without the "version" the 0.3.x spec
    // requires on each IP; ours has it
    dropFromOurs: (r) => {
      for (const ip of (r.ips as Json[] | undefined) ?? []) delete ip.version;
    },
  },
  // --- errors: both must fail with the same code, ours must leave nothing behind
  { name: 'error: bad JSON', conf: '{"cniVersion":"1.0.0","name":"x",', error: 6 },
  { name: 'error: unknown cniVersion', conf: bridgeConf({ cniVersion: '9.9.9' }), error: 1 },
  { name: 'error: missing network name', conf: bridgeConf({ name: '' }), error: 7 },
  { name: 'error: host-local with no ipam', plugin: 'host-local', conf: hostLocalConf(undefined), error: 999 },
  { name: 'error: bad subnet', conf: bridgeConf({}, { ranges: [[{ subnet: '10.244.1.0/33' }]] }), error: 999 },
  { name: 'error: subnet with host bits', conf: bridgeConf({}, { ranges: [[{ subnet: '10.244.1.9/24' }]] }), error: 999 },
  { name: 'error: exhausted range', conf: bridgeConf({}, { ranges: [[{ subnet: '10.244.9.0/30' }]] }), containers: ['c1', 'c2'], error: 999 },
  { name: 'error: unavailable requested IP', conf: bridgeConf(), args: 'IP=10.244.1.1', error: 999 },
  { name: 'error: unknown container on DEL is not an error', conf: bridgeConf(), command: 'DEL', containers: ['never-added'] },
  { name: 'error: bad CNI_NETNS (missing path)', conf: bridgeConf(), netns: '/run/netns/hawser-no-such-ns', error: 999 },
  { name: 'error: bad CNI_NETNS (not a netns)', conf: bridgeConf(), netns: '/etc/hostname', error: 999 },
  { name: 'error: missing CNI_CONTAINERID', conf: bridgeConf(), env: { CNI_CONTAINERID: undefined }, error: 4 },
  { name: 'error: interface name too long', conf: bridgeConf(), ifName: 'eth0123456789abc', error: 4 },
  { name: 'error: hairpin and promisc together', conf: bridgeConf({ promiscMode: true }), error: 999 },
  { name: 'error: vlan out of range', conf: bridgeConf({ vlan: 5000 }), error: 999 },
  { name: 'error: stale bridge address without forceAddress', conf: bridgeConf(), hostSetup: STALE_BRIDGE, error: 999 },
  {
    name: 'error: a non-bridge link holds the bridge name',
    conf: bridgeConf(),
    hostSetup: [['ip', 'link', 'add', 'cni0', 'type', 'veth', 'peer', 'name', 'cni0p']],
    error: 999,
  },
  { name: 'error: unknown CNI_COMMAND', conf: bridgeConf(), env: { CNI_COMMAND: 'BOGUS' }, error: 4 },
  { name: 'error: CHECK on a 0.3.1 config', conf: bridgeConf({ cniVersion: '0.3.1' }), command: 'CHECK', error: 1 },
  { name: 'error: CHECK without prevResult', conf: bridgeConf(), command: 'CHECK', error: 999 },
];
