// The Service-independent part of the iptables layout: the chains every kube-proxy node has, their
// fixed rules, and the jumps from the built-in chains into them. Names, comments and the mark
// (0x4000, bit 14) are upstream's.
import type { TopChain } from './render.ts';
import { FORWARD_ACCEPTS, MASQUERADE_RULES, type JumpRule } from '../netfilter.ts';

export const CANARY = 'KUBE-PROXY-CANARY';

/** Chains this proxy owns besides the per-Service ones (kubelet's KUBE-FIREWALL is not ours). */
export const OWNED_CHAINS: Record<string, string[]> = {
  nat: ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ', CANARY],
  filter: ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL', CANARY],
  mangle: [CANARY],
};

export interface StaticOptions {
  /** node IPs NodePorts answer on; empty = every local address but loopback */
  nodePortIPs: string[];
}

/** Static chains written on full syncs: table -> chain -> full "-A" lines. */
export function staticChains(): Record<'nat' | 'filter', Map<string, string[]>> {
  const nat = new Map<string, string[]>(Object.entries(MASQUERADE_RULES));
  const filter = new Map<string, string[]>([['KUBE-FORWARD', ['-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP', ...FORWARD_ACCEPTS]]]);
  return { nat, filter };
}

/** Rules that end a shared chain, after every Service's rules (args without "-A CHAIN "). */
export function topTails(o: StaticOptions): Partial<Record<TopChain, string[]>> {
  const comment = '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain"';
  const nodePorts = o.nodePortIPs.length
    ? o.nodePortIPs.map((ip) => `${comment} -d ${ip} -j KUBE-NODEPORTS`)
    : [`${comment} -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS`];
  return { 'nat KUBE-SERVICES': nodePorts };
}

/** Jumps from built-in chains, kept first in them as upstream does. */
export const JUMPS: JumpRule[] = [
  {
    table: 'filter',
    chain: 'INPUT',
    args: '-m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
  },
  {
    table: 'filter',
    chain: 'FORWARD',
    args: '-m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
  },
  { table: 'filter', chain: 'INPUT', args: '-m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS' },
  { table: 'filter', chain: 'FORWARD', args: '-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES' },
  { table: 'filter', chain: 'OUTPUT', args: '-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES' },
  { table: 'filter', chain: 'FORWARD', args: '-m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD' },
  { table: 'filter', chain: 'INPUT', args: '-m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL' },
  { table: 'filter', chain: 'OUTPUT', args: '-m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL' },
  { table: 'filter', chain: 'FORWARD', args: '-m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL' },
  { table: 'nat', chain: 'OUTPUT', args: '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES' },
  { table: 'nat', chain: 'PREROUTING', args: '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES' },
  { table: 'nat', chain: 'POSTROUTING', args: '-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING' },
];
