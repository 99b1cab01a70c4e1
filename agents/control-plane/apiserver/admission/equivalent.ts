// matchPolicy Equivalent (pure), as upstream's webhook and policy matchers with the
// EquivalentResourceMapper: a rule that does not name the request's group/version/resource still
// matches when it names another version the same resource is served under, and the webhook or
// policy then sees the object converted to that version (AdmissionReview kind/resource the
// matched one, requestKind/requestResource the request's). matchPolicy Exact matches only the
// request's own. The built-ins hawser serves under two versions are autoscaling/v1 and v2
// HorizontalPodAutoscalers (one storage, strategies/autoscaling-convert.ts); apps/v1 resources have
// no other served version here (no extensions/v1beta1 or apps/v1beta2), and custom resources'
// other versions are not considered.
import { RESOURCES } from '../registry.ts';
import { hpaV1ToV2, hpaV2ToV1 } from '../strategies/autoscaling-convert.ts';
import type { Obj } from '../strategies/types.ts';
import type { RequestTarget } from './match.ts';

/** The version and kind a hook or policy matched, when not the request's own. */
export interface MatchedAs {
  version: string;
  kind: string;
}

/** The request's target as each other served version of its resource (empty for most resources). */
function equivalents(t: RequestTarget): (RequestTarget & { kind: string })[] {
  return RESOURCES.filter((r) => r.group === t.group && r.plural === t.resource && r.version !== t.version).map((r) => ({
    ...t,
    version: r.version,
    kind: r.kind,
  }));
}

/**
 * Which target a rule set matches: the request's own (matchedAs undefined), else under Equivalent
 * the first other version it names; undefined when it matches neither.
 */
export function matchTarget(matches: (t: RequestTarget) => boolean, t: RequestTarget, matchPolicy: string | undefined): { matchedAs?: MatchedAs } | undefined {
  if (matches(t)) return {};
  if (matchPolicy === 'Exact') return undefined;
  const e = equivalents(t).find(matches);
  return e && { matchedAs: { version: e.version, kind: e.kind } };
}

/** A copy of obj as the given version of its resource serves it (undefined stays undefined). */
export function inVersion(obj: Obj | undefined, group: string, resource: string, version: string): Obj | undefined {
  if (!obj) return undefined;
  const out = structuredClone(obj);
  if (group === 'autoscaling' && resource === 'horizontalpodautoscalers') {
    if (version === 'v1') hpaV2ToV1(out);
    else hpaV1ToV2(out);
    return out;
  }
  out.apiVersion = group ? `${group}/${version}` : version;
  return out;
}
