// apiregistration.k8s.io/v1 APIService: upstream's strategy (status reset on create, kept by spec
// writes), validation with kube-aggregator's paths and messages (the name is <version>.<group>,
// priority ranges, a local APIService has no caBundle nor insecureSkipTLSVerify, a Service
// reference names its namespace and name, caBundle and insecureSkipTLSVerify exclude each
// other), the default service port 443, and `kubectl get apiservices`' columns.
import { AGE_COLUMN, NAME_COLUMN, age, col } from '../tables/table.ts';
import { type FieldError, invalid, notSupported, required } from '../validation/field.ts';
import { dns1035Label, dns1123Subdomain } from '../validation/names.ts';
import type { Obj, Strategy } from './types.ts';

export interface APIServiceSpec {
  group?: string;
  version?: string;
  service?: { namespace?: string; name?: string; port?: number } | null;
  caBundle?: string;
  insecureSkipTLSVerify?: boolean;
  groupPriorityMinimum?: number;
  versionPriority?: number;
}

export interface APIServiceCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface APIService extends Obj {
  spec: APIServiceSpec;
  status?: { conditions?: APIServiceCondition[] };
}

/** kube-aggregator's ValidateAPIService, after the generic metadata checks (pure). */
export function validateAPIService(o: Obj): FieldError[] {
  const s: APIServiceSpec = o.spec ?? {};
  const group = s.group ?? '';
  const version = s.version ?? '';
  const errs: FieldError[] = [];
  const requiredName = `${version}.${group}`;
  if (o.metadata?.name && o.metadata.name !== requiredName)
    errs.push(invalid('metadata.name', o.metadata.name, `must be \`spec.version+"."+spec.group\`: ${JSON.stringify(requiredName)}`));
  if (!group && version !== 'v1') errs.push(required('spec.group', 'only v1 may have an empty group and it better be legacy kube'));
  if (group) for (const m of dns1123Subdomain(group)) errs.push(invalid('spec.group', group, m));
  for (const m of dns1035Label(version)) errs.push(invalid('spec.version', version, m));
  const gpm = s.groupPriorityMinimum ?? 0;
  if (gpm <= 0 || gpm > 20000) errs.push(invalid('spec.groupPriorityMinimum', gpm, 'must be positive and less than 20000'));
  const vp = s.versionPriority ?? 0;
  if (vp <= 0 || vp > 1000) errs.push(invalid('spec.versionPriority', vp, 'must be positive and less than 1000'));
  const caBytes = s.caBundle ? Buffer.from(s.caBundle, 'base64').length : 0;
  if (!s.service) {
    if (caBytes) errs.push(invalid('spec.caBundle', `${caBytes} bytes`, 'local APIServices may not have a caBundle'));
    if (s.insecureSkipTLSVerify) errs.push(invalid('spec.insecureSkipTLSVerify', true, 'local APIServices may not have insecureSkipTLSVerify'));
    return errs;
  }
  if (!s.service.namespace) errs.push(required('spec.service.namespace', ''));
  if (!s.service.name) errs.push(required('spec.service.name', ''));
  if (s.insecureSkipTLSVerify && caBytes) errs.push(invalid('spec.insecureSkipTLSVerify', true, 'may not be true if caBundle is present'));
  return errs;
}

const CONDITION_STATUSES = ['True', 'False', 'Unknown'];

/** ValidateAPIServiceStatus: a condition's status is True, False or Unknown. */
export function validateAPIServiceStatus(o: Obj): FieldError[] {
  const conds: APIServiceCondition[] = o.status?.conditions ?? [];
  return conds.flatMap((c, i) => (CONDITION_STATUSES.includes(c.status) ? [] : [notSupported(`status.conditions[${i}].status`, c.status, CONDITION_STATUSES)]));
}

export const availableCondition = (o: Obj): APIServiceCondition | undefined =>
  ((o.status?.conditions ?? []) as APIServiceCondition[]).find((c) => c.type === 'Available');

/** The AVAILABLE column: True, or the status with its reason (`False (ServiceNotFound)`), Unknown without a condition. */
function availableColumn(o: Obj): string {
  const c = availableCondition(o);
  if (!c) return 'Unknown';
  return c.status !== 'True' && c.reason ? `${c.status} (${c.reason})` : c.status;
}

export const apiServiceStrategy: Strategy = {
  defaults(o) {
    const svc = o.spec?.service;
    if (svc && svc.port === undefined) svc.port = 443;
  },
  prepareForCreate(o) {
    o.status = {};
  },
  validate: validateAPIService,
  validateUpdate: (next, _old, subresource) => (subresource === 'status' ? validateAPIServiceStatus(next) : []),
  table: {
    columns: [
      NAME_COLUMN,
      col('Service', 'The reference to the service that hosts this API endpoint.'),
      col('Available', 'Whether this service is available.'),
      AGE_COLUMN,
    ],
    row: (o: Obj, now) => [
      o.metadata.name,
      o.spec?.service ? `${o.spec.service.namespace}/${o.spec.service.name}` : 'Local',
      availableColumn(o),
      age(o.metadata.creationTimestamp, now),
    ],
  },
};
