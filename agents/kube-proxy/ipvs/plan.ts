// From two IPVS states to the inputs of the tools that apply the difference, as pure functions:
// `ipvsadm --restore` (virtual and real servers, in one batch), `ipset restore -exist` (set
// entries), `ip -batch -` (addresses on kube-ipvs0), and the iptables rules of the mode, a handful
// whose number does not grow with the Services (the sets carry the per-Service data).
import { FORWARD_ACCEPTS, MASQUERADE_RULES, type JumpRule } from '../netfilter.ts';
import { DUMMY, IPSETS, vsKey, type IpvsState, type RealServer, type VirtualServer } from './render.ts';

export const emptyIpvsState = (): IpvsState => ({ addresses: new Set(), services: new Map(), ipsets: new Map() });

const flag = (p: VirtualServer['protocol']): string => (p === 'tcp' ? '-t' : p === 'udp' ? '-u' : '--sctp-service');
const vsArgs = (v: VirtualServer): string => `${flag(v.protocol)} ${v.ip}:${v.port}`;
const vsOpts = (v: VirtualServer): string => `-s ${v.scheduler}${v.persistent ? ` -p ${v.persistent}` : ''}`;
const rsArgs = (v: VirtualServer, r: RealServer): string => `${vsArgs(v)} -r ${r.ip}:${r.port} -m -w ${r.weight}`;

/** ipvsadm --restore input: new/changed virtual servers, their real servers, removals last. */
export function ipvsadmRestore(prev: IpvsState, next: IpvsState): string {
  const out: string[] = [];
  for (const [k, v] of next.services) {
    const old = prev.services.get(k);
    if (!old) out.push(`-A ${vsArgs(v)} ${vsOpts(v)}`);
    else if (old.scheduler !== v.scheduler || old.persistent !== v.persistent) out.push(`-E ${vsArgs(v)} ${vsOpts(v)}`);
    const oldReals = new Map((old?.reals ?? []).map((r) => [`${r.ip}:${r.port}`, r]));
    const newReals = new Set<string>();
    for (const r of v.reals) {
      const rk = `${r.ip}:${r.port}`;
      newReals.add(rk);
      const o = oldReals.get(rk);
      if (!o) out.push(`-a ${rsArgs(v, r)}`);
      else if (o.weight !== r.weight) out.push(`-e ${rsArgs(v, r)}`);
    }
    for (const [rk] of oldReals) if (!newReals.has(rk)) out.push(`-d ${vsArgs(v)} -r ${rk}`);
  }
  for (const [k, v] of prev.services) if (!next.services.has(k)) out.push(`-D ${vsArgs(v)}`);
  return out.length ? `${out.join('\n')}\n` : '';
}

/** Parses `ipvsadm -Sn` output (what the kernel holds) into virtual servers. */
export function parseIpvsadmSave(text: string): Map<string, VirtualServer> {
  const out = new Map<string, VirtualServer>();
  const proto = (f: string): VirtualServer['protocol'] => (f === '-t' ? 'tcp' : f === '-u' ? 'udp' : 'sctp');
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const [ip, port] = (f[2] ?? '').split(/:(?=\d+$)/);
    if (f[0] === '-A') {
      const s = f.indexOf('-s');
      const p = f.indexOf('-p');
      const v: VirtualServer = {
        protocol: proto(f[1]),
        ip,
        port: Number(port),
        scheduler: (f[s + 1] ?? 'rr') as VirtualServer['scheduler'],
        persistent: p > 0 ? Number(f[p + 1]) : 0,
        reals: [],
      };
      out.set(vsKey(v), v);
    } else if (f[0] === '-a') {
      const v = out.get(vsKey({ protocol: proto(f[1]), ip, port: Number(port) }));
      const r = f.indexOf('-r');
      const w = f.indexOf('-w');
      const [rip, rport] = (f[r + 1] ?? '').split(/:(?=\d+$)/);
      v?.reals.push({ ip: rip, port: Number(rport), weight: w > 0 ? Number(f[w + 1]) : 1 });
    }
  }
  return out;
}

function createLine(s: (typeof IPSETS)[number]): string {
  const opts = s.type.startsWith('bitmap:') ? 'range 0-65535' : 'family inet hashsize 1024 maxelem 65536';
  return `create ${s.name} ${s.type} ${opts} comment`;
}

/** ipset restore input: every set created (-exist makes that idempotent), entries added/removed. */
export function ipsetRestore(prev: IpvsState, next: IpvsState): string {
  const out = IPSETS.map(createLine);
  for (const s of IPSETS) {
    const before = prev.ipsets.get(s.name) ?? new Set<string>();
    const after = next.ipsets.get(s.name) ?? new Set<string>();
    for (const e of after) if (!before.has(e)) out.push(`add ${s.name} ${e}`);
    for (const e of before) if (!after.has(e)) out.push(`del ${s.name} ${e}`);
  }
  return `${out.join('\n')}\n`;
}

/** `ip -batch -` input binding service IPs to the dummy interface. */
export function addressBatch(prev: Set<string>, next: Set<string>): string {
  const out: string[] = [];
  for (const a of next) if (!prev.has(a)) out.push(`address add ${a}/32 dev ${DUMMY}`);
  for (const a of prev) if (!next.has(a)) out.push(`address del ${a}/32 dev ${DUMMY}`);
  return out.length ? `${out.join('\n')}\n` : '';
}

export const IPVS_NAT_CHAINS = ['KUBE-SERVICES', 'KUBE-POSTROUTING', 'KUBE-NODE-PORT', 'KUBE-LOAD-BALANCER', 'KUBE-MARK-MASQ'];
export const IPVS_FILTER_CHAINS = ['KUBE-FORWARD', 'KUBE-NODE-PORT', 'KUBE-PROXY-FIREWALL', 'KUBE-SOURCE-RANGES-FIREWALL'];

export interface IpvsRuleOptions {
  clusterCIDR: string;
  masqueradeAll: boolean;
}

/** The mode's iptables rules, written whole each sync (they are few); sets that are empty get no rule. */
export function ipvsIptables(st: IpvsState, o: IpvsRuleOptions): string {
  const nonEmpty = (s: string) => (st.ipsets.get(s)?.size ?? 0) > 0;
  const comment = (s: string) => `-m comment --comment "${IPSETS.find((i) => i.name === s)!.comment}"`;
  const nat: string[] = IPVS_NAT_CHAINS.map((c) => `:${c} - [0:0]`);
  const filter: string[] = IPVS_FILTER_CHAINS.map((c) => `:${c} - [0:0]`);
  if (nonEmpty('KUBE-LOOP-BACK')) nat.push(`-A KUBE-POSTROUTING ${comment('KUBE-LOOP-BACK')} -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE`);
  if (nonEmpty('KUBE-LOAD-BALANCER'))
    nat.push(`-A KUBE-SERVICES ${comment('KUBE-LOAD-BALANCER')} -m set --match-set KUBE-LOAD-BALANCER dst,dst -j KUBE-LOAD-BALANCER`);
  if (nonEmpty('KUBE-LOAD-BALANCER-LOCAL'))
    nat.push(`-A KUBE-LOAD-BALANCER ${comment('KUBE-LOAD-BALANCER-LOCAL')} -m set --match-set KUBE-LOAD-BALANCER-LOCAL dst,dst -j RETURN`);
  for (const [p, set, local, match] of [
    ['tcp', 'KUBE-NODE-PORT-TCP', 'KUBE-NODE-PORT-LOCAL-TCP', 'dst'],
    ['udp', 'KUBE-NODE-PORT-UDP', 'KUBE-NODE-PORT-LOCAL-UDP', 'dst'],
    ['sctp', 'KUBE-NODE-PORT-SCTP-HASH', 'KUBE-NODE-PORT-LOCAL-SCTP-HASH', 'dst,dst'],
  ]) {
    if (nonEmpty(local)) nat.push(`-A KUBE-NODE-PORT -p ${p} ${comment(local)} -m set --match-set ${local} ${match} -j RETURN`);
    if (nonEmpty(set)) nat.push(`-A KUBE-NODE-PORT -p ${p} ${comment(set)} -m set --match-set ${set} ${match} -j KUBE-MARK-MASQ`);
  }
  if (nonEmpty('KUBE-LOAD-BALANCER-FW'))
    filter.push(`-A KUBE-PROXY-FIREWALL ${comment('KUBE-LOAD-BALANCER-FW')} -m set --match-set KUBE-LOAD-BALANCER-FW dst,dst -j KUBE-SOURCE-RANGES-FIREWALL`);
  for (const s of ['KUBE-LOAD-BALANCER-SOURCE-CIDR', 'KUBE-LOAD-BALANCER-SOURCE-IP']) {
    if (nonEmpty(s)) filter.push(`-A KUBE-SOURCE-RANGES-FIREWALL ${comment(s)} -m set --match-set ${s} dst,dst,src -j RETURN`);
  }
  if (nonEmpty('KUBE-CLUSTER-IP')) {
    const head = `-A KUBE-SERVICES ${comment('KUBE-CLUSTER-IP')} -m set --match-set KUBE-CLUSTER-IP`;
    if (o.masqueradeAll) nat.push(`${head} dst,dst -j KUBE-MARK-MASQ`);
    else if (o.clusterCIDR) nat.push(`${head} dst,dst ! -s ${o.clusterCIDR} -j KUBE-MARK-MASQ`);
    else nat.push(`${head} src,dst -j KUBE-MARK-MASQ`);
  }
  for (const s of ['KUBE-EXTERNAL-IP', 'KUBE-EXTERNAL-IP-LOCAL']) {
    if (!nonEmpty(s)) continue;
    const head = `-A KUBE-SERVICES ${comment(s)} -m set --match-set ${s} dst,dst`;
    if (s === 'KUBE-EXTERNAL-IP') nat.push(`${head} -j KUBE-MARK-MASQ`);
    // only traffic from off the machine, or to an external IP that is local anyway, is accepted
    nat.push(`${head} -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT`);
    nat.push(`${head} -m addrtype --dst-type LOCAL -j ACCEPT`);
  }
  nat.push('-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT');
  nat.push('-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ');
  filter.push('-A KUBE-SOURCE-RANGES-FIREWALL -j DROP');
  for (const s of ['KUBE-CLUSTER-IP', 'KUBE-LOAD-BALANCER']) {
    if (nonEmpty(s)) nat.push(`-A KUBE-SERVICES -m set --match-set ${s} dst,dst -j ACCEPT`);
  }
  filter.push(...FORWARD_ACCEPTS, `-A KUBE-NODE-PORT ${comment('KUBE-HEALTH-CHECK-NODE-PORT')} -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT`);
  nat.push(...MASQUERADE_RULES['KUBE-POSTROUTING'], ...MASQUERADE_RULES['KUBE-MARK-MASQ']);
  return `*nat\n${nat.join('\n')}\nCOMMIT\n*filter\n${filter.join('\n')}\nCOMMIT\n`;
}

export const IPVS_JUMPS: JumpRule[] = [
  { table: 'nat', chain: 'OUTPUT', args: '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES' },
  { table: 'nat', chain: 'PREROUTING', args: '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES' },
  { table: 'nat', chain: 'POSTROUTING', args: '-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING' },
  { table: 'filter', chain: 'FORWARD', args: '-m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD' },
  { table: 'filter', chain: 'INPUT', args: '-m comment --comment "kubernetes health check rules" -j KUBE-NODE-PORT' },
  { table: 'filter', chain: 'INPUT', args: '-m comment --comment "kube-proxy firewall rules" -j KUBE-PROXY-FIREWALL' },
  { table: 'filter', chain: 'FORWARD', args: '-m comment --comment "kube-proxy firewall rules" -j KUBE-PROXY-FIREWALL' },
];
