// Pure planning of the `ip -batch` lines the bridge plugin runs on the host and in the container.
import { contains, parseCIDR } from '../../agents/api/ip.ts';
import type { AddrInfo } from '../pkg/ip.ts';
import type { Result } from '../skel/result.ts';
import type { BridgeConf } from './config.ts';

/**
 * Lines that give the bridge the gateway address `want` (gw/prefix). An address already there is kept;
 * another IPv4 address, or an overlapping IPv6 one, is replaced with forceAddress and refused without.
 */
export function bridgeAddrLines(dev: string, existing: AddrInfo[], want: string, force: boolean): string[] {
  const w = parseCIDR(want);
  if (!w) throw new Error(`invalid gateway address ${want}`);
  const fam = w.ip.v === 4 ? 'inet' : 'inet6';
  const lines: string[] = [];
  for (const a of existing) {
    if (a.family !== fam || a.scope === 'link') continue;
    const have = `${a.local}/${a.prefixlen}`;
    const h = parseCIDR(have);
    if (!h) continue;
    if (h.ip.n === w.ip.n && h.prefix === w.prefix) return [];
    if (fam === 'inet' || contains(h, w.ip) || contains(w, h.ip)) {
      if (!force) throw new Error(`"${dev}" already has an IP address different from ${want}`);
      lines.push(`address del ${have} dev ${dev}`);
    }
  }
  // "replace": a concurrent ADD may have just added the same address, which is fine (EEXIST, as the
  // reference treats it)
  lines.push(fam === 'inet' ? `address replace ${want} brd + dev ${dev}` : `address replace ${want} dev ${dev}`);
  return lines;
}

/** Container side: addresses, link up, routes (gateway defaulting to the family's first gateway). */
export function containerLines(ifName: string, result: Result): string[] {
  const lines: string[] = [];
  let gw4: string | undefined;
  let gw6: string | undefined;
  for (const ipc of result.ips ?? []) {
    const v4 = !ipc.address.includes(':');
    lines.push(v4 ? `address add ${ipc.address} brd + dev ${ifName}` : `address add ${ipc.address} dev ${ifName}`);
    if (ipc.gateway) {
      if (v4) gw4 ??= ipc.gateway;
      else gw6 ??= ipc.gateway;
    }
  }
  lines.push(`link set dev ${ifName} up`);
  for (const r of result.routes ?? []) {
    const v4 = !r.dst.includes(':');
    const gw = r.gw ?? (v4 ? gw4 : gw6);
    // "prepend" is NLM_F_CREATE alone: the flags the reference's netlink RouteAddEcmp uses
    lines.push(`route prepend ${r.dst}${gw ? ` via ${gw}` : ''} dev ${ifName}`);
  }
  return lines;
}

/** Container-side sysctls the reference sets before addressing (best effort, as there). */
export function containerSysctls(ifName: string, conf: Pick<BridgeConf, 'enabledad'>, result: Result): Array<[string, string]> {
  const s: Array<[string, string]> = [];
  if (conf.enabledad) {
    s.push([`net/ipv6/conf/${ifName}/enhanced_dad`, '1'], [`net/ipv6/conf/${ifName}/accept_dad`, '1']);
  } else {
    s.push([`net/ipv6/conf/${ifName}/accept_dad`, '0']);
  }
  s.push([`net/ipv4/conf/${ifName}/arp_notify`, '1']);
  if ((result.ips ?? []).some((i) => i.address.includes(':'))) {
    s.push(['net/ipv6/conf/lo/disable_ipv6', '0'], [`net/ipv6/conf/${ifName}/disable_ipv6`, '0']);
  }
  return s;
}

/** Host side: the veth pair (peer created straight in the container netns), bridge membership, modes. */
export function vethLines(o: { conf: BridgeConf; hostVeth: string; hostMac: string; contMac: string; ifName: string; netns: string }): string[] {
  const { conf } = o;
  const mtu = conf.mtu ? ` mtu ${conf.mtu}` : '';
  const lines = [
    // txqueuelen 0 on both ends: what the reference's netlink request leaves on a veth pair
    `link add ${o.hostVeth} address ${o.hostMac}${mtu} txqueuelen 0 type veth peer name ${o.ifName} address ${o.contMac}${mtu} txqueuelen 0 netns ${o.netns}`,
    `link set dev ${o.hostVeth} master ${conf.bridge}`,
    `link set dev ${o.hostVeth} up`,
  ];
  if (conf.hairpinMode) lines.push(`link set dev ${o.hostVeth} type bridge_slave hairpin on`);
  return lines;
}
