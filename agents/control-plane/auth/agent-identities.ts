// Who hawser's node agents and cluster DNS are towards the API server, so that each holds only the
// rights it uses (least privilege, as upstream's kube-proxy and flannel): kube-proxy is
// system:kube-proxy (bound to system:node-proxier), podnet is system:podnet:<node> in group
// system:podnets (nodes read, patch of its own Node's annotations only), the DNS server is
// system:hawser-dns (bound to system:coredns). None of them is a node: the Node authorizer grants
// them nothing. podnetWriteAdmission is podnet's half of NodeRestriction.
import type { ApiError } from '../apiserver/errors.ts';
import { canon } from '../apiserver/validation/pod.ts';
import type { Attributes, UserInfo } from './attributes.ts';
import { forbiddenFor } from './authorizer.ts';

export const KUBE_PROXY_USER = 'system:kube-proxy';
export const PODNET_GROUP = 'system:podnets';
export const PODNET_USER_PREFIX = 'system:podnet:';
export const DNS_USER = 'system:hawser-dns';
/** the built-in ingress controller on every node (agents/ingress), one user cluster-wide as kube-proxy */
export const INGRESS_USER = 'system:hawser-ingress';

/** The agent components that get their own client certificate on each node. */
export type AgentComponent = 'kubelet' | 'kube-proxy' | 'podnet' | 'ingress';
export const AGENT_COMPONENTS: AgentComponent[] = ['kubelet', 'kube-proxy', 'podnet', 'ingress'];

/** The certificate subject (CN, O) of a component on a node. */
export function agentSubject(component: AgentComponent, node: string): { user: string; groups: string[] } {
  switch (component) {
    case 'kubelet':
      return { user: `system:node:${node}`, groups: ['system:nodes'] };
    case 'kube-proxy':
      return { user: KUBE_PROXY_USER, groups: [] };
    case 'podnet':
      return { user: `${PODNET_USER_PREFIX}${node}`, groups: [PODNET_GROUP] };
    case 'ingress':
      return { user: INGRESS_USER, groups: [] };
  }
}

/** The node a user is the podnet of, if it is one. */
export function podnetNodeOf(u: UserInfo): string | undefined {
  if (!u.groups.includes(PODNET_GROUP) || !u.name.startsWith(PODNET_USER_PREFIX)) return undefined;
  return u.name.slice(PODNET_USER_PREFIX.length) || undefined;
}

interface NodeObject {
  metadata?: Record<string, unknown>;
  spec?: unknown;
  status?: unknown;
}

/** What a node write may change for podnet: its metadata minus annotations and bookkeeping must stay. */
function withoutAnnotations(o: NodeObject): unknown {
  const { annotations: _a, resourceVersion: _rv, managedFields: _mf, generation: _g, ...meta } = o.metadata ?? {};
  return canon({ metadata: meta, spec: o.spec ?? {}, status: o.status ?? {} });
}

/** podnet may write only its own Node, and only that Node's annotations (the VXLAN VTEP MAC). */
export function podnetWriteAdmission(a: Attributes, next: NodeObject, cur: NodeObject | undefined): ApiError | undefined {
  const node = podnetNodeOf(a.user);
  if (!node || a.apiGroup !== '' || a.resource !== 'nodes') return undefined;
  const name = String(next.metadata?.name ?? a.name ?? '');
  if (!cur || name !== node) return forbiddenFor(a, `podnet of node "${node}" is not allowed to modify node "${name}"`);
  if (JSON.stringify(withoutAnnotations(next)) !== JSON.stringify(withoutAnnotations(cur)))
    return forbiddenFor(a, `podnet of node "${node}" may only modify the annotations of its node`);
  return undefined;
}
