// RBAC escalation prevention (upstream's rbac registry policybased storage): a Role or ClusterRole
// may only grant what its author holds, unless the author may `escalate` roles; a binding needs the
// `bind` verb on the role it references or every permission of that role. system:masters is exempt.
import type { ApiError } from '../apiserver/errors.ts';
import { getOwn } from '../apiserver/safe-keys.ts';
import type { Attributes } from './attributes.ts';
import { type Authorizer, forbiddenFor, type PolicyRule } from './authorizer.ts';
import { escalationMessage, type RbacSnapshot, uncovered } from './rbac-rules.ts';

const RBAC = 'rbac.authorization.k8s.io';
type Body = Record<string, unknown>;

const text = (o: unknown, k: string): string => {
  const v = typeof o === 'object' && o !== null ? getOwn(o as Body, k) : undefined;
  return typeof v === 'string' ? v : '';
};

function rulesOf(body: Body): PolicyRule[] {
  const rules = getOwn(body, 'rules');
  return (Array.isArray(rules) ? rules : []).map((r) => {
    const o = (typeof r === 'object' && r !== null ? r : {}) as Body;
    const list = (k: string) => {
      const v = getOwn(o, k);
      return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
    };
    const out: PolicyRule = { verbs: list('verbs') ?? [] };
    for (const k of ['apiGroups', 'resources', 'resourceNames', 'nonResourceURLs'] as const) {
      const v = list(k);
      if (v) out[k] = v;
    }
    return out;
  });
}

async function allowed(z: Authorizer, a: Attributes): Promise<boolean> {
  return (await z.authorize(a)).decision === 'allow';
}

/** The refusal of a write of a Role, ClusterRole or binding that would escalate, if any. */
export async function rbacAdmission(z: Authorizer, snap: RbacSnapshot, a: Attributes, body: Body): Promise<ApiError | undefined> {
  if (a.apiGroup !== RBAC || a.subresource || !['create', 'update', 'patch'].includes(a.verb)) return undefined;
  if (a.user.groups.includes('system:masters')) return undefined;
  const name = text(getOwn(body, 'metadata'), 'name') || a.name;
  const named: Attributes = { ...a, name };
  const ns = a.namespace;
  switch (a.resource) {
    case 'roles':
    case 'clusterroles': {
      if (await allowed(z, { ...named, verb: 'escalate' })) return undefined;
      if (getOwn(body, 'aggregationRule') !== undefined && a.resource === 'clusterroles')
        return forbiddenFor(named, 'must have cluster-admin privileges to use the aggregationRule');
      const missing = uncovered(z.rulesFor?.(a.user, ns)?.rules ?? [], rulesOf(body));
      return missing.length ? forbiddenFor(named, escalationMessage(a.user, missing)) : undefined;
    }
    case 'rolebindings':
    case 'clusterrolebindings': {
      const ref = getOwn(body, 'roleRef');
      const kind = text(ref, 'kind');
      const refName = text(ref, 'name');
      const resource = kind === 'Role' ? 'roles' : 'clusterroles';
      const bind: Attributes = {
        user: a.user,
        verb: 'bind',
        resourceRequest: true,
        path: a.path,
        apiGroup: RBAC,
        resource,
        subresource: '',
        namespace: ns,
        name: refName,
      };
      if (await allowed(z, bind)) return undefined;
      const rules = snap.role(kind === 'Role' ? ns : '', refName);
      if (!rules) return forbiddenFor(named, `${kind.toLowerCase()}.${RBAC} ${JSON.stringify(refName)} not found`);
      const missing = uncovered(z.rulesFor?.(a.user, ns)?.rules ?? [], rules);
      return missing.length ? forbiddenFor(named, escalationMessage(a.user, missing)) : undefined;
    }
  }
  return undefined;
}
