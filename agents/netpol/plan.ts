// NetworkPolicy as iptables chains and ipsets (iptables mode): policy-plan.ts decides what each
// local pod allows; this renders it with kube-router's chain layout (k3s embeds it) and matches
// peers through ipsets, merged per pod the way Calico's iptables dataplane keeps a policy's cost
// off the packet path:
//  - HAWSER-NETPOL, jumped to from FORWARD (bridged pod-to-pod frames pass there through
//    br_netfilter, routed ones anyway) and INPUT, first lets replies and already accepted
//    connections through (conntrack ESTABLISHED,RELATED) and traffic the node itself sends, then
//    sends a packet from a local pod isolated for egress to its egress chain and one to a local pod
//    isolated for ingress to its ingress chain.
//  - A pod chain (HAWSER-NPI-/HAWSER-NPE-<hash of the pod>) RETURNs what the pod allows and
//    REJECTs the rest, with one rule per port match and kind of peer, not one per policy rule: the
//    peers of every rule with that port match are one set. A new connection to a pod that 100
//    policies select (one port each) walked 100 set matches, about 10% fewer new connections a
//    second than to a pod no policy selects (bench/netpol-packets.ts, quiet host); now one.
//  - Peer sets are ipsets: hash:ip of pod addresses, hash:net of ipBlocks (one block: its cidr and
//    its except entries "nomatch"; several with excepts: their union as cidrs), hash:ip,port of an
//    egress chain's named-port destinations. A set is named by the policy-plan sets it merges, so
//    pods that the same policies select share it, and a pod or label change refills it in place.
import type { NpPod } from './model.ts';
import { blockRanges, rangeCidrs, unionRanges } from './ranges.ts';
import { hash, policyPlan, type Allow, type Direction, type NpInput, type PeerSet } from './policy-plan.ts';

export type { NpInput } from './policy-plan.ts';

export const TOP_CHAIN = 'HAWSER-NETPOL';
export const CHAIN_PREFIX = 'HAWSER-NP';
export const SET_PREFIX = 'hnp-';

export type SetType = 'hash:ip' | 'hash:net' | 'hash:ip,port';

export interface IpSet {
  type: SetType;
  /** sorted ipset entries: "10.0.0.1", "10.0.0.0/8", "10.1.0.0/16 nomatch", "10.0.0.1,tcp:8080" */
  entries: string[];
}

export interface NpPlan {
  sets: Map<string, IpSet>;
  /** every chain we own with its rules (without "-A <chain>"), HAWSER-NETPOL included */
  chains: Map<string, string[]>;
}

export const podChain = (d: Direction, p: NpPod): string => `${CHAIN_PREFIX}${d === 'ingress' ? 'I' : 'E'}-${hash(`${p.namespace}/${p.name}`).toUpperCase()}`;
const comment = (s: string): string => `-m comment --comment "${s.replace(/["\\]/g, '').slice(0, 250)}"`;

/** ipset hash:net refuses a /0: the whole IPv4 space is its two halves. */
function netEntries(cidr: string, suffix = ''): string[] {
  return cidr.endsWith('/0') ? [`0.0.0.0/1${suffix}`, `128.0.0.0/1${suffix}`] : [`${cidr}${suffix}`];
}

/** The kinds of peer a pod chain rule matches (one set each). */
type Kind = 'ips' | 'block' | 'ipports';

/** The set of the union of some PeerSets (sorted ids of one kind): a PeerSet alone keeps its own name. */
const setName = (ids: string[]): string => `${SET_PREFIX}${ids.length === 1 ? ids[0] : hash(ids.join(','))}`;

/** The union of some PeerSets of one kind as one ipset: a PeerSet alone keeps its shape. */
function unionSet(ids: string[], all: Map<string, PeerSet>): IpSet {
  const parts = ids.map((id) => all.get(id)!);
  const first = parts[0];
  if (first.kind === 'ips') return { type: 'hash:ip', entries: sortedUnique(parts.flatMap((p) => (p.kind === 'ips' ? p.ips : []))) };
  if (first.kind === 'ipports')
    return {
      type: 'hash:ip,port',
      entries: sortedUnique(parts.flatMap((p) => (p.kind === 'ipports' ? p.entries.map((e) => `${e.ip},${e.proto}:${e.port}`) : []))),
    };
  const blocks = parts.flatMap((p) => (p.kind === 'block' ? [p] : []));
  // one block, or blocks without excepts: cidrs (and "nomatch" excepts) as written; else the union's cidrs
  const entries =
    blocks.length === 1 || blocks.every((b) => !b.except.length)
      ? blocks.flatMap((b) => [...netEntries(b.cidr), ...b.except.flatMap((e) => netEntries(e, ' nomatch'))])
      : unionRanges(blocks.flatMap((b) => blockRanges(b.cidr, b.except))).flatMap(rangeCidrs);
  return { type: 'hash:net', entries: sortedUnique(entries) };
}

const sortedUnique = (xs: string[]): string[] => [...new Set(xs)].sort();

interface Group {
  port?: Allow['port'];
  /** some allow of this port match names no peer: any address */
  any: boolean;
  peers: Record<Kind, string[]>;
  tags: string[];
}

const portKey = (p: Allow['port']): string => (p ? `${p.proto}:${p.port ?? ''}:${p.endPort ?? ''}` : '');
const tagText = (tags: string[]): string => (tags.length === 1 ? tags[0] : `${tags[0]} and ${tags.length - 1} more`);

/**
 * A pod chain's RETURN rules: its allows grouped by port match, each group one rule per kind of
 * peer (any address; pod addresses; blocks) over the union of the group's sets, and every egress
 * named-port set in one ip,port set. So a chain has a handful of rules however many policies select
 * the pod (100 policies allowing one port each from other pods: one rule, one set).
 */
function podRules(d: Direction, allows: Allow[], peerSets: Map<string, PeerSet>, sets: Map<string, IpSet>): string[] {
  const dir = d === 'ingress' ? 'src' : 'dst';
  const groups = new Map<string, Group>();
  const named: Group = { any: false, peers: { ips: [], block: [], ipports: [] }, tags: [] };
  for (const a of allows) {
    if (a.ipPorts) {
      named.peers.ipports.push(a.ipPorts.set);
      named.tags.push(a.tag);
      continue;
    }
    const key = portKey(a.port);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { port: a.port, any: false, peers: { ips: [], block: [], ipports: [] }, tags: [] }));
    if (!a.peer) g.any = true;
    else g.peers[peerSets.get(a.peer)!.kind].push(a.peer);
    g.tags.push(a.tag);
  }
  const set = (ids: string[]): string => {
    const sorted = sortedUnique(ids);
    const name = setName(sorted);
    // pods that the same policies select name the same set: its entries are computed once
    if (!sets.has(name)) sets.set(name, unionSet(sorted, peerSets));
    return name;
  };
  const lines: string[] = [];
  for (const g of [...groups.values()]) {
    const p = g.port;
    const range = p?.port === undefined ? '' : p.endPort !== undefined ? `${p.port}:${p.endPort}` : String(p.port);
    const port = !p ? '' : range ? ` -p ${p.proto} -m ${p.proto} --dport ${range}` : ` -p ${p.proto}`;
    const c = comment(tagText(g.tags));
    if (g.any) {
      lines.push(`${c}${port} -j RETURN`);
      continue; // any address: the group's sets add nothing
    }
    for (const kind of ['ips', 'block'] as const) if (g.peers[kind].length) lines.push(`${c} -m set --match-set ${set(g.peers[kind])} ${dir}${port} -j RETURN`);
  }
  if (named.tags.length) lines.push(`${comment(tagText(named.tags))} -m set --match-set ${set(named.peers.ipports)} dst,dst -j RETURN`);
  return lines;
}

export function plan(i: NpInput): NpPlan {
  const pp = policyPlan(i);
  const sets = new Map<string, IpSet>();
  const chains = new Map<string, string[]>();
  const jumps: string[] = [];
  for (const { direction: d, pod, allows } of pp.isolated) {
    const chain = podChain(d, pod);
    chains.set(chain, [...podRules(d, allows, pp.sets, sets), `${comment(`${pod.namespace}/${pod.name} ${d} default deny`)} -j REJECT`]);
    jumps.push(`${comment(`${pod.namespace}/${pod.name} ${d}`)} ${d === 'ingress' ? '-d' : '-s'} ${pod.ip}/32 -j ${chain}`);
  }
  const top = jumps.length
    ? [
        `${comment('replies and accepted connections')} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
        `${comment('from the node itself (kubelet probes)')} -m addrtype --src-type LOCAL -j RETURN`,
        ...jumps,
      ]
    : [];
  chains.set(TOP_CHAIN, top);
  return { sets, chains };
}
