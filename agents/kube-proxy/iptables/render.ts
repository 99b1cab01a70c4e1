// The iptables rules of one Service port, as a pure function of its plan. Chain names, roles,
// rule order and comments follow upstream kube-proxy's iptables mode, so that `iptables-save`
// reads the same: KUBE-SERVICES dispatches on destination to KUBE-SVC-* (Cluster policy) or
// KUBE-SVL-* (Local policy), external destinations go through KUBE-EXT-* (and KUBE-FW-* for
// loadBalancerSourceRanges), each endpoint has a KUBE-SEP-* chain that DNATs, and the filter table
// rejects or drops traffic to Services without usable endpoints.
import { endpointString, type Endpoint } from '../model.ts';
import { iptablesChains, iptablesEndpointChain } from '../names.ts';
import { cidrContains } from '../../api/ip.ts';
import { planPort, type PortPlan } from '../policy.ts';
import type { PortWithEndpoints } from '../tracker.ts';

export interface IptContext {
  /** pod network; traffic from outside it to a ClusterIP is masqueraded. '' disables the rule. */
  clusterCIDR: string;
  masqueradeAll: boolean;
  nodeIP?: string;
  /**
   * Upstream's "large cluster mode" (over 1,000 endpoints): endpoint rules go without comments,
   * which here roughly halves what the kernel re-validates on every change.
   */
  largeCluster?: boolean;
}

/** Endpoints above which rules are written without per-endpoint comments (upstream's threshold). */
export const LARGE_CLUSTER_ENDPOINTS = 1000;

/** Chains shared by all Services, each rule written without its "-A CHAIN " head. */
export const TOP_CHAINS = [
  'nat KUBE-SERVICES',
  'nat KUBE-NODEPORTS',
  'filter KUBE-SERVICES',
  'filter KUBE-EXTERNAL-SERVICES',
  'filter KUBE-NODEPORTS',
  'filter KUBE-PROXY-FIREWALL',
] as const;
export type TopChain = (typeof TOP_CHAINS)[number];

export interface IptFragment {
  /** nat chains owned by this Service: name -> full "-A" lines, in order */
  chains: Map<string, string[]>;
  top: Record<TopChain, string[]>;
}

export const emptyFragment = (): IptFragment => ({
  chains: new Map(),
  top: Object.fromEntries(TOP_CHAINS.map((c) => [c, []])) as unknown as Record<TopChain, string[]>,
});

/** iptables-restore reads a quoted comment as one word. */
export const quote = (s: string): string => (/[\s"]/.test(s) ? `"${s.replace(/"/g, '')}"` : s);

export const MARK_MASQ = 'KUBE-MARK-MASQ';

const probabilities: string[] = [];
/** 1/n as upstream prints it; remembered, as every Service with n endpoints needs the same ones */
export function probability(n: number): string {
  return (probabilities[n] ??= (1 / n).toFixed(10));
}

/** Appends the rules of one Service port to a fragment (a Service's ports share one fragment). */
export function renderPort(plan: PortPlan, ctx: IptContext, out: IptFragment = emptyFragment()): IptFragment {
  const s = plan.svc;
  const p = s.protocol.toLowerCase();
  const names = iptablesChains(s);
  const dport = (ip: string, port = s.port) => `-m ${p} -p ${p} -d ${ip} --dport ${port}`;
  const top = out.top;
  const chain = (name: string): string[] => {
    let rules = out.chains.get(name);
    if (!rules) out.chains.set(name, (rules = []));
    return rules;
  };
  const internalChain = plan.internalLocal ? names.svl : names.svc;
  const externalPolicyChain = plan.externalLocal ? names.svl : names.svc;
  const lbChain = plan.usesFirewallChain ? names.fw : names.ext;
  // This kernel reports an ICMP port-unreachable to a SYN only when the SYN is retried (1 s):
  // a TCP reset refuses at once. Other protocols get upstream's ICMP.
  const reject = (v: string | undefined) => (v === 'REJECT' && p === 'tcp' ? 'REJECT --reject-with tcp-reset' : v);
  const noEndpoints = (v: string | undefined) => quote(v === 'DROP' ? `${s.name} has no local endpoints` : `${s.name} has no endpoints`);

  // Declare in upstream's order so a chain exists before rules refer to it within one restore.
  if (plan.usesExternalChain) chain(names.ext);
  if (plan.usesFirewallChain) chain(names.fw);
  if (plan.usesClusterChain) chain(names.svc);
  if (plan.usesLocalChain) chain(names.svl);

  // ClusterIP
  if (plan.hasInternal) {
    top['nat KUBE-SERVICES'].push(`-m comment --comment ${quote(`${s.name} cluster IP`)} ${dport(s.clusterIP)} -j ${internalChain}`);
  } else {
    top['filter KUBE-SERVICES'].push(`-m comment --comment ${noEndpoints(plan.internalFilter)} ${dport(s.clusterIP)} -j ${reject(plan.internalFilter)}`);
  }
  // externalIPs
  for (const ip of s.externalIPs) {
    if (plan.hasAny) top['nat KUBE-SERVICES'].push(`-m comment --comment ${quote(`${s.name} external IP`)} ${dport(ip)} -j ${names.ext}`);
    if (!plan.hasExternal) {
      top['filter KUBE-EXTERNAL-SERVICES'].push(`-m comment --comment ${noEndpoints(plan.externalFilter)} ${dport(ip)} -j ${reject(plan.externalFilter)}`);
    }
  }
  // LoadBalancer ingress IPs
  for (const ip of s.loadBalancerIPs) {
    if (plan.hasAny) top['nat KUBE-SERVICES'].push(`-m comment --comment ${quote(`${s.name} loadbalancer IP`)} ${dport(ip)} -j ${lbChain}`);
    if (plan.usesFirewallChain) {
      top['filter KUBE-PROXY-FIREWALL'].push(`-m comment --comment ${quote(`${s.name} traffic not accepted by ${names.fw}`)} ${dport(ip)} -j DROP`);
    }
  }
  if (!plan.hasExternal) {
    for (const ip of s.loadBalancerIPs) {
      top['filter KUBE-EXTERNAL-SERVICES'].push(`-m comment --comment ${noEndpoints(plan.externalFilter)} ${dport(ip)} -j ${reject(plan.externalFilter)}`);
    }
  }
  // NodePort
  if (s.nodePort) {
    if (plan.hasAny) top['nat KUBE-NODEPORTS'].push(`-m comment --comment ${quote(s.name)} -m ${p} -p ${p} --dport ${s.nodePort} -j ${names.ext}`);
    if (!plan.hasExternal) {
      top['filter KUBE-EXTERNAL-SERVICES'].push(
        `-m comment --comment ${noEndpoints(plan.externalFilter)} ` +
          `-m addrtype --dst-type LOCAL -m ${p} -p ${p} --dport ${s.nodePort} -j ${reject(plan.externalFilter)}`,
      );
    }
  }
  if (s.healthCheckNodePort) {
    top['filter KUBE-NODEPORTS'].push(
      `-m comment --comment ${quote(`${s.name} health check node port`)} -m tcp -p tcp --dport ${s.healthCheckNodePort} -j ACCEPT`,
    );
  }

  // Masquerade ClusterIP traffic that does not come from a pod (it may leave the node).
  if (plan.hasInternal && (ctx.masqueradeAll || ctx.clusterCIDR)) {
    const src = ctx.masqueradeAll ? '' : ` ! -s ${ctx.clusterCIDR}`;
    chain(internalChain).push(`-A ${internalChain} -m comment --comment ${quote(`${s.name} cluster IP`)} ${dport(s.clusterIP)}${src} -j ${MARK_MASQ}`);
  }

  if (plan.usesExternalChain) {
    const ext = chain(names.ext);
    if (!plan.externalLocal) {
      ext.push(`-A ${names.ext} -m comment --comment ${quote(`masquerade traffic for ${s.name} external destinations`)} -j ${MARK_MASQ}`);
    } else {
      // Pods and the node itself reach external destinations as if from outside, with Cluster policy.
      if (ctx.clusterCIDR) {
        ext.push(`-A ${names.ext} -m comment --comment ${quote(`pod traffic for ${s.name} external destinations`)} -s ${ctx.clusterCIDR} -j ${names.svc}`);
      }
      ext.push(
        `-A ${names.ext} -m comment --comment ${quote(`masquerade LOCAL traffic for ${s.name} external destinations`)} -m addrtype --src-type LOCAL -j ${MARK_MASQ}`,
      );
      ext.push(
        `-A ${names.ext} -m comment --comment ${quote(`route LOCAL traffic for ${s.name} external destinations`)} -m addrtype --src-type LOCAL -j ${names.svc}`,
      );
    }
    if (plan.hasExternal) ext.push(`-A ${names.ext} -j ${externalPolicyChain}`);
  }

  if (plan.usesFirewallChain) {
    const fw = chain(names.fw);
    const head = `-A ${names.fw} -m comment --comment ${quote(`${s.name} loadbalancer IP`)}`;
    for (const cidr of s.loadBalancerSourceRanges) fw.push(`${head} -s ${cidr} -j ${names.ext}`);
    if (ctx.nodeIP && s.loadBalancerSourceRanges.some((c) => cidrContains(c, ctx.nodeIP!))) {
      for (const ip of s.loadBalancerIPs) fw.push(`${head} -s ${ip} -j ${names.ext}`);
    }
    fw.push(`-A ${names.fw} -m comment --comment ${quote(`other traffic to ${s.name} will be dropped by KUBE-PROXY-FIREWALL`)}`);
  }

  if (plan.usesClusterChain) writeBalancing(out, plan, names.svc, plan.cluster, !ctx.largeCluster);
  if (plan.usesLocalChain) writeBalancing(out, plan, names.svl, plan.local, !ctx.largeCluster);

  const epComment = ctx.largeCluster ? '' : ` -m comment --comment ${quote(s.name)}`;
  for (const ep of plan.reachable) {
    const epStr = endpointString(ep);
    const sep = iptablesEndpointChain(s, epStr);
    const rules = chain(sep);
    rules.push(`-A ${sep}${epComment} -s ${ep.ip} -j ${MARK_MASQ}`);
    const affinity = s.affinitySeconds ? ` -m recent --name ${sep} --set` : '';
    rules.push(`-A ${sep}${epComment}${affinity} -m ${p} -p ${p} -j DNAT --to-destination ${epStr}`);
  }
  return out;
}

/** Affinity checks first, then one random-probability jump per endpoint, the last unconditional. */
function writeBalancing(out: IptFragment, plan: PortPlan, chainName: string, eps: Endpoint[], comments: boolean): void {
  const s = plan.svc;
  const comment = (ep: Endpoint) => (comments ? ` -m comment --comment ${quote(`${s.name} -> ${endpointString(ep)}`)}` : '');
  const rules = out.chains.get(chainName)!;
  if (s.affinitySeconds) {
    for (const ep of eps) {
      const sep = iptablesEndpointChain(s, endpointString(ep));
      rules.push(`-A ${chainName}${comment(ep)} -m recent --name ${sep} --rcheck --seconds ${s.affinitySeconds} --reap -j ${sep}`);
    }
  }
  eps.forEach((ep, i) => {
    const sep = iptablesEndpointChain(s, endpointString(ep));
    const stat = i < eps.length - 1 ? ` -m statistic --mode random --probability ${probability(eps.length - i)}` : '';
    rules.push(`-A ${chainName}${comment(ep)}${stat} -j ${sep}`);
  });
}

/** All ports of one Service in one fragment: the unit a partial sync rewrites. */
export function renderService(ports: PortWithEndpoints[], ctx: IptContext): IptFragment {
  const out = emptyFragment();
  for (const p of ports) renderPort(planPort(p.svc, p.endpoints), ctx, out);
  return out;
}
