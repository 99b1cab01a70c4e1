// NetworkPolicy as an nftables table of its own (nftables mode, beside kube-proxy's `ip kube-proxy`),
// rendered from the same decisions as the iptables rules (policy-plan.ts), pure. The shape follows
// upstream kube-network-policies' nftables backend: sets for the peers and verdict maps keyed by
// pod address, so a packet costs two map lookups however many pods are isolated:
//  - base chains on the input and forward hooks jump to `dispatch`, which lets replies and already
//    accepted connections through (ct state established,related: a policy change never cuts a
//    running connection) and what the node itself sends, then looks the source up in
//    `egress-pods` and the destination in `ingress-pods`; each names the pod's chain.
//  - a pod chain (i-/e-<hash of the pod>) returns what the pod allows and rejects the rest.
//  - peers are sets: pod addresses (ipv4_addr), an ipBlock as intervals (its cidr with the except
//    ranges cut out), an egress named port as ipv4_addr . inet_proto . inet_service.
import type { NpPod } from './model.ts';
import { blockRanges, rangeText } from './ranges.ts';
import { hash, policyPlan, type Allow, type Direction, type NpInput, type PeerSet } from './policy-plan.ts';

export const NFT_TABLE = 'ip hawser-netpol';
export const INGRESS_MAP = 'ingress-pods';
export const EGRESS_MAP = 'egress-pods';

export interface NftSet {
  type: 'ipv4_addr' | 'ipv4_addr . inet_proto . inet_service';
  interval: boolean;
  /** sorted elements as nft writes them: "10.0.0.1", "10.0.0.0-10.0.0.255", "10.0.0.1 . tcp . 8080" */
  elements: string[];
}

export interface NftPolicyPlan {
  sets: Map<string, NftSet>;
  /** pod chains: name -> rule bodies */
  chains: Map<string, string[]>;
  /** verdict map elements: pod address -> pod chain */
  ingress: Map<string, string>;
  egress: Map<string, string>;
}

export const nftPodChain = (d: Direction, p: NpPod): string => `${d === 'ingress' ? 'i' : 'e'}-${hash(`${p.namespace}/${p.name}`)}`;
export const nftSetName = (id: string): string => `s-${id}`;

/** An IPv4 cidr without the except cidrs, as sorted nft interval elements (a single address alone). */
export const blockIntervals = (cidr: string, except: string[]): string[] => blockRanges(cidr, except).map(rangeText);

function nftSet(s: PeerSet): NftSet {
  if (s.kind === 'ips') return { type: 'ipv4_addr', interval: false, elements: s.ips };
  if (s.kind === 'ipports')
    return { type: 'ipv4_addr . inet_proto . inet_service', interval: false, elements: s.entries.map((e) => `${e.ip} . ${e.proto} . ${e.port}`) };
  return { type: 'ipv4_addr', interval: true, elements: blockIntervals(s.cidr, s.except) };
}

const comment = (s: string): string => `comment "${s.replace(/["\\]/g, '').slice(0, 120)}"`;

function ruleBody(a: Allow, d: Direction): string {
  if (a.ipPorts) return `ip daddr . meta l4proto . th dport @${nftSetName(a.ipPorts.set)} return ${comment(a.tag)}`;
  const peer = a.peer ? `ip ${d === 'ingress' ? 'saddr' : 'daddr'} @${nftSetName(a.peer)}` : '';
  const p = a.port;
  const range = p?.port === undefined ? '' : p.endPort !== undefined ? `${p.port}-${p.endPort}` : String(p.port);
  const port = !p ? '' : `meta l4proto ${p.proto}${range ? ` th dport ${range}` : ''}`;
  return [peer, port, 'return', comment(a.tag)].filter(Boolean).join(' ');
}

export function nftPlan(i: NpInput): NftPolicyPlan {
  const pp = policyPlan(i);
  const out: NftPolicyPlan = {
    sets: new Map([...pp.sets].map(([id, s]) => [nftSetName(id), nftSet(s)])),
    chains: new Map(),
    ingress: new Map(),
    egress: new Map(),
  };
  for (const { direction: d, pod, allows } of pp.isolated) {
    const chain = nftPodChain(d, pod);
    out.chains.set(chain, [...allows.map((a) => ruleBody(a, d)), `reject ${comment(`${pod.namespace}/${pod.name} ${d} default deny`)}`]);
    (d === 'ingress' ? out.ingress : out.egress).set(pod.ip, chain);
  }
  return out;
}
