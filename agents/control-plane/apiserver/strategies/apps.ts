// apps/v1 Deployments, ReplicaSets, DaemonSets and StatefulSets: defaulting, validation and
// printing (their controllers live in controllers/). The shared pieces serve batch.ts too.
import { fromLabelSelector, matchLabels, SelectorError } from '../selectors.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col, type TableSpec } from '../tables/table.ts';
import { type FieldError, invalid, required } from '../validation/field.ts';
import { validateLabels } from '../validation/meta.ts';
import { validatePodSpec } from '../validation/pod.ts';
import { defaultPodSpec } from '../../../api/pod-defaults.ts';
import type { Obj, Strategy } from './types.ts';
import { validateClaimSpec } from './volumes.ts';

export function selectorString(
  sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined,
): string {
  const parts = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel?.matchExpressions ?? []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator.toLowerCase()} (${(e.values ?? []).join(',')})`);
  }
  return parts.join(',') || '<none>';
}

/** Selector, template labels and pod template of a workload whose pods restart Always. */
export function validateWorkload(o: Obj, kind = 'deployment', spec = o.spec ?? {}, path = 'spec'): FieldError[] {
  const errs = validateTemplate(kind, spec, path);
  if (spec.template?.spec?.restartPolicy && spec.template.spec.restartPolicy !== 'Always')
    errs.push({
      type: 'NotSupported',
      field: `${path}.template.spec.restartPolicy`,
      value: spec.template.spec.restartPolicy,
      detail: 'supported values: "Always"',
    });
  return errs;
}

/** Selector against template labels, and the pod template itself (pure). */
export function validateTemplate(kind: string, spec: Record<string, any>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.replicas !== undefined && spec.replicas < 0) errs.push(invalid(`${path}.replicas`, spec.replicas, 'must be greater than or equal to 0'));
  if (!spec.selector) errs.push(required(`${path}.selector`));
  const labels = spec.template?.metadata?.labels ?? {};
  errs.push(...validateLabels(labels, `${path}.template.metadata.labels`));
  if (spec.selector) {
    try {
      const reqs = fromLabelSelector(spec.selector);
      if (!reqs.length) errs.push(invalid(`${path}.selector`, spec.selector, `empty selector is invalid for ${kind}`));
      else if (!matchLabels(reqs, labels)) errs.push(invalid(`${path}.template.metadata.labels`, labels, '`selector` does not match template `labels`'));
    } catch (e) {
      if (e instanceof SelectorError) errs.push(invalid(`${path}.selector`, spec.selector, e.message));
      else throw e;
    }
  }
  errs.push(...validatePodSpec(spec.template?.spec, `${path}.template.spec`));
  return errs;
}

export function selectorImmutable(next: Obj, old: Obj): FieldError[] {
  return JSON.stringify(next.spec?.selector) === JSON.stringify(old.spec?.selector)
    ? []
    : [invalid('spec.selector', next.spec?.selector, 'field is immutable')];
}

export function workloadTable(extra: TableSpec['columns'], cells: (o: Obj) => unknown[]): TableSpec {
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
      return [
        o.metadata.name,
        ...cells(o),
        age(o.metadata.creationTimestamp, now),
        cs.map((c) => c.name).join(','),
        cs.map((c) => c.image ?? '').join(','),
        selectorString(o.spec?.selector),
      ];
    },
  };
}

export function defaultTemplate(o: Obj, replicas = true): void {
  o.spec ??= {};
  if (replicas) o.spec.replicas ??= 1;
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
  validate: (o) => validateWorkload(o),
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
  defaults: (o) => defaultTemplate(o),
  prepareForCreate(o) {
    o.status = { replicas: 0 };
  },
  validate: (o) => validateWorkload(o, 'replicaset'),
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

export const daemonSetStrategy: Strategy = {
  defaults(o) {
    defaultTemplate(o, false);
    o.spec.updateStrategy ??= {};
    o.spec.updateStrategy.type ||= 'RollingUpdate';
    if (o.spec.updateStrategy.type === 'RollingUpdate') {
      o.spec.updateStrategy.rollingUpdate ??= {};
      o.spec.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
      o.spec.updateStrategy.rollingUpdate.maxSurge ??= 0;
    }
    o.spec.revisionHistoryLimit ??= 10;
  },
  prepareForCreate(o) {
    o.status = { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 };
  },
  validate(o) {
    const errs = validateWorkload(o, 'daemonset');
    const t = o.spec?.updateStrategy?.type;
    if (t && t !== 'RollingUpdate' && t !== 'OnDelete')
      errs.push({ type: 'NotSupported', field: 'spec.updateStrategy.type', value: t, detail: 'supported values: "OnDelete", "RollingUpdate"' });
    return errs;
  },
  validateUpdate: selectorImmutable,
  table: workloadTable(
    [
      col('Desired', 'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).', 0, 'integer'),
      col('Current', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.', 0, 'integer'),
      col(
        'Ready',
        'numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.',
        0,
        'integer',
      ),
      col('Up-to-date', 'The total number of nodes that are running updated daemon pod', 0, 'integer'),
      col(
        'Available',
        'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)',
        0,
        'integer',
      ),
      col(
        'Node Selector',
        "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node.",
      ),
    ],
    (o) => {
      const st = o.status ?? {};
      const sel =
        Object.entries((o.spec?.template?.spec?.nodeSelector ?? {}) as Record<string, string>)
          .map(([k, v]) => `${k}=${v}`)
          .join(',') || '<none>';
      return [
        st.desiredNumberScheduled ?? 0,
        st.currentNumberScheduled ?? 0,
        st.numberReady ?? 0,
        st.updatedNumberScheduled ?? 0,
        st.numberAvailable ?? 0,
        sel,
      ];
    },
  ),
};

export const statefulSetStrategy: Strategy = {
  defaults(o) {
    defaultTemplate(o);
    o.spec.podManagementPolicy ||= 'OrderedReady';
    o.spec.updateStrategy ??= {};
    o.spec.updateStrategy.type ||= 'RollingUpdate';
    if (o.spec.updateStrategy.type === 'RollingUpdate') {
      o.spec.updateStrategy.rollingUpdate ??= {};
      o.spec.updateStrategy.rollingUpdate.partition ??= 0;
    }
    o.spec.revisionHistoryLimit ??= 10;
    o.spec.persistentVolumeClaimRetentionPolicy ??= {};
    o.spec.persistentVolumeClaimRetentionPolicy.whenDeleted ||= 'Retain';
    o.spec.persistentVolumeClaimRetentionPolicy.whenScaled ||= 'Retain';
  },
  prepareForCreate(o) {
    o.status = { replicas: 0, availableReplicas: 0 };
  },
  validate(o) {
    // volumeMounts may name a claim template: the pods get those volumes (upstream validates the same way)
    const claimTemplates: { metadata?: { name?: string }; spec?: Record<string, unknown> }[] = o.spec?.volumeClaimTemplates ?? [];
    const tspec = o.spec?.template?.spec;
    const withClaims =
      tspec && claimTemplates.length
        ? {
            ...o.spec,
            template: {
              ...o.spec.template,
              spec: {
                ...tspec,
                volumes: [
                  ...(tspec.volumes ?? []),
                  ...claimTemplates.map((t) => ({ name: t.metadata?.name, persistentVolumeClaim: { claimName: t.metadata?.name } })),
                ],
              },
            },
          }
        : o.spec;
    const errs = validateWorkload(o, 'statefulset', withClaims ?? {});
    const p = o.spec?.podManagementPolicy;
    if (p && p !== 'OrderedReady' && p !== 'Parallel')
      errs.push({ type: 'NotSupported', field: 'spec.podManagementPolicy', value: p, detail: 'supported values: "OrderedReady", "Parallel"' });
    claimTemplates.forEach((t, i) => errs.push(...validateClaimSpec(t.spec, `spec.volumeClaimTemplates[${i}].spec`)));
    return errs;
  },
  validateUpdate(next, old) {
    const errs = selectorImmutable(next, old);
    const changed = ['serviceName', 'podManagementPolicy', 'volumeClaimTemplates'].some(
      (f) => JSON.stringify(next.spec?.[f] ?? null) !== JSON.stringify(old.spec?.[f] ?? null),
    );
    if (changed)
      errs.push({
        type: 'Forbidden',
        field: 'spec',
        detail:
          "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      });
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Ready', 'Number of the pod with ready state'),
      AGE_COLUMN,
      col('Containers', 'Names of each container in the template.', 1),
      col('Images', 'Images referenced by each container in the template.', 1),
    ],
    row(o, now) {
      const cs: { name: string; image?: string }[] = o.spec?.template?.spec?.containers ?? [];
      return [
        o.metadata.name,
        `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`,
        age(o.metadata.creationTimestamp, now),
        cs.map((c) => c.name).join(','),
        cs.map((c) => c.image ?? '').join(','),
      ];
    },
  },
};
