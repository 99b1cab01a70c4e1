// The review APIs kubectl auth uses: SelfSubjectAccessReview ("kubectl auth can-i"),
// SelfSubjectRulesReview ("can-i --list"), SubjectAccessReview and LocalSubjectAccessReview (an
// admin asking about someone else), and authentication.k8s.io SelfSubjectReview ("auth whoami").
// Nothing is stored: each create answers with the request and its status.
import { badRequest, invalid } from '../apiserver/errors.ts';
import type { Attributes, UserInfo } from './attributes.ts';
import type { Authorizer, PolicyRule } from './authorizer.ts';

type Body = Record<string, any>;

interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

/** Attributes to decide on from a review's spec (pure); throws 422 when the spec is unusable. */
export function reviewAttributes(kind: string, spec: Body | undefined, user: UserInfo): Attributes {
  const ra: ResourceAttributes | undefined = spec?.resourceAttributes;
  const nra: { path?: string; verb?: string } | undefined = spec?.nonResourceAttributes;
  if (!!ra === !!nra)
    throw invalid(kind, 'authorization.k8s.io', '', [{ type: 'Invalid', field: 'spec.resourceAttributes', value: ra ?? null, detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified' }]);
  if (nra) return { user, verb: nra.verb ?? '', resourceRequest: false, path: nra.path ?? '', apiGroup: '', resource: '', subresource: '', namespace: '', name: '' };
  return {
    user,
    verb: ra!.verb ?? '',
    resourceRequest: true,
    path: '',
    apiGroup: ra!.group ?? '',
    resource: ra!.resource ?? '',
    subresource: ra!.subresource ?? '',
    namespace: ra!.namespace ?? '',
    name: ra!.name ?? '',
  };
}

async function decide(z: Authorizer, a: Attributes): Promise<{ allowed: boolean; denied?: boolean; reason?: string }> {
  const d = await z.authorize(a);
  if (d.decision === 'allow') return { allowed: true, ...(d.reason ? { reason: d.reason } : {}) };
  const reason = d.decision === 'deny' && 'error' in d && d.error ? d.error.message : d.reason;
  return { allowed: false, ...(d.decision === 'deny' ? { denied: true } : {}), ...(reason ? { reason } : {}) };
}

function splitRules(rules: PolicyRule[]) {
  return {
    resourceRules: rules.filter((r) => r.resources).map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources, ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) })),
    nonResourceRules: rules.filter((r) => r.nonResourceURLs).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
  };
}

/** Answers a create of one of the review resources; `namespace` is the URL's (local reviews). */
export async function review(z: Authorizer, resource: string, body: Body, requester: UserInfo, namespace?: string): Promise<Body> {
  const out: Body = { ...body, metadata: { ...(body.metadata ?? {}), creationTimestamp: null } };
  switch (resource) {
    case 'selfsubjectaccessreviews':
      out.status = await decide(z, reviewAttributes('SelfSubjectAccessReview', body.spec, requester));
      return out;
    case 'subjectaccessreviews':
    case 'localsubjectaccessreviews': {
      const kind = resource === 'subjectaccessreviews' ? 'SubjectAccessReview' : 'LocalSubjectAccessReview';
      const spec = body.spec ?? {};
      if (!spec.user && !(spec.groups ?? []).length)
        throw invalid(kind, 'authorization.k8s.io', '', [{ type: 'Invalid', field: 'spec.user', value: '', detail: 'at least one of user or group must be specified' }]);
      if (namespace && spec.resourceAttributes?.namespace !== namespace)
        throw invalid(kind, 'authorization.k8s.io', '', [{ type: 'Invalid', field: 'spec.resourceAttributes.namespace', value: spec.resourceAttributes?.namespace ?? '', detail: 'must match metadata.namespace' }]);
      out.status = await decide(z, reviewAttributes(kind, spec, { name: spec.user ?? '', groups: spec.groups ?? [], uid: spec.uid }));
      return out;
    }
    case 'selfsubjectrulesreviews': {
      const ns = body.spec?.namespace ?? '';
      const rs = z.rulesFor?.(requester, ns) ?? { rules: [], incomplete: true };
      out.status = { ...splitRules(rs.rules), incomplete: rs.incomplete };
      return out;
    }
    case 'selfsubjectreviews':
      out.status = { userInfo: { username: requester.name, ...(requester.uid ? { uid: requester.uid } : {}), groups: requester.groups } };
      return out;
  }
  throw badRequest(`no review resource ${resource}`);
}
