// apps/v1 Deployments and ReplicaSets: stored, defaulted and validated (their controllers come later).
import { fromLabelSelector, matchLabels, SelectorError } from '../selectors.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col, type TableSpec } from '../tables/table.ts';
import { type FieldError, invalid, required } from '../validation/field.ts';
import { validateLabels } from '../validation/meta.ts';
import { validatePodSpec } from '../validation/pod.ts';
import { defaultPodSpec } from './pod-defaults.ts';
import type { Obj, Strategy } from './types.ts';

function selectorString(sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined): string {
  const parts = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel?.matchExpressions ?? []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator.toLowerCase()} (${(e.values ?? []).join(',')})`);
  }
  return parts.join(',') || '<none>';
}

function validateWorkload(o: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const spec = o.spec ?? {};
  if (spec.replicas !== undefined && spec.replicas < 0) errs.push(invalid('spec.replicas', spec.replicas, 'must be greater than or equal to 0'));
  if (!spec.selector) errs.push(required('spec.selector'));
  const labels = spec.template?.metadata?.labels ?? {};
  errs.push(...validateLabels(labels, 'spec.template.metadata.labels'));
  if (spec.selector) {
    try {
      const reqs = fromLabelSelector(spec.selector);
      if (!reqs.length) errs.push(invalid('spec.selector', spec.selector, 'empty selector is invalid for deployment'));
      else if (!matchLabels(reqs, labels)) errs.push(invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
    } catch (e) {
      if (e instanceof SelectorError) errs.push(invalid('spec.selector', spec.selector, e.message));
      else throw e;
    }
  }
  errs.push(...validatePodSpec(spec.template?.spec, 'spec.template.spec'));
  if (spec.template?.spec?.restartPolicy && spec.template.spec.restartPolicy !== 'Always')
    errs.push({ type: 'NotSupported', field: 'spec.template.spec.restartPolicy', value: spec.template.spec.restartPolicy, detail: 'supported values: "Always"' });
  return errs;
}

function selectorImmutable(next: Obj, old: Obj): FieldError[] {
  return JSON.stringify(next.spec?.selector) === JSON.stringify(old.spec?.selector)
    ? []
    : [invalid('spec.selector', next.spec?.selector, 'field is immutable')];
}

function workloadTable(extra: TableSpec['columns'], cells: (o: Obj) => unknown[]): TableSpec {
  return {
    columns: [
      NAME_COLUMN,
      ...extra,
      AGE_COLUMN,
      col('Containers', 'Names of each container in the template.', 1),
      col('Images', 'Images referenced by each container in the template.', 1),
      col('Selector', 'Label selector for pods.', 1),
    ],
    row(o, now) {
      const cs: { name: string; image?: string }[] = o.spec?.template?.spec?.containers ?? [];
      return [o.metadata.name, ...cells(o), age(o.metadata.creationTimestamp, now), cs.map((c) => c.name).join(','), cs.map((c) => c.image ?? '').join(','), selectorString(o.spec?.selector)];
    },
  };
}

function defaultTemplate(o: Obj): void {
  o.spec ??= {};
  o.spec.replicas ??= 1;
  o.spec.template ??= {};
  o.spec.template.spec ??= {};
  defaultPodSpec(o.spec.template.spec);
}

export const deploymentStrategy: Strategy = {
  defaults(o) {
    defaultTemplate(o);
    o.spec.strategy ??= {};
    o.spec.strategy.type ||= 'RollingUpdate';
    if (o.spec.strategy.type === 'RollingUpdate') o.spec.strategy.rollingUpdate ??= { maxUnavailable: '25%', maxSurge: '25%' };
    o.spec.revisionHistoryLimit ??= 10;
    o.spec.progressDeadlineSeconds ??= 600;
  },
  prepareForCreate(o) {
    o.status = {};
  },
  validate: validateWorkload,
  validateUpdate: selectorImmutable,
  table: workloadTable(
    [
      col('Ready', 'Number of the pod with ready state'),
      col('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', 0, 'integer'),
      col('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.', 0, 'integer'),
    ],
    (o) => [`${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`, o.status?.updatedReplicas ?? 0, o.status?.availableReplicas ?? 0],
  ),
};

export const replicaSetStrategy: Strategy = {
  defaults: defaultTemplate,
  prepareForCreate(o) {
    o.status = { replicas: 0 };
  },
  validate: validateWorkload,
  validateUpdate: selectorImmutable,
  selectableFields: (o) => ({ 'status.replicas': String(o.status?.replicas ?? 0) }),
  table: workloadTable(
    [
      col('Desired', 'Number of desired pods.', 0, 'integer'),
      col('Current', 'Number of actually running pods.', 0, 'integer'),
      col('Ready', 'Number of ready pods.', 0, 'integer'),
    ],
    (o) => [o.spec?.replicas ?? 0, o.status?.replicas ?? 0, o.status?.readyReplicas ?? 0],
  ),
};
