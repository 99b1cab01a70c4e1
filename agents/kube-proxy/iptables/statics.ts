// The Service-independent part of the iptables layout: the chains every kube-proxy node has, their
// fixed rules, and the jumps from the built-in chains into them. Names, comments and the mark
// (0x4000, bit 14) are upstream's.
import type { TopChain } from './render.ts';

export const MASQ_MARK = '0x4000';
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
  const nat = new Map<string, string[]>([
    ['KUBE-POSTROUTING', [
      `-A KUBE-POSTROUTING -m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`,
      `-A KUBE-POSTROUTING -j MARK --xor-mark ${MASQ_MARK}`,
      '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    ]],
    ['KUBE-MARK-MASQ', [`-A KUBE-MARK-MASQ -j MARK --or-mark ${MASQ_MARK}`]],
  ]);
  const filter = new Map<string, string[]>([
    ['KUBE-FORWARD', [
      '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
      `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j ACCEPT`,
      '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    ]],
  ]);
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

export interface JumpRule { table: string; chain: string; args: string }

/** Jumps from built-in chains, kept first in them as upstream does. */
export const JUMPS: JumpRule[] = [
  { table: 'filter', chain: 'INPUT', args: '-m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES' },
  { table: 'filter', chain: 'FORWARD', args: '-m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES' },
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

/** Does a built-in chain's `iptables -S CHAIN` listing already hold this jump? */
export function hasJump(listing: string, j: JumpRule): boolean {
  const target = j.args.slice(j.args.lastIndexOf('-j '));
  const comment = /--comment ("[^"]*"|\S+)/.exec(j.args)?.[1] ?? '';
  return listing.split('\n').some((l) => l.startsWith(`-A ${j.chain} `) && l.endsWith(target) && l.includes(comment));
}

/** Restore text inserting the missing jumps first in their built-in chains ('' when none is missing). */
export function jumpRestore(missing: JumpRule[]): string {
  const byTable = new Map<string, string[]>();
  for (const j of [...missing].reverse()) {
    const lines = byTable.get(j.table) ?? [];
    lines.push(`-I ${j.chain} 1 ${j.args}`);
    byTable.set(j.table, lines);
  }
  return [...byTable].map(([t, lines]) => `*${t}\n${lines.join('\n')}\nCOMMIT\n`).join('');
}
