// The review APIs kubectl auth uses: SelfSubjectAccessReview ("kubectl auth can-i"),
// SelfSubjectRulesReview ("can-i --list"), SubjectAccessReview and LocalSubjectAccessReview (an
// admin asking about someone else), and authentication.k8s.io SelfSubjectReview ("auth whoami").
// Nothing is stored: each create answers with the request and its status.
import { badRequest, invalid } from '../apiserver/errors.ts';
import type { Attributes, UserInfo } from './attributes.ts';
import type { Authorizer, PolicyRule } from './authorizer.ts';
import { getOwn } from '../apiserver/safe-keys.ts';
import { ruleList } from './rules.ts';

type Body = Record<string, any>;

/** A member of a client-sent object: own members only, so nothing inherited is ever decided on. */
function member(o: unknown, k: string): unknown {
  return typeof o === 'object' && o !== null && !Array.isArray(o) ? getOwn(o as Record<string, unknown>, k) : undefined;
}
const text = (o: unknown, k: string): string => {
  const v = member(o, k);
  return typeof v === 'string' ? v : '';
};

/** Attributes to decide on from a review's spec (pure); throws 422 when the spec is unusable. */
export function reviewAttributes(kind: string, spec: Body | undefined, user: UserInfo): Attributes {
  const ra = member(spec, 'resourceAttributes');
  const nra = member(spec, 'nonResourceAttributes');
  if (!!ra === !!nra)
    throw invalid(kind, 'authorization.k8s.io', '', [
      {
        type: 'Invalid',
        field: 'spec.resourceAttributes',
        value: ra ?? null,
        detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified',
      },
    ]);
  if (nra)
    return {
      user,
      verb: text(nra, 'verb'),
      resourceRequest: false,
      path: text(nra, 'path'),
      apiGroup: '',
      resource: '',
      subresource: '',
      namespace: '',
      name: '',
    };
  return {
    user,
    verb: text(ra, 'verb'),
    resourceRequest: true,
    path: '',
    apiGroup: text(ra, 'group'),
    resource: text(ra, 'resource'),
    subresource: text(ra, 'subresource'),
    namespace: text(ra, 'namespace'),
    name: text(ra, 'name'),
  };
}

async function decide(z: Authorizer, a: Attributes): Promise<{ allowed: boolean; denied?: boolean; reason?: string }> {
  const d = await z.authorize(a);
  if (d.decision === 'allow') return { allowed: true, ...(d.reason ? { reason: d.reason } : {}) };
  const reason = d.decision === 'deny' && 'error' in d && d.error ? d.error.message : d.reason;
  return { allowed: false, ...(d.decision === 'deny' ? { denied: true } : {}), ...(reason ? { reason } : {}) };
}

function splitRules(rules: PolicyRule[]) {
  const resourceRules = [];
  const nonResourceRules = [];
  for (const r of rules) {
    const verbs = ruleList(r, 'verbs') ?? [];
    const resources = ruleList(r, 'resources');
    const names = ruleList(r, 'resourceNames');
    const urls = ruleList(r, 'nonResourceURLs');
    if (resources) resourceRules.push({ verbs, apiGroups: ruleList(r, 'apiGroups') ?? [], resources, ...(names?.length ? { resourceNames: names } : {}) });
    if (urls) nonResourceRules.push({ verbs, nonResourceURLs: urls });
  }
  return { resourceRules, nonResourceRules };
}

/** Answers a create of one of the review resources; `namespace` is the URL's (local reviews). */
export async function review(z: Authorizer, resource: string, body: Body, requester: UserInfo, namespace?: string): Promise<Body> {
  const out: Body = { ...body, metadata: { ...(body.metadata ?? {}), creationTimestamp: null } };
  switch (resource) {
    case 'selfsubjectaccessreviews':
      out.status = await decide(z, reviewAttributes('SelfSubjectAccessReview', member(body, 'spec') as Body | undefined, requester));
      return out;
    case 'subjectaccessreviews':
    case 'localsubjectaccessreviews': {
      const kind = resource === 'subjectaccessreviews' ? 'SubjectAccessReview' : 'LocalSubjectAccessReview';
      const spec = (member(body, 'spec') ?? {}) as Body;
      const listed = member(spec, 'groups');
      const groups = Array.isArray(listed) ? listed.filter((g): g is string => typeof g === 'string') : [];
      const user = text(spec, 'user');
      if (!user && !groups.length)
        throw invalid(kind, 'authorization.k8s.io', '', [
          { type: 'Invalid', field: 'spec.user', value: '', detail: 'at least one of user or group must be specified' },
        ]);
      const ns = text(member(spec, 'resourceAttributes'), 'namespace');
      if (namespace && ns !== namespace)
        throw invalid(kind, 'authorization.k8s.io', '', [
          { type: 'Invalid', field: 'spec.resourceAttributes.namespace', value: ns, detail: 'must match metadata.namespace' },
        ]);
      const uid = text(spec, 'uid');
      out.status = await decide(z, reviewAttributes(kind, spec, { name: user, groups, ...(uid ? { uid } : {}) }));
      return out;
    }
    case 'selfsubjectrulesreviews': {
      const ns = text(member(body, 'spec'), 'namespace');
      const rs = z.rulesFor?.(requester, ns) ?? { rules: [], incomplete: true };
      out.status = { ...splitRules(rs.rules), incomplete: rs.incomplete };
      return out;
    }
    case 'selfsubjectreviews':
      out.status = {
        userInfo: {
          username: requester.name,
          ...(requester.uid ? { uid: requester.uid } : {}),
          groups: requester.groups,
          ...(requester.extra ? { extra: requester.extra } : {}),
        },
      };
      return out;
  }
  throw badRequest(`no review resource ${resource}`);
}
