// Which endpoints a Service port sends traffic to, and what happens when there are none: the
// decisions every backend shares, as kube-proxy makes them. Ready endpoints are used; when none is
// ready, serving-and-terminating ones are (independently for Cluster and Local policy), so that a
// rolling update never blackholes a Service.
import type { Endpoint, ServicePort } from './model.ts';

export const externallyAccessible = (s: ServicePort): boolean => s.nodePort !== 0 || s.loadBalancerIPs.length > 0 || s.externalIPs.length > 0;

/** Cluster endpoints are needed for Cluster internal policy, and for the short-circuit of external traffic. */
export const usesClusterEndpoints = (s: ServicePort): boolean => !s.internalPolicyLocal || externallyAccessible(s);

export const usesLocalEndpoints = (s: ServicePort): boolean => s.internalPolicyLocal || (s.externalPolicyLocal && externallyAccessible(s));

const fallback = (eps: Endpoint[], pick: (e: Endpoint) => boolean): Endpoint[] => {
  const ready = eps.filter((e) => e.ready && pick(e));
  return ready.length ? ready : eps.filter((e) => e.serving && e.terminating && pick(e));
};

export interface Categorized {
  cluster: Endpoint[];
  local: Endpoint[];
  /** union of the two: the endpoints this node may DNAT to */
  reachable: Endpoint[];
  /** usable endpoints exist somewhere in the cluster */
  hasAny: boolean;
}

export function categorize(s: ServicePort, eps: Endpoint[]): Categorized {
  const cluster = usesClusterEndpoints(s) ? fallback(eps, () => true) : [];
  const local = usesLocalEndpoints(s) ? fallback(eps, (e) => e.local) : [];
  const hasAny = cluster.length > 0 || eps.some((e) => e.ready || (e.serving && e.terminating));
  const seen = new Set<string>();
  const reachable: Endpoint[] = [];
  for (const e of [...cluster, ...local]) {
    const k = `${e.ip}:${e.port}`;
    if (!seen.has(k)) {
      seen.add(k);
      reachable.push(e);
    }
  }
  return { cluster, local, reachable, hasAny };
}

export type Verdict = 'REJECT' | 'DROP';

/** Everything a backend needs to write one Service port, decided once. */
export interface PortPlan extends Categorized {
  svc: ServicePort;
  usesClusterChain: boolean;
  usesLocalChain: boolean;
  /** internal (ClusterIP) traffic goes to the local chain */
  internalLocal: boolean;
  hasInternal: boolean;
  externalLocal: boolean;
  hasExternal: boolean;
  usesExternalChain: boolean;
  usesFirewallChain: boolean;
  /** what to do with ClusterIP traffic when hasInternal is false */
  internalFilter?: Verdict;
  /** what to do with external traffic that is not short-circuited when hasExternal is false */
  externalFilter?: Verdict;
}

export function planPort(svc: ServicePort, eps: Endpoint[]): PortPlan {
  const c = categorize(svc, eps);
  const hasInternal = c.hasAny && (!svc.internalPolicyLocal || c.local.length > 0);
  const hasExternal = c.hasAny && (!svc.externalPolicyLocal || c.local.length > 0);
  return {
    ...c,
    svc,
    usesClusterChain: c.cluster.length > 0 && usesClusterEndpoints(svc),
    usesLocalChain: c.local.length > 0 && usesLocalEndpoints(svc),
    internalLocal: svc.internalPolicyLocal,
    hasInternal,
    externalLocal: svc.externalPolicyLocal,
    hasExternal,
    usesExternalChain: c.hasAny && externallyAccessible(svc),
    usesFirewallChain: c.hasAny && svc.loadBalancerIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0,
    internalFilter: !c.hasAny ? 'REJECT' : hasInternal ? undefined : 'DROP',
    externalFilter: !c.hasAny ? 'REJECT' : hasExternal ? undefined : 'DROP',
  };
}
