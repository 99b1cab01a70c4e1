// autoscaling HorizontalPodAutoscalers: upstream's v2 defaulting (minReplicas 1, an 80% CPU target
// when no metric is given, the default scale-up and scale-down behavior) and validation (the
// internal type's rules, as kube-apiserver runs them for either version), `kubectl get hpa`'s
// columns, and v1 served from the same v2 storage through autoscaling-convert.ts.
import { formatQuantity } from '../../../api/quantity-format.ts';
import { parseQuantity } from '../../../api/pod-defaults.ts';
import { age, AGE_COLUMN, col, NAME_COLUMN } from '../tables/table.ts';
import { type FieldError, forbidden, invalid, required } from '../validation/field.ts';
import { HPA_V1, hpaV1ToV2, hpaV2ToV1 } from './autoscaling-convert.ts';
import type { Obj, Strategy } from './types.ts';

type Rec = Record<string, any>;

/** upstream's MaxPeriodSeconds and MaxStabilizationWindowSeconds */
const MAX_PERIOD_SECONDS = 1800;
const MAX_STABILIZATION_WINDOW_SECONDS = 3600;

const scaleUpDefaults = (): Rec => ({
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
});
const scaleDownDefaults = (): Rec => ({
  stabilizationWindowSeconds: 300,
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
});

/** GenerateHPAScale{Up,Down}Rules: absent fields of the rules take the direction's defaults (an empty policy list stays). */
function defaultRules(r: Rec | undefined | null, defaults: Rec): Rec {
  if (!r) return defaults;
  r.stabilizationWindowSeconds ??= defaults.stabilizationWindowSeconds;
  r.selectPolicy ??= defaults.selectPolicy;
  r.policies ??= defaults.policies;
  return r;
}

/** SetDefaults_HorizontalPodAutoscaler (v2). */
export function defaultHPA(o: Obj): void {
  const spec: Rec = (o.spec ??= {});
  spec.minReplicas ??= 1;
  if (!Array.isArray(spec.metrics) || !spec.metrics.length)
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  const b: Rec = (spec.behavior ??= {});
  b.scaleUp = defaultRules(b.scaleUp, scaleUpDefaults());
  b.scaleDown = defaultRules(b.scaleDown, scaleDownDefaults());
}

/** apimachinery's IsValidPathSegmentName. */
function pathSegmentErrors(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  return ['/', '%'].filter((c) => name.includes(c)).map((c) => `may not contain '${c}'`);
}

function validateRef(ref: Rec | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ['kind', 'name'] as const) {
    const v = ref?.[f];
    if (!v) errs.push(required(`${path}.${f}`));
    else for (const msg of pathSegmentErrors(String(v))) errs.push(invalid(`${path}.${f}`, v, msg));
  }
  return errs;
}

const positive = (q: unknown): boolean => (parseQuantity(q) ?? 0) > 0;

function validateTarget(t: Rec | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!t?.type) errs.push(required(`${path}.type`, 'must specify a metric target type'));
  if (!['Utilization', 'Value', 'AverageValue'].includes(t?.type))
    errs.push(invalid(`${path}.type`, t?.type ?? '', 'must be either Utilization, Value, or AverageValue'));
  for (const f of ['value', 'averageValue'] as const)
    if (t?.[f] !== undefined && t[f] !== null && !positive(t[f])) errs.push(invalid(`${path}.${f}`, t[f], 'must be positive'));
  if (typeof t?.averageUtilization === 'number' && t.averageUtilization < 1)
    errs.push(invalid(`${path}.averageUtilization`, t.averageUtilization, 'must be greater than 0'));
  return errs;
}

function validateMetricName(m: Rec | undefined, path: string): FieldError[] {
  if (!m?.name) return [required(`${path}.name`, 'must specify a metric name')];
  return pathSegmentErrors(m.name).map((msg) => invalid(`${path}.name`, m.name, msg));
}

const has = (v: unknown) => v !== undefined && v !== null;

/** One metric source's own rules (validate{Object,External,Pods,Resource,ContainerResource}Source). */
function validateSource(kind: string, src: Rec, path: string): FieldError[] {
  const t: Rec = src.target ?? {};
  const errs: FieldError[] = [];
  if (kind === 'object') errs.push(...validateRef(src.describedObject, `${path}.describedObject`));
  if (kind === 'object' || kind === 'external' || kind === 'pods') errs.push(...validateMetricName(src.metric, `${path}.metric`));
  if (kind === 'resource' || kind === 'containerResource') {
    if (!src.name) errs.push(required(`${path}.name`, 'must specify a resource name'));
    if (kind === 'containerResource' && !src.container) errs.push(required(`${path}.container`, 'must specify a container'));
  }
  errs.push(...validateTarget(src.target, `${path}.target`));
  if (kind === 'object' && !has(t.value) && !has(t.averageValue))
    errs.push(required(`${path}.target.averageValue`, 'must set either a target value or averageValue'));
  if (kind === 'external') {
    if (!has(t.value) && !has(t.averageValue))
      errs.push(required(`${path}.target.averageValue`, 'must set either a target value for metric or a per-pod target'));
    if (has(t.value) && has(t.averageValue)) errs.push(forbidden(`${path}.target.value`, 'may not set both a target value for metric and a per-pod target'));
  }
  if (kind === 'pods' && !has(t.averageValue)) errs.push(required(`${path}.target.averageValue`, 'must specify a positive target averageValue'));
  if (kind === 'resource' || kind === 'containerResource') {
    if (!has(t.averageUtilization) && !has(t.averageValue))
      errs.push(required(`${path}.target.averageUtilization`, 'must set either a target raw value or a target utilization'));
    if (has(t.averageUtilization) && has(t.averageValue))
      errs.push(forbidden(`${path}.target.averageValue`, 'may not set both a target raw value and a target utilization'));
  }
  return errs;
}

const SOURCES: [string, string][] = [
  ['Object', 'object'],
  ['External', 'external'],
  ['Pods', 'pods'],
  ['Resource', 'resource'],
  ['ContainerResource', 'containerResource'],
];
const SOURCE_TYPES = SOURCES.map(([t]) => t).sort();

function validateMetric(m: Rec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!m.type) errs.push(required(`${path}.type`, 'must specify a metric source type'));
  const present = SOURCES.filter(([, f]) => has(m[f])).map(([, f]) => f);
  if (present[0]) errs.push(...validateSource(present[0], m[present[0]], `${path}.${present[0]}`));
  const expected = SOURCES.find(([t]) => t === m.type)?.[1];
  const unsupported = {
    type: 'NotSupported' as const,
    field: `${path}.type`,
    value: m.type ?? '',
    detail: `supported values: ${SOURCE_TYPES.map((t) => `"${t}"`).join(', ')}`,
  };
  if (!expected) errs.push(unsupported, unsupported);
  else if (!has(m[expected])) errs.push(required(`${path}.${expected}`, 'must populate information for the given metric source'));
  if (present.length !== 1)
    for (const f of present.filter((p) => p !== expected)) errs.push(forbidden(`${path}.${f}`, 'must populate the given metric source only'));
  return errs;
}

function validateRules(r: Rec | undefined, path: string): FieldError[] {
  if (!r) return [];
  const errs: FieldError[] = [];
  const w = r.stabilizationWindowSeconds;
  if (typeof w === 'number' && w < 0) errs.push(invalid(`${path}.stabilizationWindowSeconds`, w, 'must be greater than or equal to zero'));
  if (typeof w === 'number' && w > MAX_STABILIZATION_WINDOW_SECONDS)
    errs.push(invalid(`${path}.stabilizationWindowSeconds`, w, `must be less than or equal to ${MAX_STABILIZATION_WINDOW_SECONDS}`));
  if (has(r.selectPolicy) && !['Disabled', 'Max', 'Min'].includes(String(r.selectPolicy)))
    errs.push({ type: 'NotSupported', field: `${path}.selectPolicy`, value: r.selectPolicy, detail: 'supported values: "Disabled", "Max", "Min"' });
  const policies: Rec[] = Array.isArray(r.policies) ? r.policies : [];
  if (!policies.length) errs.push(required(`${path}.policies`, 'must specify at least one Policy'));
  policies.forEach((p, i) => {
    const pp = `${path}.policies[${i}]`;
    if (p.type !== 'Pods' && p.type !== 'Percent')
      errs.push({ type: 'NotSupported', field: `${pp}.type`, value: p.type ?? '', detail: 'supported values: "Percent", "Pods"' });
    if (!((p.value ?? 0) > 0)) errs.push(invalid(`${pp}.value`, p.value ?? 0, 'must be greater than zero'));
    if (!((p.periodSeconds ?? 0) > 0)) errs.push(invalid(`${pp}.periodSeconds`, p.periodSeconds ?? 0, 'must be greater than zero'));
    if ((p.periodSeconds ?? 0) > MAX_PERIOD_SECONDS)
      errs.push(invalid(`${pp}.periodSeconds`, p.periodSeconds, `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
  });
  return errs;
}

/** validateHorizontalPodAutoscalerSpec with HPAScaleToZero off (minReplicas at least 1). */
export function validateHPASpec(spec: Rec, minLowerBound = 1): FieldError[] {
  const errs: FieldError[] = [];
  const min = spec.minReplicas;
  const max = spec.maxReplicas ?? 0;
  if (typeof min === 'number' && min < minLowerBound) errs.push(invalid('spec.minReplicas', min, `must be greater than or equal to ${minLowerBound}`));
  if (max < 1) errs.push(invalid('spec.maxReplicas', max, 'must be greater than 0'));
  if (typeof min === 'number' && max < min) errs.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  errs.push(...validateRef(spec.scaleTargetRef, 'spec.scaleTargetRef'));
  const metrics: Rec[] = Array.isArray(spec.metrics) ? spec.metrics : [];
  metrics.forEach((m, i) => errs.push(...validateMetric(m ?? {}, `spec.metrics[${i}]`)));
  if (min === 0 && !metrics.some((m) => m?.type === 'Object' || m?.type === 'External'))
    errs.push(forbidden('spec.metrics', 'must specify at least one Object or External metric to support scaling to zero replicas'));
  errs.push(...validateRules(spec.behavior?.scaleUp, 'spec.behavior.scaleUp'), ...validateRules(spec.behavior?.scaleDown, 'spec.behavior.scaleDown'));
  return errs;
}

/** formatHPAMetrics of upstream's printer: the first two metrics as current/target. */
export function formatHPAMetrics(specs: Rec[] | undefined, statuses: Rec[] | undefined): string {
  if (!specs?.length) return '<none>';
  const q = (v: unknown) => (v === undefined || v === null ? '<unknown>' : formatQuantity(parseQuantity(v) ?? 0));
  const list = specs.map((s, i): string => {
    const st: Rec | undefined = statuses?.[i];
    switch (s.type) {
      case 'External':
      case 'Object': {
        const f = s.type === 'External' ? 'external' : 'object';
        const t = s[f]?.target ?? {};
        if (has(t.averageValue)) return `${st?.[f] ? q(st[f].current?.averageValue) : '<unknown>'}/${q(t.averageValue)} (avg)`;
        return `${st?.[f] ? q(st[f].current?.value) : '<unknown>'}/${q(t.value)}`;
      }
      case 'Pods':
        return `${st?.pods ? q(st.pods.current?.averageValue) : '<unknown>'}/${q(s.pods?.target?.averageValue)}`;
      case 'Resource':
      case 'ContainerResource': {
        const f = s.type === 'Resource' ? 'resource' : 'containerResource';
        const src = s[f] ?? {};
        if (has(src.target?.averageValue)) return `${src.name}: ${st?.[f] ? q(st[f].current?.averageValue) : '<unknown>'}/${q(src.target.averageValue)}`;
        const cur = st?.[f]?.current?.averageUtilization;
        const target = typeof src.target?.averageUtilization === 'number' ? `${src.target.averageUtilization}%` : '<auto>';
        return `${src.name}: ${typeof cur === 'number' ? `${cur}%` : '<unknown>'}/${target}`;
      }
      default:
        return '<unknown type>';
    }
  });
  return list.length > 2 ? `${list.slice(0, 2).join(', ')} + ${list.length - 2} more...` : list.join(', ');
}

function v2Of(o: Obj): Obj {
  if (o.apiVersion !== HPA_V1) return o;
  const c = structuredClone(o);
  hpaV1ToV2(c);
  return c;
}

export const hpaStrategy: Strategy = {
  defaults: defaultHPA,
  prepareForCreate(o) {
    o.status = { desiredReplicas: 0 };
  },
  validate: (o) => validateHPASpec(o.spec ?? {}),
  validateUpdate(next, _old, subresource) {
    if (subresource !== 'status') return [];
    return (['currentReplicas', 'desiredReplicas'] as const)
      .filter((f) => (next.status?.[f] ?? 0) < 0)
      .map((f) => invalid(`status.${f}`, next.status[f], 'must be greater than or equal to 0'));
  },
  table: {
    columns: [
      NAME_COLUMN,
      col(
        'Reference',
        'scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.',
      ),
      col(
        'Targets',
        'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).',
      ),
      col('MinPods', 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.'),
      col(
        'MaxPods',
        'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.',
        0,
        'integer',
      ),
      col('Replicas', 'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.', 0, 'integer'),
      AGE_COLUMN,
    ],
    row: (obj, now) => {
      const o = v2Of(obj);
      const ref = o.spec?.scaleTargetRef ?? {};
      return [
        o.metadata.name,
        `${ref.kind ?? ''}/${ref.name ?? ''}`,
        formatHPAMetrics(o.spec?.metrics, o.status?.currentMetrics),
        typeof o.spec?.minReplicas === 'number' ? String(o.spec.minReplicas) : '<unset>',
        o.spec?.maxReplicas ?? 0,
        o.status?.currentReplicas ?? 0,
        age(o.metadata.creationTimestamp, now),
      ];
    },
  },
};

/** autoscaling/v1: converted to v2 before defaulting and validation, back to v1 when read. */
export const hpaV1Strategy: Strategy = {
  ...hpaStrategy,
  defaults(o) {
    hpaV1ToV2(o);
    defaultHPA(o);
  },
  fromStorage: hpaV2ToV1,
};
