// rbac.authorization.k8s.io/v1: Roles, ClusterRoles and their bindings. Defaulting and validation
// follow upstream's pkg/apis/rbac (validation.go): a rule needs verbs and either resources (with
// apiGroups) or nonResourceURLs (cluster roles only); a binding's roleRef is immutable and names a
// Role or ClusterRole; subjects are Users, Groups or ServiceAccounts.
import { AGE_COLUMN, NAME_COLUMN, age, col } from '../tables/table.ts';
import { type FieldError, invalid, notSupported, required } from '../validation/field.ts';
import type { Obj, Strategy } from './types.ts';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

const CREATED_AT = col('Created At', 'CreationTimestamp is a timestamp representing the server time when this object was created.', 0, 'date');
const ROLE_TABLE = {
  columns: [NAME_COLUMN, CREATED_AT],
  row: (o: Obj) => [o.metadata.name, o.metadata.creationTimestamp ?? ''],
};

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** upstream ValidatePolicyRule */
export function validatePolicyRule(rule: Record<string, unknown>, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!list(rule.verbs).length) errs.push(required(`${path}.verbs`, 'verbs must contain at least one value'));
  const urls = list(rule.nonResourceURLs);
  if (urls.length) {
    if (namespaced) errs.push(invalid(`${path}.nonResourceURLs`, urls, 'namespaced rules cannot apply to non-resource URLs'));
    if (list(rule.apiGroups).length || list(rule.resources).length || list(rule.resourceNames).length)
      errs.push(invalid(`${path}.nonResourceURLs`, urls, 'rules cannot apply to both regular resources and non-resource URLs'));
    return errs;
  }
  if (!list(rule.apiGroups).length) errs.push(required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  if (!list(rule.resources).length) errs.push(required(`${path}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

function validateRules(o: Obj, namespaced: boolean): FieldError[] {
  return list(o.rules).flatMap((r, i) =>
    validatePolicyRule(typeof r === 'object' && r !== null ? (r as Record<string, unknown>) : {}, namespaced, `rules[${i}]`),
  );
}

export const roleStrategy: Strategy = {
  validate: (o) => validateRules(o, true),
  table: ROLE_TABLE,
};

export const clusterRoleStrategy: Strategy = {
  validate(o) {
    const errs = validateRules(o, false);
    if (o.aggregationRule && !list(o.aggregationRule.clusterRoleSelectors).length)
      errs.push(required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    return errs;
  },
  table: ROLE_TABLE,
};

/** upstream SetDefaults_Subject and the roleRef group default */
function defaultBinding(o: Obj): void {
  if (o.roleRef && typeof o.roleRef === 'object' && !o.roleRef.apiGroup) o.roleRef.apiGroup = RBAC_GROUP;
  for (const s of list(o.subjects)) {
    if (typeof s !== 'object' || s === null) continue;
    const subject = s as Record<string, unknown>;
    if (!subject.apiGroup && (subject.kind === 'User' || subject.kind === 'Group')) subject.apiGroup = RBAC_GROUP;
  }
}

const SA_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** upstream ValidateRoleBindingSubject */
function validateSubject(s: Record<string, unknown>, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = typeof s.name === 'string' ? s.name : '';
  if (!name) errs.push(required(`${path}.name`));
  switch (s.kind) {
    case 'ServiceAccount':
      if (name && !SA_NAME.test(name))
        errs.push(
          invalid(
            `${path}.name`,
            name,
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
          ),
        );
      if (s.apiGroup) errs.push(notSupported(`${path}.apiGroup`, s.apiGroup, ['']));
      if (!namespaced && !s.namespace) errs.push(required(`${path}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (s.apiGroup !== RBAC_GROUP) errs.push(notSupported(`${path}.apiGroup`, s.apiGroup ?? '', [RBAC_GROUP]));
      break;
    default:
      errs.push(notSupported(`${path}.kind`, s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

function validateBinding(o: Obj, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = (o.roleRef ?? {}) as Record<string, unknown>;
  if (ref.apiGroup !== RBAC_GROUP) errs.push(notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (typeof ref.kind !== 'string' || !kinds.includes(ref.kind)) errs.push(notSupported('roleRef.kind', ref.kind ?? '', kinds));
  if (typeof ref.name !== 'string' || !ref.name) errs.push(required('roleRef.name'));
  else if (ref.name === '.' || ref.name === '..' || /[/%]/.test(ref.name)) errs.push(invalid('roleRef.name', ref.name, `may not contain '/' or '%'`));
  list(o.subjects).forEach((s, i) =>
    errs.push(...validateSubject(typeof s === 'object' && s !== null ? (s as Record<string, unknown>) : {}, namespaced, `subjects[${i}]`)),
  );
  return errs;
}

function roleRefUnchanged(next: Obj, old: Obj): FieldError[] {
  const key = (o: Obj) => JSON.stringify([o.roleRef?.apiGroup ?? '', o.roleRef?.kind ?? '', o.roleRef?.name ?? '']);
  return key(next) === key(old) ? [] : [invalid('roleRef', next.roleRef ?? null, 'cannot change roleRef')];
}

function subjectsOf(o: Obj, kind: string): string {
  return list(o.subjects)
    .filter((s): s is Record<string, unknown> => typeof s === 'object' && s !== null && (s as Record<string, unknown>).kind === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name}` : String(s.name)))
    .join(', ');
}

const BINDING_TABLE = {
  columns: [
    NAME_COLUMN,
    col('Role', 'Role is the name of the role this binding refers to'),
    AGE_COLUMN,
    col('Users', 'Users in the binding', 1),
    col('Groups', 'Groups in the binding', 1),
    col('ServiceAccounts', 'ServiceAccounts in the binding', 1),
  ],
  row: (o: Obj, now: Date) => [
    o.metadata.name,
    `${o.roleRef?.kind ?? ''}/${o.roleRef?.name ?? ''}`,
    age(o.metadata.creationTimestamp, now),
    subjectsOf(o, 'User'),
    subjectsOf(o, 'Group'),
    subjectsOf(o, 'ServiceAccount'),
  ],
};

export const roleBindingStrategy: Strategy = {
  defaults: defaultBinding,
  validate: (o) => validateBinding(o, true),
  validateUpdate: roleRefUnchanged,
  table: BINDING_TABLE,
};

export const clusterRoleBindingStrategy: Strategy = {
  defaults: defaultBinding,
  validate: (o) => validateBinding(o, false),
  validateUpdate: roleRefUnchanged,
  table: BINDING_TABLE,
};
