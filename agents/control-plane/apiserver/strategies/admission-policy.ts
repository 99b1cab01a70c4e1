// admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding:
// upstream's v1 defaulting (failurePolicy Fail, matchPolicy Equivalent, empty selectors, rule scope
// '*') and validation with its paths and wording; every CEL expression (validations, messageExpression,
// matchConditions, variables) is compiled at write time, a failure a 422 at its expression.
import { POLICY_VARS } from '../admission/policy.ts';
import type { MatchResources, ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding } from '../admission/policy-types.ts';
import { validateMatchConditions } from '../admission/match-conditions.ts';
import { compile } from '../cel/compile.ts';
import { AGE_COLUMN, NAME_COLUMN, age } from '../tables/table.ts';
import { type FieldError, duplicate, invalid, notSupported, required } from '../validation/field.ts';
import { qualifiedName } from '../validation/names.ts';
import { validateRule, validateSelector } from './admissionregistration.ts';
import type { Obj, Strategy } from './types.ts';

const FAILURE_POLICIES = ['Fail', 'Ignore'];
const REASONS = ['Unauthorized', 'Forbidden', 'Invalid', 'RequestEntityTooLarge'];
const ACTIONS = ['Audit', 'Deny', 'Warn'];

function expression(source: string | undefined, path: string, vars: readonly string[]): FieldError[] {
  if (!source) return [required(path, '')];
  const r = compile(source, vars);
  return r.ok ? [] : [invalid(path, source, `compilation failed: ${r.error}`)];
}

function validateMatch(m: MatchResources | undefined, path: string, requireRules: boolean): FieldError[] {
  if (!m) return requireRules ? [required(path, '')] : [];
  const errs = [...validateSelector(m.namespaceSelector, `${path}.namespaceSelector`), ...validateSelector(m.objectSelector, `${path}.objectSelector`)];
  if (requireRules && !m.resourceRules?.length) errs.push(required(`${path}.resourceRules`, ''));
  (m.resourceRules ?? []).forEach((r, i) => errs.push(...validateRule(r, `${path}.resourceRules[${i}]`)));
  (m.excludeResourceRules ?? []).forEach((r, i) => errs.push(...validateRule(r, `${path}.excludeResourceRules[${i}]`)));
  if (m.matchPolicy !== undefined && !['Exact', 'Equivalent'].includes(m.matchPolicy))
    errs.push(notSupported(`${path}.matchPolicy`, m.matchPolicy, ['Equivalent', 'Exact']));
  return errs;
}

function validatePolicy(o: Obj): FieldError[] {
  const spec = (o as unknown as ValidatingAdmissionPolicy).spec ?? {};
  const errs: FieldError[] = [];
  if (spec.failurePolicy !== undefined && !FAILURE_POLICIES.includes(spec.failurePolicy))
    errs.push(notSupported('spec.failurePolicy', spec.failurePolicy, FAILURE_POLICIES));
  if (spec.paramKind) {
    if (!spec.paramKind.apiVersion) errs.push(required('spec.paramKind.apiVersion', ''));
    if (!spec.paramKind.kind) errs.push(required('spec.paramKind.kind', ''));
  }
  errs.push(...validateMatch(spec.matchConstraints, 'spec.matchConstraints', true));
  if (!spec.validations?.length && !spec.auditAnnotations?.length)
    errs.push(required('spec.validations', 'validations or auditAnnotations must contain at least one item'));
  const names = new Set<string>();
  (spec.variables ?? []).forEach((v, i) => {
    const p = `spec.variables[${i}]`;
    if (!v.name) errs.push(required(`${p}.name`, ''));
    else if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.name)) errs.push(invalid(`${p}.name`, v.name, 'name is not a valid CEL identifier'));
    else if (names.has(v.name)) errs.push(duplicate(`${p}.name`, v.name));
    if (v.name) names.add(v.name);
    errs.push(...expression(v.expression, `${p}.expression`, POLICY_VARS));
  });
  (spec.validations ?? []).forEach((v, i) => {
    const p = `spec.validations[${i}]`;
    errs.push(...expression(v.expression, `${p}.expression`, POLICY_VARS));
    if (v.messageExpression !== undefined) errs.push(...expression(v.messageExpression, `${p}.messageExpression`, POLICY_VARS));
    if (v.message !== undefined && v.message.includes('\n')) errs.push(invalid(`${p}.message`, v.message, 'message must not contain line breaks'));
    if (v.reason !== undefined && !REASONS.includes(v.reason)) errs.push(notSupported(`${p}.reason`, v.reason, REASONS));
  });
  errs.push(...validateMatchConditions(spec.matchConditions, 'spec.matchConditions', POLICY_VARS));
  errs.push(...validateAuditAnnotations(o.metadata.name ?? '', spec.auditAnnotations ?? []));
  return errs;
}

/** upstream's validateAuditAnnotation: `<policy>/<key>` a qualified name, keys unique, valueExpression compiled */
function validateAuditAnnotations(policy: string, annotations: { key?: string; valueExpression?: string }[]): FieldError[] {
  const errs: FieldError[] = [];
  const keys = new Set<string>();
  annotations.forEach((a, i) => {
    const p = `spec.auditAnnotations[${i}]`;
    const key = a.key ?? '';
    if (!policy) errs.push(invalid(`${p}.key`, key, 'requires metadata.name be non-empty'));
    else for (const m of qualifiedName(`${policy}/${key}`)) errs.push(invalid(`${p}.key`, `${policy}/${key}`, m));
    if (!a.valueExpression?.trim()) errs.push(required(`${p}.valueExpression`, 'valueExpression is not specified'));
    else errs.push(...expression(a.valueExpression, `${p}.valueExpression`, POLICY_VARS));
    if (keys.has(key)) errs.push(duplicate(`${p}.key`, key));
    keys.add(key);
  });
  return errs;
}

function validateBinding(o: Obj): FieldError[] {
  const spec = (o as unknown as ValidatingAdmissionPolicyBinding).spec ?? {};
  const errs: FieldError[] = [];
  if (!spec.policyName) errs.push(required('spec.policyName', ''));
  const actions = spec.validationActions ?? [];
  if (!actions.length) errs.push(required('spec.validationActions', 'at least one validation action is required'));
  const seen = new Set<string>();
  actions.forEach((a, i) => {
    if (!ACTIONS.includes(a)) errs.push(notSupported(`spec.validationActions[${i}]`, a, ACTIONS));
    if (seen.has(a)) errs.push(duplicate(`spec.validationActions[${i}]`, a));
    seen.add(a);
  });
  if (seen.has('Deny') && seen.has('Warn'))
    errs.push(
      invalid(
        'spec.validationActions',
        actions,
        'must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)',
      ),
    );
  errs.push(...validateMatch(spec.matchResources, 'spec.matchResources', false));
  if (spec.paramRef && !spec.paramRef.name && !spec.paramRef.selector) errs.push(required('spec.paramRef', 'one of name or selector must be specified'));
  if (spec.paramRef?.parameterNotFoundAction !== undefined && !['Allow', 'Deny'].includes(spec.paramRef.parameterNotFoundAction))
    errs.push(notSupported('spec.paramRef.parameterNotFoundAction', spec.paramRef.parameterNotFoundAction, ['Allow', 'Deny']));
  if (spec.paramRef && spec.paramRef.parameterNotFoundAction === undefined) errs.push(required('spec.paramRef.parameterNotFoundAction', ''));
  return errs;
}

function defaultMatch(m: MatchResources | undefined): void {
  if (!m) return;
  m.namespaceSelector ??= {};
  m.objectSelector ??= {};
  m.matchPolicy ??= 'Equivalent';
  for (const r of [...(m.resourceRules ?? []), ...(m.excludeResourceRules ?? [])]) r.scope ??= '*';
}

const table = {
  columns: [NAME_COLUMN, AGE_COLUMN],
  row: (o: Obj, now: Date) => [o.metadata.name, age(o.metadata.creationTimestamp, now)],
};

export const validatingAdmissionPolicyStrategy: Strategy = {
  defaults(o) {
    const p = o as unknown as ValidatingAdmissionPolicy;
    p.spec ??= {};
    p.spec.failurePolicy ??= 'Fail';
    defaultMatch(p.spec.matchConstraints);
  },
  prepareForCreate(o) {
    delete o.status;
  },
  validate: validatePolicy,
  table,
};

export const validatingAdmissionPolicyBindingStrategy: Strategy = {
  defaults(o) {
    const b = o as unknown as ValidatingAdmissionPolicyBinding;
    b.spec ??= {};
    defaultMatch(b.spec.matchResources);
  },
  validate: validateBinding,
  table,
};
