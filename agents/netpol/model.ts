// What the NetworkPolicy planner reads, cut down from the API objects to the facts it needs: a
// pod's namespace, labels, IP, node and named container ports; a namespace's labels; a policy's
// spec. Converting here keeps plan.ts pure and lets the bench feed it without real objects.
import type { V1LabelSelector, V1Namespace, V1Pod } from '@kubernetes/client-node';
import { isIPv4 } from 'node:net';

export interface NpPort {
  name: string;
  port: number;
  protocol: string;
}

export interface NpPod {
  namespace: string;
  name: string;
  ip: string;
  node: string;
  labels: Record<string, string>;
  ports: NpPort[];
}

export interface NpNamespace {
  name: string;
  labels: Record<string, string>;
}

/** networking.k8s.io/v1 NetworkPolicySpec as it comes over the wire (the generated model renames `from`). */
export interface NpPeer {
  podSelector?: V1LabelSelector;
  namespaceSelector?: V1LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
export interface NpRulePort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
export interface NpSpec {
  podSelector?: V1LabelSelector;
  ingress?: { from?: NpPeer[]; ports?: NpRulePort[] }[];
  egress?: { to?: NpPeer[]; ports?: NpRulePort[] }[];
  policyTypes?: string[];
}
export interface NetworkPolicyObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string };
  spec?: NpSpec;
}

export interface NpPolicy {
  namespace: string;
  name: string;
  spec: NpSpec;
}

/** A pod that policies can select or name as a peer: running with an IPv4 address of the pod network. */
export function npPod(p: V1Pod): NpPod | undefined {
  const ip = p.status?.podIP;
  if (!ip || !isIPv4(ip) || p.spec?.hostNetwork || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') return undefined;
  const ports: NpPort[] = [];
  for (const c of p.spec?.containers ?? []) {
    for (const cp of c.ports ?? []) if (cp.name) ports.push({ name: cp.name, port: cp.containerPort, protocol: cp.protocol ?? 'TCP' });
  }
  return {
    namespace: p.metadata?.namespace ?? 'default',
    name: p.metadata?.name ?? '',
    ip,
    node: p.spec?.nodeName ?? '',
    labels: p.metadata?.labels ?? {},
    ports,
  };
}

/**
 * Whether a pod event can change the plan: the plan reads pods only through npPod, so an update that
 * leaves that view as it was (most status writes: conditions, container states) needs no sync, nor
 * does a pod added or deleted before it had an address. `old` absent: an add or a delete.
 */
export function podEventMatters(p: V1Pod, old?: V1Pod): boolean {
  const now = npPod(p);
  if (!old) return now !== undefined;
  return JSON.stringify(now) !== JSON.stringify(npPod(old));
}

export const npNamespace = (n: V1Namespace): NpNamespace => ({ name: n.metadata?.name ?? '', labels: n.metadata?.labels ?? {} });

export const npPolicy = (p: NetworkPolicyObject): NpPolicy => ({
  namespace: p.metadata?.namespace ?? 'default',
  name: p.metadata?.name ?? '',
  spec: p.spec ?? { podSelector: {} },
});
