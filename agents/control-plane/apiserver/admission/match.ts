// Which webhooks a request calls (pure), as upstream's rules.Matcher and the namespace and object
// matchers decide: operation, group, version, resource[/subresource] ('*', 'pods/*', '*/status',
// '*/*'), scope, then namespaceSelector (the namespace's labels; a Namespace's own on create and
// update; cluster-scoped objects always pass) and objectSelector (old or new object labels).
import { fromLabelSelector, matchLabels, type LabelSelectorObject } from '../selectors.ts';
import type { Obj } from '../strategies/types.ts';
import type { Operation, RuleWithOperations, Webhook } from './types.ts';

export interface RequestTarget {
  operation: Operation;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  /** the object's namespace; for the namespaces resource its name, as upstream's RequestInfo */
  namespace: string;
}

const has = (list: string[] | undefined, v: string) => !!list && (list.includes('*') || list.includes(v));

function resourceMatches(resources: string[] | undefined, resource: string, sub: string): boolean {
  for (const rs of resources ?? []) {
    const slash = rs.indexOf('/');
    const r = slash < 0 ? rs : rs.slice(0, slash);
    const s = slash < 0 ? '' : rs.slice(slash + 1);
    if ((r === '*' || r === resource) && (s === '*' || s === sub)) return true;
  }
  return false;
}

function scopeMatches(scope: string | undefined, t: RequestTarget): boolean {
  if (!scope || scope === '*') return true;
  const isNamespace = t.group === '' && t.resource === 'namespaces';
  if (scope === 'Namespaced') return !isNamespace && t.namespace !== '';
  if (scope === 'Cluster') return isNamespace || t.namespace === '';
  return false;
}

export function ruleMatches(r: RuleWithOperations, t: RequestTarget): boolean {
  return (
    has(r.operations, t.operation) &&
    has(r.apiGroups, t.group) &&
    has(r.apiVersions, t.version) &&
    resourceMatches(r.resources, t.resource, t.subresource) &&
    scopeMatches(r.scope, t)
  );
}

export const rulesMatch = (h: Webhook, t: RequestTarget) => (h.rules ?? []).some((r) => ruleMatches(r, t));

const isEmpty = (sel: LabelSelectorObject | undefined) => !sel || (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length);

export function selectorMatches(sel: LabelSelectorObject | undefined, labels: Record<string, string> | undefined): boolean {
  return isEmpty(sel) || matchLabels(fromLabelSelector(sel), labels ?? {});
}

/** Whether the namespace's labels are needed, and for which namespace (upstream's MatchNamespaceSelector). */
export function namespaceToCheck(h: Webhook, t: RequestTarget): string | undefined {
  if (isEmpty(h.namespaceSelector)) return undefined;
  if (t.namespace === '' && !(t.group === '' && t.resource === 'namespaces')) return undefined;
  return t.namespace;
}

export function objectSelectorMatches(h: Webhook, obj: Obj | undefined, old: Obj | undefined): boolean {
  if (isEmpty(h.objectSelector)) return true;
  const reqs = fromLabelSelector(h.objectSelector);
  return [obj, old].some((o) => !!o && matchLabels(reqs, o.metadata?.labels ?? {}));
}
