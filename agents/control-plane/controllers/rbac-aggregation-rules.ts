// ClusterRole aggregation, pure (upstream's clusterroleaggregation controller): a ClusterRole with
// aggregationRule.clusterRoleSelectors holds the rules of every other ClusterRole one of its
// selectors matches, in name order, without duplicates.
import type { PolicyRule } from '../auth/authorizer.ts';
import type { Obj } from '../apiserver/strategies/types.ts';
import { selectorMatcher } from './workloads/meta.ts';

/** The rules `target` should hold, or undefined when it does not aggregate. */
export function aggregatedRules(target: Obj, clusterRoles: Iterable<Obj>): PolicyRule[] | undefined {
  const selectors: unknown = target.aggregationRule?.clusterRoleSelectors;
  if (!Array.isArray(selectors) || !selectors.length) return undefined;
  const matchers = selectors.map((s) => selectorMatcher(s));
  const sources = [...clusterRoles]
    .filter((o) => o.metadata.name !== target.metadata.name && matchers.some((m) => m(o.metadata.labels)))
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '', 'en'));
  const out: PolicyRule[] = [];
  const seen = new Set<string>();
  for (const o of sources)
    for (const rule of Array.isArray(o.rules) ? (o.rules as PolicyRule[]) : []) {
      const key = JSON.stringify(rule);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(rule);
    }
  return out;
}

/** Whether the stored rules already equal the aggregated ones. */
export function sameRules(a: unknown, b: PolicyRule[]): boolean {
  return JSON.stringify(Array.isArray(a) ? a : []) === JSON.stringify(b);
}
