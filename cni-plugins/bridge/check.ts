// bridge CHECK: the prevResult must still be true. The bridge exists, is a bridge, has the reported MAC
// and the configured promiscuous mode; the container interface is in CNI_NETNS, is a veth with the
// reported MAC, and its peer is a port of the bridge; every reported address is on the container
// interface with its subnet route; every reported route is in the container's main table.
import { parseResult, type Interface, type Result } from '../skel/result.ts';
import type { CmdArgs } from '../skel/skel.ts';
import { delegate } from '../pkg/delegate.ts';
import { ipJson, type AddrInfo, type Link, type RouteInfo } from '../pkg/ip.ts';
import { canonicalCIDR, parseCIDR, parseIP, formatIP } from '../../agents/api/ip.ts';
import { assertNetns, nsShell } from '../pkg/netns.ts';
import { loadBridgeConf, type BridgeConf } from './config.ts';

const SNAPSHOT =
  'ip -j -d link show dev "$1" || exit 3; echo; ip -j addr show dev "$1"; echo; ' + 'ip -j -4 route show table main; echo; ip -j -6 route show table main';

interface ContainerView {
  link: Link;
  addrs: AddrInfo[];
  routes: RouteInfo[];
}

async function containerView(netns: string, ifName: string): Promise<ContainerView> {
  const r = await nsShell(netns, SNAPSHOT, [ifName]);
  if (r.code === 3) throw new Error(`Interface name ${ifName} not found`);
  if (r.code !== 0) throw new Error(`failed to inspect ${ifName} in ${netns}: ${r.stderr.trim()}`);
  const [link, addrs, v4, v6] = r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as unknown[]);
  return {
    link: (link as Link[])[0],
    addrs: (addrs as Array<{ addr_info: AddrInfo[] }>)[0]?.addr_info ?? [],
    routes: [...((v4 ?? []) as RouteInfo[]), ...((v6 ?? []) as RouteInfo[])],
  };
}

function checkBridge(links: Link[], want: Interface, conf: BridgeConf): Link {
  const br = links.find((l) => l.ifname === want.name);
  if (!br) throw new Error(`Interface name ${want.name} not found`);
  if (br.linkinfo?.info_kind !== 'bridge') throw new Error(`Interface ${want.name} does not have link type of bridge`);
  if (want.mac && want.mac !== br.address) throw new Error(`Bridge interface ${want.name} Mac doesn't match: ${want.mac}`);
  const promisc = (br.promiscuity ?? 0) > 0 && (br.flags ?? []).includes('PROMISC');
  if (promisc !== conf.promiscMode) {
    throw new Error(`Bridge interface ${want.name} configured Promisc Mode ${conf.promiscMode} doesn't match current state: ${promisc} `);
  }
  return br;
}

function sameDst(route: RouteInfo, dst: string): boolean {
  const c = parseCIDR(dst);
  if (!c) return false;
  const canon = canonicalCIDR(c);
  if (c.prefix === 0) return route.dst === 'default';
  const rd = route.dst.includes('/') ? route.dst : `${route.dst}/${c.ip.v === 4 ? 32 : 128}`;
  const p = parseCIDR(rd);
  return !!p && canonicalCIDR(p) === canon;
}

function checkAddressesAndRoutes(ifName: string, view: ContainerView, result: Result): void {
  for (const ipc of result.ips ?? []) {
    const want = parseCIDR(ipc.address);
    if (!want) throw new Error(`invalid address ${ipc.address}`);
    const found = view.addrs.some((a) => {
      const ip = parseIP(a.local);
      return !!ip && ip.n === want.ip.n && ip.v === want.ip.v && a.prefixlen === want.prefix;
    });
    if (!found) throw new Error(`Failed to match addr ${ipc.address} on interface ${ifName}`);
    const subnet = canonicalCIDR(want);
    if (!view.routes.some((r) => sameDst(r, subnet))) throw new Error(`Failed to find Gateway ${ipc.gateway ?? ''} for interface ${ifName}`);
  }
  for (const r of result.routes ?? []) {
    const gw = r.gw ? parseIP(r.gw) : null;
    const ok = view.routes.some((x) => sameDst(x, r.dst) && (!gw || (x.gateway !== undefined && parseIP(x.gateway)?.n === gw.n)));
    if (!ok) throw new Error(`Expected Route {Dst:${r.dst} GW:${gw ? formatIP(gw) : '<nil>'}} not found in routing table`);
  }
}

export async function cmdCheck(a: CmdArgs): Promise<undefined> {
  const conf = loadBridgeConf(a.conf, a.args);
  assertNetns(a.netns);
  if (conf.ipamType) await delegate('CHECK', conf.ipamType, a.stdin, a.env);
  if (!conf.prevResult) throw new Error('Required prevResult missing');
  const prev = parseResult(conf.prevResult);
  const ifaces = prev.interfaces ?? [];
  const brWant = ifaces.find((i) => i.name === conf.bridge) ?? { name: '' };
  const contWant = ifaces.find((i) => i.name === a.ifName && i.sandbox === a.netns);
  if (!brWant.name) throw new Error('Interface name missing ');
  if (brWant.sandbox) throw new Error(`Interface ${brWant.name} should not be in sandbox`);
  const hostLinks = await ipJson<Link>(['-d', 'link', 'show']);
  const br = checkBridge(hostLinks, brWant, conf);
  if (!contWant) throw new Error(`Sandbox in prevResult  doesn't match configured netns: ${a.netns}`);

  const view = await containerView(a.netns, a.ifName);
  if (view.link.linkinfo?.info_kind !== 'veth') throw new Error(`Error: Container interface ${a.ifName} not of type veth`);
  if (contWant.mac && contWant.mac !== view.link.address) {
    throw new Error(`Interface ${a.ifName} Mac ${contWant.mac} doesn't match container Mac: ${view.link.address}`);
  }
  // the host end: a veth whose index is the container end's peer, whose peer is the container end,
  // and whose master is the bridge
  const peer = hostLinks.find(
    (l) => l.linkinfo?.info_kind === 'veth' && l.ifindex === view.link.link_index && l.link_index === view.link.ifindex && l.master === br.ifname,
  );
  if (!peer) throw new Error(`CNI veth created for bridge ${conf.bridge} was not found`);
  const peerWant = ifaces.find((i) => i.name === peer.ifname && !i.sandbox);
  if (peerWant?.mac && peerWant.mac !== peer.address) throw new Error(`Interface ${peer.ifname} Mac doesn't match: ${peerWant.mac} not found`);
  checkAddressesAndRoutes(a.ifName, view, prev);
  return undefined;
}
