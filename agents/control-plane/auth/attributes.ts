// What an authorizer decides on: who, which verb, and which resource or path, derived from the
// request as upstream's RequestInfoFactory does (pure).
import { parseResourcePath } from '../apiserver/request.ts';
import { parseFieldSelector, SelectorError } from '../apiserver/selectors.ts';

export interface UserInfo {
  name: string;
  groups: string[];
  uid?: string;
  /** upstream's user.Info extra (a service-account token's pod, node and credential id) */
  extra?: Record<string, string[]>;
}

export interface Attributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  /** the URL path (non-resource requests are decided on it) */
  path: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /** for list/watch: the spec.nodeName a field selector pins (what a kubelet's pod watch sends) */
  nodeNameSelector?: string;
}

/** The single value a field selector requires of a field ("f=v" or "f==v"), if any. */
export function selectedValue(fieldSelector: string | null, field: string): string | undefined {
  if (!fieldSelector) return undefined;
  try {
    const hit = parseFieldSelector(fieldSelector).find((r) => r.field === field && r.op === '=');
    return hit?.value;
  } catch (e) {
    if (e instanceof SelectorError) return undefined;
    throw e;
  }
}

export function attributesFor(method: string, path: string, query: URLSearchParams, user: UserInfo): Attributes {
  const rr = parseResourcePath(method, path, query);
  if (!rr) {
    const verb = method === 'HEAD' ? 'get' : method.toLowerCase();
    return { user, verb, resourceRequest: false, path, apiGroup: '', resource: '', subresource: '', namespace: '', name: '' };
  }
  let name = rr.name ?? '';
  let nodeNameSelector: string | undefined;
  if (rr.verb === 'list' || rr.verb === 'watch') {
    // a list or watch of one object by name is authorized as that object, as upstream does
    name ||= selectedValue(query.get('fieldSelector'), 'metadata.name') ?? '';
    nodeNameSelector = selectedValue(query.get('fieldSelector'), 'spec.nodeName');
  }
  return {
    user,
    verb: rr.verb,
    resourceRequest: true,
    path,
    apiGroup: rr.group,
    resource: rr.resource,
    subresource: rr.subresource ?? '',
    namespace: rr.namespace ?? '',
    name,
    nodeNameSelector,
  };
}
