// The built-in service load balancer's decisions (pure), k3s ServiceLB's model: a LoadBalancer
// Service without a loadBalancerClass gets the InternalIPs of the Ready nodes of the pool as its
// status.loadBalancer.ingress; the pool is the nodes labelled POOL_LABEL=true when any node is,
// else every node. kube-proxy already forwards a Service's ingress IPs at the Service's ports, so
// node IP:port reaches the endpoints (only local ones under externalTrafficPolicy Local, whose
// healthCheckNodePort tells an outside balancer which nodes have them).
import type { Obj } from '../../apiserver/strategies/types.ts';

/** Label a node `svccontroller.hawser.io/enablelb=true` to make the pool only the labelled nodes. */
export const POOL_LABEL = 'svccontroller.hawser.io/enablelb';

export interface Ingress {
  ip: string;
  ipMode: 'VIP';
}

const ready = (n: Obj) => (n.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True');
const internalIP = (n: Obj): string | undefined => (n.status?.addresses ?? []).find((a: Obj) => a.type === 'InternalIP')?.address;

/** What of a node decides the pool's ingress: a change of anything else moves nothing. */
export const poolFacts = (n: Obj): string => `${ready(n)}|${internalIP(n) ?? ''}|${n.metadata.labels?.[POOL_LABEL] ?? ''}`;

/** Is this Service ours to balance? (A Service with a loadBalancerClass belongs to that class's controller.) */
export const balancedHere = (svc: Obj): boolean => svc.spec?.type === 'LoadBalancer' && !svc.spec?.loadBalancerClass;

/** The ingress of every Service we balance: the pool's Ready nodes' InternalIPs, sorted. */
export function poolIngress(nodes: Obj[]): Ingress[] {
  const labelled = nodes.filter((n) => n.metadata.labels?.[POOL_LABEL] === 'true');
  const pool = labelled.length ? labelled : nodes.filter((n) => n.metadata.labels?.[POOL_LABEL] !== 'false');
  const ips = [
    ...new Set(
      pool
        .filter(ready)
        .map(internalIP)
        .filter((ip): ip is string => !!ip),
    ),
  ];
  return ips.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((ip) => ({ ip, ipMode: 'VIP' }));
}

/** Every node's InternalIP: what an ingress entry of ours can hold. */
export const nodeIPs = (nodes: Obj[]): Set<string> => new Set(nodes.map(internalIP).filter((ip): ip is string => !!ip));

/**
 * The status.loadBalancer a Service should have, or undefined to leave it alone: ours get the
 * pool's ingress; a Service no longer of type LoadBalancer loses what we gave it (entries that
 * are all node addresses in VIP mode), and nothing else: a status another writer put there stays,
 * as upstream's service controller touches only Services it balanced; other classes' Services are
 * never touched.
 */
export function desiredLoadBalancer(svc: Obj, ingress: Ingress[], nodes: Set<string> = new Set(ingress.map((i) => i.ip))): { ingress?: Ingress[] } | undefined {
  if (balancedHere(svc)) return ingress.length ? { ingress } : {};
  const had: Obj[] = svc.status?.loadBalancer?.ingress ?? [];
  const ours = had.length > 0 && had.every((i) => i.ipMode === 'VIP' && nodes.has(i.ip));
  if (svc.spec?.type !== 'LoadBalancer' && ours) return {};
  return undefined;
}
