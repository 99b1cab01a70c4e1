// NetworkPolicy as iptables chains and ipsets (iptables mode): policy-plan.ts decides what each
// local pod allows; this renders it in the rule shape of kube-router, which k3s embeds:
//  - HAWSER-NETPOL, jumped to from FORWARD (bridged pod-to-pod frames pass there through
//    br_netfilter, routed ones anyway) and INPUT, first lets replies and already accepted
//    connections through (conntrack ESTABLISHED,RELATED) and traffic the node itself sends, then
//    sends a packet from a local pod isolated for egress to its egress chain and one to a local pod
//    isolated for ingress to its ingress chain.
//  - A pod chain (HAWSER-NPI-/HAWSER-NPE-<hash of the pod>) RETURNs what the pod allows and
//    REJECTs the rest.
//  - Peer sets are ipsets: hash:ip of pod addresses, hash:net per ipBlock (its except entries
//    "nomatch"), hash:ip,port for an egress rule's named port.
import type { NpPod } from './model.ts';
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
const comment = (s: string): string => `-m comment --comment "${s.replace(/["\\]/g, '')}"`;

/** ipset hash:net refuses a /0: the whole IPv4 space is its two halves. */
function netEntries(cidr: string, suffix = ''): string[] {
  return cidr.endsWith('/0') ? [`0.0.0.0/1${suffix}`, `128.0.0.0/1${suffix}`] : [`${cidr}${suffix}`];
}

function ipset(s: PeerSet): IpSet {
  if (s.kind === 'ips') return { type: 'hash:ip', entries: s.ips };
  if (s.kind === 'ipports') return { type: 'hash:ip,port', entries: s.entries.map((e) => `${e.ip},${e.proto}:${e.port}`) };
  return { type: 'hash:net', entries: [...new Set([...netEntries(s.cidr), ...s.except.flatMap((e) => netEntries(e, ' nomatch'))])].sort() };
}

function ruleLine(a: Allow, d: Direction): string {
  const dir = d === 'ingress' ? 'src' : 'dst';
  if (a.ipPorts) return `${comment(a.tag)} -p ${a.ipPorts.proto} -m set --match-set ${SET_PREFIX}${a.ipPorts.set} dst,dst -j RETURN`;
  const peer = a.peer ? `-m set --match-set ${SET_PREFIX}${a.peer} ${dir}` : '';
  const p = a.port;
  const range = p?.port === undefined ? '' : p.endPort !== undefined ? `${p.port}:${p.endPort}` : String(p.port);
  const port = !p ? '' : range ? `-p ${p.proto} -m ${p.proto} --dport ${range}` : `-p ${p.proto}`;
  return [comment(a.tag), peer, port, '-j RETURN'].filter(Boolean).join(' ');
}

export function plan(i: NpInput): NpPlan {
  const pp = policyPlan(i);
  const sets = new Map([...pp.sets].map(([id, s]) => [`${SET_PREFIX}${id}`, ipset(s)]));
  const chains = new Map<string, string[]>();
  const jumps: string[] = [];
  for (const { direction: d, pod, allows } of pp.isolated) {
    const chain = podChain(d, pod);
    chains.set(chain, [...allows.map((a) => ruleLine(a, d)), `${comment(`${pod.namespace}/${pod.name} ${d} default deny`)} -j REJECT`]);
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
