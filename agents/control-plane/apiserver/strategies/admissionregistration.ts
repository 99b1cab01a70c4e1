// admissionregistration.k8s.io/v1 MutatingWebhookConfiguration and ValidatingWebhookConfiguration:
// upstream's v1 defaulting and validation (webhook names fully qualified and unique, rules,
// clientConfig url/service, sideEffects, admissionReviewVersions, timeouts, policies) with its
// field paths and wording, matchConditions (CEL) compiled at write time (admission/match-conditions.ts),
// and kubectl get's WEBHOOKS column.
import { AGE_COLUMN, NAME_COLUMN, age, col } from '../tables/table.ts';
import { fromLabelSelector, SelectorError, type LabelSelectorObject } from '../selectors.ts';
import { type FieldError, duplicate, invalid, notSupported, required } from '../validation/field.ts';
import { validateLabels } from '../validation/meta.ts';
import { dns1035Label, dns1123Subdomain } from '../validation/names.ts';
import { validateMatchConditions } from '../admission/match-conditions.ts';
import type { ClientConfig, RuleWithOperations, Webhook } from '../admission/types.ts';
import type { Obj, Strategy } from './types.ts';

const OPERATIONS = ['*', 'CONNECT', 'CREATE', 'DELETE', 'UPDATE'];
const SCOPES = ['*', 'Cluster', 'Namespaced'];
const FAILURE_POLICIES = ['Fail', 'Ignore'];
const MATCH_POLICIES = ['Equivalent', 'Exact'];
const SIDE_EFFECTS = ['None', 'NoneOnDryRun'];
const REINVOCATION = ['IfNeeded', 'Never'];
export const REVIEW_VERSIONS = ['v1', 'v1beta1'];
const URL_FORM = '; desired format: https://host[/path]';

function fullyQualifiedName(path: string, name: string | undefined): FieldError[] {
  if (!name) return [required(path, '')];
  const errs = dns1123Subdomain(name);
  if (errs.length) return [invalid(path, name, errs.join(','))];
  if (name.split('.').length < 3) return [invalid(path, name, 'should be a domain with at least three segments separated by dots')];
  return [];
}

function validateResources(resources: string[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const list = resources ?? [];
  if (!list.length) errs.push(required(path, ''));
  const wildSub = new Set<string>();
  const wildRes = new Set<string>();
  let doubleWild = false;
  let singleWild = false;
  let plain = false;
  list.forEach((rs, i) => {
    if (rs === '') return errs.push(required(`${path}[${i}]`, ''));
    if (rs === '*/*') doubleWild = true;
    if (rs === '*') singleWild = true;
    const slash = rs.indexOf('/');
    if (slash < 0) {
      plain = rs !== '*';
      return;
    }
    const res = rs.slice(0, slash);
    const sub = rs.slice(slash + 1);
    if (wildSub.has(res)) errs.push(invalid(`${path}[${i}]`, rs, `if '${res}/*' is present, must not specify ${rs}`));
    if (wildRes.has(sub)) errs.push(invalid(`${path}[${i}]`, rs, `if '*/${sub}' is present, must not specify ${rs}`));
    if (sub === '*') wildSub.add(res);
    if (res === '*') wildRes.add(sub);
  });
  if (list.length > 1 && doubleWild) errs.push(invalid(path, list, "if '*/*' is present, must not specify other resources"));
  if (singleWild && plain) errs.push(invalid(path, list, "if '*' is present, must not specify other resources without subresources"));
  return errs;
}

export function validateRule(r: RuleWithOperations, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const ops = r.operations ?? [];
  if (!ops.length) errs.push(required(`${path}.operations`, ''));
  if (ops.length > 1 && ops.includes('*')) errs.push(invalid(`${path}.operations`, ops, "if '*' is present, must not specify other operations"));
  ops.forEach((op, i) => {
    if (!OPERATIONS.includes(op)) errs.push(notSupported(`${path}.operations[${i}]`, op, OPERATIONS));
  });
  const groups = r.apiGroups ?? [];
  if (!groups.length) errs.push(required(`${path}.apiGroups`, ''));
  if (groups.length > 1 && groups.includes('*')) errs.push(invalid(`${path}.apiGroups`, groups, "if '*' is present, must not specify other API groups"));
  const versions = r.apiVersions ?? [];
  if (!versions.length) errs.push(required(`${path}.apiVersions`, ''));
  if (versions.length > 1 && versions.includes('*'))
    errs.push(invalid(`${path}.apiVersions`, versions, "if '*' is present, must not specify other API versions"));
  versions.forEach((v, i) => {
    if (!v) errs.push(required(`${path}.apiVersions[${i}]`, ''));
  });
  errs.push(...validateResources(r.resources, `${path}.resources`));
  if (r.scope !== undefined && !SCOPES.includes(r.scope)) errs.push(notSupported(`${path}.scope`, r.scope, SCOPES));
  return errs;
}

/** upstream's ValidateWebhookURL with forceHttps */
export function validateURL(path: string, raw: string): FieldError[] {
  let u: URL;
  try {
    u = new URL(raw);
  } catch (e) {
    return [required(path, `url must be a valid URL: ${(e as Error).message}${URL_FORM}`)];
  }
  const errs: FieldError[] = [];
  const scheme = u.protocol.replace(/:$/, '');
  if (scheme !== 'https') errs.push(invalid(path, scheme, `'https' is the only allowed URL scheme${URL_FORM}`));
  if (!u.host) errs.push(invalid(path, u.host, `host must be specified${URL_FORM}`));
  if (u.username || u.password) errs.push(invalid(path, u.password ? `${u.username}:xxxxx` : u.username, 'user information is not permitted in the URL'));
  if (u.hash.length > 1) errs.push(invalid(path, u.hash.slice(1), 'fragments are not permitted in the URL'));
  if (u.search.length > 1) errs.push(invalid(path, u.search.slice(1), 'query parameters are not permitted in the URL'));
  return errs;
}

/** upstream's ValidateWebhookService */
export function validateService(path: string, s: NonNullable<ClientConfig['service']>): FieldError[] {
  const errs: FieldError[] = [];
  if (!s.name) errs.push(required(`${path}.name`, 'service name is required'));
  if (!s.namespace) errs.push(required(`${path}.namespace`, 'service namespace is required'));
  const port = s.port ?? 443;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    errs.push(invalid(`${path}.port`, port, 'port is not valid: must be between 1 and 65535, inclusive'));
  const p = s.path;
  if (p === undefined || p === '' || p === '/') return errs;
  if (p === '//') return [...errs, invalid(`${path}.path`, p, 'segment[0] may not be empty')];
  if (!p.startsWith('/')) errs.push(invalid(`${path}.path`, p, "must start with a '/'"));
  let rest = p.slice(1);
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  rest.split('/').forEach((step, i) => {
    if (!step) return errs.push(invalid(`${path}.path`, p, `segment[${i}] may not be empty`));
    for (const m of dns1123Subdomain(step)) errs.push(invalid(`${path}.path`, p, `segment[${i}]: ${m}`));
  });
  return errs;
}

export function validateSelector(sel: LabelSelectorObject | undefined, path: string): FieldError[] {
  if (!sel) return [];
  try {
    fromLabelSelector(sel);
  } catch (e) {
    if (e instanceof SelectorError) return [invalid(`${path}.matchExpressions`, sel.matchExpressions, e.message)];
    throw e;
  }
  return validateLabels(sel.matchLabels, `${path}.matchLabels`);
}

/** upstream's validateAdmissionReviewVersions (and the CRD conversion's, whose Required has no detail) */
export function validateReviewVersions(
  versions: string[] | undefined,
  path: string,
  requiredDetail = `must specify one of ${REVIEW_VERSIONS.join(', ')}`,
): FieldError[] {
  if (!versions?.length) return [required(path, requiredDetail)];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    if (seen.has(v)) return errs.push(invalid(`${path}[${i}]`, v, 'duplicate version'));
    seen.add(v);
    for (const m of dns1035Label(v)) errs.push(invalid(`${path}[${i}]`, v, m));
  });
  if (!versions.some((v) => REVIEW_VERSIONS.includes(v))) errs.push(invalid(path, versions, `must include at least one of ${REVIEW_VERSIONS.join(', ')}`));
  return errs;
}

function validateWebhook(h: Webhook, path: string, mutating: boolean): FieldError[] {
  const errs = fullyQualifiedName(`${path}.name`, h.name);
  (h.rules ?? []).forEach((r, i) => errs.push(...validateRule(r, `${path}.rules[${i}]`)));
  if (h.failurePolicy !== undefined && !FAILURE_POLICIES.includes(h.failurePolicy))
    errs.push(notSupported(`${path}.failurePolicy`, h.failurePolicy, FAILURE_POLICIES));
  if (h.matchPolicy !== undefined && !MATCH_POLICIES.includes(h.matchPolicy)) errs.push(notSupported(`${path}.matchPolicy`, h.matchPolicy, MATCH_POLICIES));
  if (h.sideEffects === undefined) errs.push(required(`${path}.sideEffects`, `must specify one of ${SIDE_EFFECTS.join(', ')}`));
  else if (!SIDE_EFFECTS.includes(h.sideEffects)) errs.push(notSupported(`${path}.sideEffects`, h.sideEffects, SIDE_EFFECTS));
  if (h.timeoutSeconds !== undefined && !(h.timeoutSeconds >= 1 && h.timeoutSeconds <= 30))
    errs.push(invalid(`${path}.timeoutSeconds`, h.timeoutSeconds, 'the timeout value must be between 1 and 30 seconds'));
  if (mutating && h.reinvocationPolicy !== undefined && !REINVOCATION.includes(h.reinvocationPolicy))
    errs.push(notSupported(`${path}.reinvocationPolicy`, h.reinvocationPolicy, REINVOCATION));
  errs.push(...validateSelector(h.namespaceSelector, `${path}.namespaceSelector`), ...validateSelector(h.objectSelector, `${path}.objectSelector`));
  errs.push(...validateReviewVersions(h.admissionReviewVersions, `${path}.admissionReviewVersions`));
  const cc = h.clientConfig ?? {};
  if ((cc.url === undefined) === (cc.service === undefined)) errs.push(required(`${path}.clientConfig`, 'exactly one of url or service is required'));
  else if (cc.url !== undefined) errs.push(...validateURL(`${path}.clientConfig.url`, cc.url));
  else if (cc.service) errs.push(...validateService(`${path}.clientConfig.service`, cc.service));
  errs.push(...validateMatchConditions(h.matchConditions, `${path}.matchConditions`));
  return errs;
}

function validateConfiguration(o: Obj, mutating: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const hooks = (o.webhooks ?? []) as Webhook[];
  const names = new Set<string>();
  hooks.forEach((h, i) => {
    errs.push(...validateWebhook(h, `webhooks[${i}]`, mutating));
    if (!h.name) return;
    if (names.has(h.name)) errs.push(duplicate(`webhooks[${i}].name`, h.name));
    names.add(h.name);
  });
  return errs;
}

/** upstream's SetDefaults_*Webhook, SetDefaults_Rule and SetDefaults_ServiceReference (v1) */
function defaults(o: Obj, mutating: boolean): void {
  for (const h of (o.webhooks ?? []) as Webhook[]) {
    h.failurePolicy ??= 'Fail';
    h.matchPolicy ??= 'Equivalent';
    h.namespaceSelector ??= {};
    h.objectSelector ??= {};
    h.timeoutSeconds ??= 10;
    if (mutating) h.reinvocationPolicy ??= 'Never';
    for (const r of h.rules ?? []) r.scope ??= '*';
    if (h.clientConfig?.service) h.clientConfig.service.port ??= 443;
  }
}

const strategy = (mutating: boolean): Strategy => ({
  defaults: (o) => defaults(o, mutating),
  validate: (o) => validateConfiguration(o, mutating),
  table: {
    columns: [NAME_COLUMN, col('Webhooks', 'Webhooks indicates the number of webhooks in the configuration.', 0, 'integer'), AGE_COLUMN],
    row: (o, now) => [o.metadata.name, (o.webhooks ?? []).length, age(o.metadata.creationTimestamp, now)],
  },
});

export const mutatingWebhookConfigurationStrategy = strategy(true);
export const validatingWebhookConfigurationStrategy = strategy(false);
