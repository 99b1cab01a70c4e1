// core/v1 ReplicationControllers, PodTemplates and ResourceQuotas: defaulting, validation and
// printing. The RC reuses the apps/v1 workload checks with its map selector seen as matchLabels.
import { canonicalQuantity } from '../quota.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col } from '../tables/table.ts';
import { type FieldError, invalid } from '../validation/field.ts';
import { validatePodSpec } from '../validation/pod.ts';
import { defaultTemplate, selectorString, validateWorkload } from './apps.ts';
import { defaultPodSpec, parseQuantity } from '../../../api/pod-defaults.ts';
import type { Obj, Strategy } from './types.ts';
import { getOwn } from '../safe-keys.ts';

const names = (cs: { name: string; image?: string }[] | undefined, f: 'name' | 'image') => (cs ?? []).map((c) => c[f] ?? '').join(',');

export const replicationControllerStrategy: Strategy = {
  defaults(o) {
    defaultTemplate(o);
    // upstream SetDefaults_ReplicationController: selector and labels come from the template
    const labels = o.spec.template.metadata?.labels;
    if (labels && Object.keys(labels).length) {
      if (!o.spec.selector || !Object.keys(o.spec.selector).length) o.spec.selector = { ...labels };
      if (!o.metadata.labels || !Object.keys(o.metadata.labels).length) o.metadata.labels = { ...labels };
    }
  },
  prepareForCreate(o) {
    o.status = { replicas: 0 };
  },
  validate: (o) => validateWorkload(o, 'replicationcontroller', { ...(o.spec ?? {}), selector: o.spec?.selector && { matchLabels: o.spec.selector } }),
  table: {
    columns: [
      NAME_COLUMN,
      col('Desired', 'Number of desired pods.', 0, 'integer'),
      col('Current', 'Number of actually running pods.', 0, 'integer'),
      col('Ready', 'Number of ready pods.', 0, 'integer'),
      AGE_COLUMN,
      col('Containers', 'Names of each container in the template.', 1),
      col('Images', 'Images referenced by each container in the template.', 1),
      col('Selector', 'Label selector for pods.', 1),
    ],
    row: (o, now) => [
      o.metadata.name,
      o.spec?.replicas ?? 0,
      o.status?.replicas ?? 0,
      o.status?.readyReplicas ?? 0,
      age(o.metadata.creationTimestamp, now),
      names(o.spec?.template?.spec?.containers, 'name'),
      names(o.spec?.template?.spec?.containers, 'image'),
      selectorString({ matchLabels: o.spec?.selector }),
    ],
  },
};

export const podTemplateStrategy: Strategy = {
  defaults(o) {
    o.template ??= {};
    o.template.spec ??= {};
    defaultPodSpec(o.template.spec);
  },
  validate: (o) => validatePodSpec(o.template?.spec, 'template.spec'),
  table: {
    columns: [
      NAME_COLUMN,
      col('Containers', 'Names of each container in the template.'),
      col('Images', 'Images referenced by each container in the template.'),
      col('Pod Labels', 'The labels for the pod template.'),
    ],
    row: (o) => [
      o.metadata.name,
      names(o.template?.spec?.containers, 'name'),
      names(o.template?.spec?.containers, 'image'),
      Object.entries((o.template?.metadata?.labels ?? {}) as Record<string, string>)
        .map(([k, v]) => `${k}=${v}`)
        .join(',') || '<none>',
    ],
  },
};

const canonical = (m: Record<string, unknown> | undefined) => m && Object.fromEntries(Object.entries(m).map(([k, v]) => [k, canonicalQuantity(v)]));

function validateQuota(o: Obj): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries((o.spec?.hard ?? {}) as Record<string, unknown>)) {
    if ((typeof v !== 'string' && typeof v !== 'number') || parseQuantity(v) === undefined)
      errs.push(invalid(`spec.hard[${k}]`, v, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
  }
  return errs;
}

/** "pods: 1/10, services: 0/5": the used/hard pairs kubectl get quota prints. */
function usage(o: Obj, keys: (k: string) => boolean): string {
  const hard: Record<string, string> = o.status?.hard ?? o.spec?.hard ?? {};
  return Object.keys(hard)
    .filter(keys)
    .sort()
    .map((k) => `${k}: ${(o.status?.used && getOwn(o.status.used, k)) ?? '0'}/${hard[k]}`)
    .join(', ');
}

export const resourceQuotaStrategy: Strategy = {
  defaults(o) {
    o.spec ??= {};
    if (o.spec.hard) o.spec.hard = canonical(o.spec.hard);
  },
  prepareForCreate(o) {
    o.status = {};
  },
  prepareForUpdate(next) {
    if (next.status?.hard) next.status.hard = canonical(next.status.hard);
    if (next.status?.used) next.status.used = canonical(next.status.used);
  },
  validate: validateQuota,
  table: {
    columns: [NAME_COLUMN, AGE_COLUMN, col('Request', 'Quota usage of the resources that are not limits.'), col('Limit', 'Quota usage of the limits.')],
    row: (o, now) => [
      o.metadata.name,
      age(o.metadata.creationTimestamp, now),
      usage(o, (k) => !k.startsWith('limits.')),
      usage(o, (k) => k.startsWith('limits.')),
    ],
  },
};
