// ValidatingAdmissionPolicies in the write path, as upstream's ValidatingAdmissionPolicy plugin
// (run after validation, before the validating webhooks): for each binding whose policy exists,
// the policy's matchConstraints and the binding's matchResources (rules minus excludes, resource
// names, namespace and object selectors), then its matchConditions, variables (in order, as
// `variables.<name>`) and validations over object, oldObject, request, params and namespaceObject.
// A false validation (or an error under failurePolicy Fail) is a failure the binding's
// validationActions route: Deny refuses the request ("ValidatingAdmissionPolicy 'p' with binding
// 'b' denied request: ..." with the validation's reason and code), Warn adds a Warning header,
// Audit has no audit log here to go to. A policy with paramKind runs once per param its binding's
// paramRef names or selects (`params`, resolved beforehand by the dispatcher, see PolicyParams);
// none found is parameterNotFoundAction (Allow: skipped; Deny: a configuration error), and
// configuration errors follow failurePolicy as `failed to configure binding: ...`. Not done: the
// authorizer variable.
import { type CelInput, type CelValue, isCelError } from '@bufbuild/cel';
import { compile, type Compiled } from '../cel/compile.ts';
import { COST_EXCEEDED, costBound, PER_CALL_LIMIT } from '../cel/cost.ts';
import { measure, type Size, toCel } from '../cel/value.ts';
import { ApiError, qualified } from '../errors.ts';
import { fromLabelSelector, matchLabels, type LabelSelectorObject } from '../selectors.ts';
import type { Obj } from '../strategies/types.ts';
import { inVersion, type MatchedAs, matchTarget } from './equivalent.ts';
import { evaluateConditions } from './match-conditions.ts';
import { type RequestTarget, ruleMatches } from './match.ts';
import type { MatchResources, NamedRule, ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding } from './policy-types.ts';

export const POLICY_VARS = ['object', 'oldObject', 'request', 'params', 'namespaceObject', 'variables'];

export interface PolicyBinding {
  policy: ValidatingAdmissionPolicy;
  binding: ValidatingAdmissionPolicyBinding;
}

/** A binding's params: the objects to evaluate with, or why they could not be had (a configuration error). */
export type PolicyParams = { params: Obj[] } | { error: string };

export interface PolicyRequest {
  target: RequestTarget;
  name: string;
  object: Obj | undefined;
  oldObject: Obj | undefined;
  /** the AdmissionRequest, as webhooks would receive it */
  request: unknown;
  /** the request's Namespace (undefined for cluster-scoped requests) */
  namespaceObject: Obj | undefined;
}

const CODES: Record<string, number> = { Unauthorized: 401, Forbidden: 403, Invalid: 422, RequestEntityTooLarge: 413 };

const isEmpty = (sel: LabelSelectorObject | undefined) => !sel || (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length);

function named(rules: NamedRule[] | undefined, t: RequestTarget, name: string): boolean {
  return (rules ?? []).some((r) => ruleMatches(r, t) && (!r.resourceNames?.length || r.resourceNames.includes(name)));
}

/**
 * upstream's matching.Matcher over one MatchResources (rules absent on a binding: everything),
 * rules and excludes under its matchPolicy: undefined when it does not match, else the version it
 * matched the request as (equivalent.ts).
 */
function matches(m: MatchResources | undefined, r: PolicyRequest, rulesRequired: boolean): { matchedAs?: MatchedAs } | undefined {
  if (!m) return rulesRequired ? undefined : {};
  const by = (rules: NamedRule[] | undefined) => matchTarget((t) => named(rules, t, r.name), r.target, m.matchPolicy);
  const hit = rulesRequired || m.resourceRules?.length ? by(m.resourceRules) : {};
  if (!hit || by(m.excludeResourceRules)) return undefined;
  if (!isEmpty(m.namespaceSelector) && r.namespaceObject && !matchLabels(fromLabelSelector(m.namespaceSelector), r.namespaceObject.metadata.labels ?? {}))
    return undefined;
  if (!isEmpty(m.objectSelector)) {
    const reqs = fromLabelSelector(m.objectSelector);
    if (![r.object, r.oldObject].some((o) => !!o && matchLabels(reqs, o.metadata?.labels ?? {}))) return undefined;
  }
  return hit;
}

/** The request as a policy that matched it as another version sees it: objects converted, request kind/resource that version's. */
function asVersion(r: PolicyRequest, as: MatchedAs | undefined): PolicyRequest {
  if (!as) return r;
  const { group, resource } = r.target;
  const request =
    typeof r.request === 'object' && r.request !== null
      ? { ...r.request, kind: { group, version: as.version, kind: as.kind }, resource: { group, version: as.version, resource } }
      : r.request;
  return {
    ...r,
    target: { ...r.target, version: as.version },
    object: inVersion(r.object, group, resource, as.version),
    oldObject: inVersion(r.oldObject, group, resource, as.version),
    request,
  };
}

const programs = new WeakMap<object, CompiledOrError>();
type CompiledOrError = Compiled | string;

function program(holder: object, source: string): CompiledOrError {
  let p = programs.get(holder);
  if (!p) {
    const r = compile(source, POLICY_VARS);
    p = r.ok ? r.compiled : r.error;
    programs.set(holder, p);
  }
  return p;
}

function run(p: CompiledOrError, vars: Record<string, CelInput>, size: Size): CelValue | { error: string } {
  if (typeof p === 'string') return { error: p };
  if (costBound(p, size) > PER_CALL_LIMIT) return { error: `expression '${p.source}' resulted in error: ${COST_EXCEEDED}` };
  const v = p.run(vars);
  return isCelError(v) ? { error: `expression '${p.source}' resulted in error: ${v.message}` } : v;
}

interface Failure {
  message: string;
  reason: string;
}

/** The failures of one policy under one binding (empty: admitted). */
function evaluate(pb: PolicyBinding, r: PolicyRequest, params: PolicyParams | undefined): Failure[] {
  const spec = pb.policy.spec ?? {};
  if (!spec.paramKind) return evaluateWith(pb, r, null);
  const fail = spec.failurePolicy !== 'Ignore';
  const p = params ?? { error: `paramKind kind \`${spec.paramKind.kind}\` is set but paramRef is not set in binding` };
  if ('error' in p) return fail ? [{ message: `failed to configure binding: ${p.error}`, reason: 'Invalid' }] : [];
  return p.params.flatMap((x) => evaluateWith(pb, r, x));
}

/** The failures of one policy under one binding with one param (null without paramKind). */
function evaluateWith(pb: PolicyBinding, r: PolicyRequest, param: Obj | null): Failure[] {
  const spec = pb.policy.spec ?? {};
  const fail = spec.failurePolicy !== 'Ignore';
  const size = measure({ object: r.object, oldObject: r.oldObject, request: r.request, params: param });
  const variables = new Map<string, CelInput>();
  const vars: Record<string, CelInput> = {
    object: toCel(r.object ?? null, undefined),
    oldObject: toCel(r.oldObject ?? null, undefined),
    request: toCel(r.request, undefined),
    params: toCel(param, undefined),
    namespaceObject: toCel(r.namespaceObject ?? null, undefined),
    variables,
  };
  const m = evaluateConditions(spec.matchConditions, spec.failurePolicy, vars, POLICY_VARS, size);
  if (m.error !== undefined) return [{ message: m.error, reason: 'Invalid' }];
  if (!m.call) return [];
  for (const v of spec.variables ?? []) {
    const x = run(program(v, v.expression ?? ''), vars, size);
    // an erroring variable fails only the expressions that read it; absent, they fail to resolve it
    if (!(typeof x === 'object' && x !== null && 'error' in x)) variables.set(v.name ?? '', x as CelInput);
  }
  const out: Failure[] = [];
  for (const v of spec.validations ?? []) {
    const x = run(program(v, v.expression ?? ''), vars, size);
    if (x === true) continue;
    if (typeof x === 'object' && x !== null && 'error' in x) {
      if (fail) out.push({ message: x.error, reason: 'Invalid' });
      continue;
    }
    let message = v.message?.trim() || `failed expression: ${(v.expression ?? '').trim()}`;
    if (v.messageExpression) {
      const me = run(program({ messageExpression: v }, v.messageExpression), vars, size);
      if (typeof me === 'string' && me.trim() && !me.includes('\n')) message = me.trim();
    }
    out.push({ message, reason: v.reason ?? 'Invalid' });
  }
  return out;
}

/** Runs every bound policy; throws the first Deny, returns the Warn warnings. */
export function admitPolicies(
  pairs: PolicyBinding[],
  r: PolicyRequest,
  gr: { group: string; plural: string },
  params: Map<PolicyBinding, PolicyParams> = new Map(),
): string[] {
  const warnings: string[] = [];
  for (const pb of pairs) {
    const m = matches(pb.policy.spec?.matchConstraints, r, true);
    if (!m || !matches(pb.binding.spec?.matchResources, r, false)) continue;
    const failures = evaluate(pb, asVersion(r, m.matchedAs), params.get(pb));
    if (!failures.length) continue;
    const actions = pb.binding.spec?.validationActions ?? [];
    const p = pb.policy.metadata.name;
    const b = pb.binding.metadata.name;
    if (actions.includes('Warn'))
      for (const f of failures) warnings.push(`Validation failed for ValidatingAdmissionPolicy '${p}' with binding '${b}': ${f.message}`);
    if (actions.includes('Deny')) {
      const f = failures[0];
      const message = `ValidatingAdmissionPolicy '${p}' with binding '${b}' denied request: ${f.message}`;
      throw new ApiError(CODES[f.reason] ?? 422, f.reason, `${qualified(gr)} "${r.name}" is forbidden: ${message}`, {
        name: r.name,
        group: gr.group || undefined,
        kind: gr.plural,
        causes: [{ message }],
      });
    }
  }
  return warnings;
}
