// The nftables rules of one Service, as a pure function. The table follows upstream's nftables
// mode (table ip kube-proxy; verdict maps service-ips, service-nodeports, no-endpoint-services,
// no-endpoint-nodeports, firewall-ips; service-/local-/external-/firewall- chains per Service port)
// with one change measured on this machine: nft reads every chain of the table before each
// transaction, ~3 ms per 1,000 chains, so a chain per endpoint (55,000 chains at 5,000 Services x
// 10 endpoints) made one incremental change cost ~200 ms. Here a Service chain DNATs through an
// inline numgen map instead, hairpin masquerade is one set of (endpoint, endpoint) address pairs
// checked in postrouting, and endpoint chains exist only where ClientIP affinity needs them.
import { nftBase, nftEndpointBase } from '../names.ts';
import { cidrContains } from '../../api/ip.ts';
import { planPort, type PortPlan } from '../policy.ts';
import type { Endpoint } from '../model.ts';
import type { PortWithEndpoints } from '../tracker.ts';

export const TABLE = 'ip kube-proxy';
export const MAPS = ['service-ips', 'service-nodeports', 'no-endpoint-services', 'no-endpoint-nodeports', 'firewall-ips'] as const;
export const HAIRPIN_SET = 'hairpin-pairs';

export interface NftContext {
  clusterCIDR: string;
  masqueradeAll: boolean;
  nodeIP?: string;
}

export interface NftFragment {
  /** regular chains owned by the Service: name -> rule bodies */
  chains: Map<string, string[]>;
  /** map or set name -> element key -> verdict ('' for set elements) */
  elements: Map<string, Map<string, string>>;
  /** ClientIP affinity sets: name -> timeout seconds */
  affinitySets: Map<string, number>;
}

export const emptyNftFragment = (): NftFragment => ({ chains: new Map(), elements: new Map(), affinitySets: new Map() });

const MASQ = 'jump mark-for-masquerade';

export function renderNftPort(plan: PortPlan, ctx: NftContext, out: NftFragment = emptyNftFragment()): NftFragment {
  const s = plan.svc;
  const p = s.protocol.toLowerCase();
  const base = nftBase(s);
  const names = { svc: `service-${base}`, local: `local-${base}`, ext: `external-${base}`, fw: `firewall-${base}` };
  const chain = (n: string): string[] => {
    let r = out.chains.get(n);
    if (!r) out.chains.set(n, (r = []));
    return r;
  };
  const elem = (map: string, key: string, value: string) => {
    let m = out.elements.get(map);
    if (!m) out.elements.set(map, (m = new Map()));
    m.set(key, value);
  };
  const vip = (ip: string, port = s.port) => `${ip} . ${p} . ${port}`;
  const verdict = (v: string | undefined) => (v === 'REJECT' ? 'goto reject-chain' : 'drop');
  const internalChain = plan.internalLocal ? names.local : names.svc;
  const externalPolicyChain = plan.externalLocal ? names.local : names.svc;

  if (plan.usesClusterChain) chain(names.svc);
  if (plan.usesLocalChain) chain(names.local);
  if (plan.usesExternalChain) chain(names.ext);
  if (plan.usesFirewallChain) chain(names.fw);

  if (plan.hasInternal) elem('service-ips', vip(s.clusterIP), `goto ${internalChain}`);
  else elem('no-endpoint-services', vip(s.clusterIP), verdict(plan.internalFilter));
  for (const ip of s.externalIPs) {
    if (plan.hasAny) elem('service-ips', vip(ip), `goto ${names.ext}`);
    if (!plan.hasExternal) elem('no-endpoint-services', vip(ip), verdict(plan.externalFilter));
  }
  for (const ip of s.loadBalancerIPs) {
    if (plan.hasAny) elem('service-ips', vip(ip), `goto ${names.ext}`);
    if (plan.usesFirewallChain) elem('firewall-ips', vip(ip), `goto ${names.fw}`);
    if (!plan.hasExternal) elem('no-endpoint-services', vip(ip), verdict(plan.externalFilter));
  }
  if (s.nodePort) {
    if (plan.hasAny) elem('service-nodeports', `${p} . ${s.nodePort}`, `goto ${names.ext}`);
    if (!plan.hasExternal) elem('no-endpoint-nodeports', `${p} . ${s.nodePort}`, verdict(plan.externalFilter));
  }

  if (plan.hasInternal && (ctx.masqueradeAll || ctx.clusterCIDR)) {
    const src = ctx.masqueradeAll ? '' : ` ip saddr != ${ctx.clusterCIDR}`;
    chain(internalChain).push(`ip daddr ${s.clusterIP} ${p} dport ${s.port}${src} ${MASQ}`);
  }
  if (plan.usesExternalChain) {
    const ext = chain(names.ext);
    if (!plan.externalLocal) ext.push(MASQ);
    else {
      if (ctx.clusterCIDR) ext.push(`ip saddr ${ctx.clusterCIDR} goto ${names.svc}`);
      ext.push(`fib saddr type local ${MASQ}`, `fib saddr type local goto ${names.svc}`);
    }
    if (plan.hasExternal) ext.push(`goto ${externalPolicyChain}`);
  }
  if (plan.usesFirewallChain) {
    const allowed = [...s.loadBalancerSourceRanges];
    if (ctx.nodeIP && allowed.some((c) => cidrContains(c, ctx.nodeIP!))) allowed.push(...s.loadBalancerIPs);
    chain(names.fw).push(`ip saddr != { ${allowed.join(', ')} } drop`);
  }
  if (plan.usesClusterChain) balance(out, plan, names.svc, plan.cluster, chain);
  if (plan.usesLocalChain) balance(out, plan, names.local, plan.local, chain);
  for (const ep of plan.reachable) elem(HAIRPIN_SET, `${ep.ip} . ${ep.ip}`, '');
  return out;
}

function balance(out: NftFragment, plan: PortPlan, name: string, eps: Endpoint[], chain: (n: string) => string[]): void {
  const s = plan.svc;
  const p = s.protocol.toLowerCase();
  const rules = chain(name);
  if (!s.affinitySeconds) {
    rules.push(
      eps.length === 1
        ? `meta l4proto ${p} dnat ip to ${eps[0].ip}:${eps[0].port}`
        : `meta l4proto ${p} dnat ip to numgen random mod ${eps.length} map { ${eps.map((e, i) => `${i} : ${e.ip} . ${e.port}`).join(', ')} }`,
    );
    return;
  }
  // Affinity: remember the client in a per-endpoint set, and send known clients back there.
  const epChains = eps.map((e) => {
    const b = nftEndpointBase(s, e);
    const set = `affinity-${b}`;
    const epChain = `endpoint-${b}`;
    out.affinitySets.set(set, s.affinitySeconds);
    const r = chain(epChain);
    if (!r.length) r.push(`update @${set} { ip saddr }`, `meta l4proto ${p} dnat ip to ${e.ip}:${e.port}`);
    rules.push(`ip saddr @${set} goto ${epChain}`);
    return epChain;
  });
  rules.push(`numgen random mod ${eps.length} vmap { ${epChains.map((c, i) => `${i} : goto ${c}`).join(', ')} }`);
}

export function renderNftService(ports: PortWithEndpoints[], ctx: NftContext): NftFragment {
  const out = emptyNftFragment();
  for (const p of ports) renderNftPort(planPort(p.svc, p.endpoints), ctx, out);
  return out;
}
