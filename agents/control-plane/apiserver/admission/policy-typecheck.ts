// Type checking of a ValidatingAdmissionPolicy as upstream's validating.TypeChecker: the kinds its
// matchConstraints name (no wildcard group or version; wildcard resources and subresources
// skipped; at most 10, sorted by group, version, kind) are resolved to their schemas, and every
// spec.validations[i].expression and messageExpression is checked with object and oldObject of
// each kind (params of paramKind's, variables typed in order); the issues become
// status.typeChecking.expressionWarnings, `<group>/<version>, Kind=<kind>: ERROR: <input>:...`.
// A kind without a kept schema (custom resources) is skipped, as upstream skips an unresolved one.
import { type CelType, T, typeCheck } from '../cel/typecheck.ts';
import { modelType } from '../cel/schema-types.ts';
import { RESOURCES } from '../registry.ts';
import type { ValidatingAdmissionPolicy } from './policy-types.ts';

export interface ExpressionWarning {
  fieldRef: string;
  warning: string;
}

const MAX_TYPES = 10;

interface Kind {
  group: string;
  version: string;
  kind: string;
  type: CelType;
}

/** upstream typesToCheck: the kinds the rules name, each with its object type */
function kindsToCheck(p: ValidatingAdmissionPolicy): Kind[] {
  const out = new Map<string, Kind>();
  for (const rule of p.spec?.matchConstraints?.resourceRules ?? []) {
    const groups = rule.apiGroups ?? [];
    const versions = rule.apiVersions ?? [];
    if (groups.some((g) => g.includes('*')) || versions.some((v) => v.includes('*'))) continue;
    const resources = (rule.resources ?? []).filter((r) => !/[*/]/.test(r));
    for (const group of [...groups].sort())
      for (const version of [...versions].sort())
        for (const resource of [...resources].sort()) {
          const r = RESOURCES.find((x) => x.group === group && x.version === version && x.plural === resource);
          const type = r && modelType(r.model);
          if (!r || !type) continue;
          out.set(`${group}/${version}, Kind=${r.kind}`, { group, version, kind: r.kind, type });
          if (out.size === MAX_TYPES) return sorted(out);
        }
  }
  return sorted(out);
}

const sorted = (m: Map<string, Kind>) =>
  [...m.values()].sort((a, b) => a.group.localeCompare(b.group) || a.version.localeCompare(b.version) || a.kind.localeCompare(b.kind));

function paramType(p: ValidatingAdmissionPolicy): CelType {
  const pk = p.spec?.paramKind;
  if (!pk?.apiVersion || !pk.kind) return T('dyn');
  const [group, version] = pk.apiVersion.includes('/') ? pk.apiVersion.split('/') : ['', pk.apiVersion];
  const r = RESOURCES.find((x) => x.group === group && x.version === version && x.kind === pk.kind);
  return (r && modelType(r.model)) ?? T('dyn');
}

/** The variables in scope of one kind's checks: variables.<name> typed by checking each in order. */
function scopeFor(p: ValidatingAdmissionPolicy, object: CelType, params: CelType): Map<string, CelType> {
  const declared = new Map<string, CelType>();
  const scope = new Map<string, CelType>([
    ['object', object],
    ['oldObject', object],
    ['params', params],
    ['request', T('dyn')],
    ['namespaceObject', T('dyn')],
    ['authorizer', T('dyn')],
    ['variables', { k: 'object', name: 'kubernetes.variables', field: (n) => declared.get(n) }],
  ]);
  for (const v of p.spec?.variables ?? []) {
    const r = typeCheck(v.expression ?? '', scope);
    declared.set(v.name ?? '', r.issues ? T('dyn') : r.type);
  }
  return scope;
}

/** The expression warnings of a policy, in upstream's order (each validation's expression, then its messageExpression). */
export function typeCheckPolicy(p: ValidatingAdmissionPolicy): ExpressionWarning[] {
  const kinds = kindsToCheck(p);
  const params = paramType(p);
  const scopes = kinds.map((k) => scopeFor(p, k.type, params));
  const check = (source: string) =>
    kinds
      .map((k, i) => {
        const issues = typeCheck(source, scopes[i]).issues;
        return issues ? `${k.group}/${k.version}, Kind=${k.kind}: ${issues}\n` : '';
      })
      .filter(Boolean)
      .join('\n');
  const out: ExpressionWarning[] = [];
  (p.spec?.validations ?? []).forEach((v, i) => {
    const w = check(v.expression ?? '');
    if (w) out.push({ fieldRef: `spec.validations[${i}].expression`, warning: w });
    if (!v.messageExpression) return;
    const m = check(v.messageExpression);
    if (m) out.push({ fieldRef: `spec.validations[${i}].messageExpression`, warning: m });
  });
  return out;
}
