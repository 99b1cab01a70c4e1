// Authorization as upstream composes it: a chain of authorizers, each allowing, denying or having
// no opinion; the first decision wins and a request nobody allows is refused with a 403 whose
// message says who could not do what, where, and why.
import { ApiError, qualified } from '../apiserver/errors.ts';
import type { Attributes, UserInfo } from './attributes.ts';

/** A narrower view an authorizer grants instead of the whole collection (see node-view.ts). */
export interface View {
  /** objects of the collection this requester may see */
  visible(obj: { metadata: { namespace?: string; name?: string } }): boolean;
  /** keys (namespace/name) that became visible or invisible since; for watches */
  changes?(signal?: AbortSignal): AsyncIterable<{ namespace: string; name: string; visible: boolean }>;
}

export type Decision = { decision: 'allow'; reason?: string; view?: View } | { decision: 'deny' | 'noOpinion'; reason?: string; error?: ApiError };

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** What a user may do in a namespace, as SelfSubjectRulesReview reports it. */
export interface RuleSet {
  rules: PolicyRule[];
  /** true when some permissions depend on objects (the Node authorizer's graph) */
  incomplete: boolean;
}

export interface Authorizer {
  authorize(a: Attributes): Decision | Promise<Decision>;
  rulesFor?(user: UserInfo, namespace: string): RuleSet | undefined;
}

export const ALLOW: Decision = { decision: 'allow' };
export const NO_OPINION: Decision = { decision: 'noOpinion' };

export class UnionAuthorizer implements Authorizer {
  constructor(private readonly chain: Authorizer[]) {}

  async authorize(a: Attributes): Promise<Decision> {
    const reasons: string[] = [];
    for (const z of this.chain) {
      const d = await z.authorize(a);
      if (d.decision === 'allow' || d.decision === 'deny')
        return d.decision === 'deny' && reasons.length ? { ...d, reason: [...reasons, d.reason].filter(Boolean).join(', ') } : d;
      if (d.reason) reasons.push(d.reason);
    }
    return { decision: 'noOpinion', reason: reasons.join(', ') };
  }

  rulesFor(user: UserInfo, namespace: string): RuleSet {
    const out: RuleSet = { rules: [], incomplete: false };
    for (const z of this.chain) {
      const r = z.rulesFor?.(user, namespace);
      if (!r) continue;
      out.rules.push(...r.rules);
      out.incomplete ||= r.incomplete;
    }
    return out;
  }
}

/** "User "u" cannot get resource "pods" in API group "" in the namespace "default"" */
export function forbiddenMessage(a: Attributes): string {
  if (!a.resourceRequest) return `User ${JSON.stringify(a.user.name)} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  return `User ${JSON.stringify(a.user.name)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} ${where}`;
}

/** The 403 Status upstream answers an unauthorized request with. */
export function forbiddenError(a: Attributes, reason?: string): ApiError {
  const why = forbiddenMessage(a) + (reason ? `: ${reason}` : '');
  return forbiddenFor(a, why);
}

/** A 403 about this request's object with the given explanation (also used by admission). */
export function forbiddenFor(a: Attributes, why: string): ApiError {
  if (!a.resourceRequest) return new ApiError(403, 'Forbidden', `forbidden: ${why}`, {});
  const gr = { group: a.apiGroup, plural: a.resource };
  const message = a.name ? `${qualified(gr)} ${JSON.stringify(a.name)} is forbidden: ${why}` : `${qualified(gr)} is forbidden: ${why}`;
  return new ApiError(403, 'Forbidden', message, { name: a.name || undefined, group: a.apiGroup || undefined, kind: a.resource });
}
