// policy/v1 PodDisruptionBudget: upstream's strategy (status reset on create and kept by spec
// writes, spec kept by status writes through crud.ts), its validation (minAvailable XOR
// maxUnavailable, each a non-negative integer or a percent up to 100%, the selector,
// unhealthyPodEvictionPolicy; status counts non-negative) with upstream's paths and messages, and
// kubectl get's columns. The disruption controller (controllers/disruption/) fills the status and
// pods/eviction (apiserver/eviction.ts) honours it.
import type { LabelSelectorObject } from '../selectors.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col } from '../tables/table.ts';
import { type FieldError, invalid, notSupported } from '../validation/field.ts';
import { validateLabelSelector } from '../validation/label-selector.ts';
import type { Obj, Strategy } from './types.ts';

export const UNHEALTHY_POD_EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'];

export interface PdbSpec {
  minAvailable?: number | string;
  maxUnavailable?: number | string;
  selector?: LabelSelectorObject;
  unhealthyPodEvictionPolicy?: string;
}

const PERCENT = /^[0-9]+%$/;
// validation.RegexError("a valid percent string must be ...", "[0-9]+%", "1%", "93%"), spacing included
const PERCENT_MSG = "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";

/** upstream's ValidatePositiveIntOrPercent and IsNotMoreThan100Percent (pure). */
export function validateIntOrPercent(v: number | string, path: string): FieldError[] {
  if (typeof v === 'number') return v < 0 ? [invalid(path, v, 'must be greater than or equal to 0')] : [];
  if (!PERCENT.test(v)) return [invalid(path, v, PERCENT_MSG)];
  return Number(v.slice(0, -1)) > 100 ? [invalid(path, v, 'must not be greater than 100%')] : [];
}

export function validatePdbSpec(spec: PdbSpec | undefined): FieldError[] {
  const s = spec ?? {};
  const errs: FieldError[] = [];
  if (s.minAvailable !== undefined && s.maxUnavailable !== undefined) errs.push(invalid('spec', s, 'minAvailable and maxUnavailable cannot be both set'));
  if (s.minAvailable !== undefined) errs.push(...validateIntOrPercent(s.minAvailable, 'spec.minAvailable'));
  if (s.maxUnavailable !== undefined) errs.push(...validateIntOrPercent(s.maxUnavailable, 'spec.maxUnavailable'));
  errs.push(...validateLabelSelector(s.selector, 'spec.selector'));
  if (s.unhealthyPodEvictionPolicy !== undefined && !UNHEALTHY_POD_EVICTION_POLICIES.includes(s.unhealthyPodEvictionPolicy))
    errs.push(notSupported('spec.unhealthyPodEvictionPolicy', s.unhealthyPodEvictionPolicy, UNHEALTHY_POD_EVICTION_POLICIES));
  return errs;
}

const STATUS_COUNTS = ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods'] as const;

/** upstream's ValidatePodDisruptionBudgetStatusUpdate: the counts are never negative. */
export function validatePdbStatus(status: Record<string, unknown> | undefined): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of STATUS_COUNTS) {
    const v = status?.[f];
    if (typeof v === 'number' && v < 0) errs.push(invalid(`status.${f}`, v, 'must be greater than or equal to 0'));
  }
  return errs;
}

const emptyStatus = () => ({ disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
const orNA = (v: number | string | undefined) => (v === undefined ? 'N/A' : String(v));

export const podDisruptionBudgetStrategy: Strategy = {
  defaults(o) {
    // the status counts are plain int32s in policy/v1 (no omitempty): a status always carries them
    o.status = { ...emptyStatus(), ...(o.status ?? {}) };
  },
  prepareForCreate(o) {
    o.status = emptyStatus();
  },
  validate: (o) => validatePdbSpec(o.spec),
  validateUpdate: (next, _old, subresource) => (subresource === 'status' ? validatePdbStatus(next.status) : []),
  table: {
    columns: [
      NAME_COLUMN,
      col(
        'Min Available',
        'The minimum number of pods that must be available simultaneously.  This can be either an integer or a string specifying a percentage, e.g. "28%".',
      ),
      col(
        'Max Unavailable',
        'The maximum number of pods that may be unavailable simultaneously.  This can be either an integer or a string specifying a percentage, e.g. "28%".',
      ),
      col('Allowed Disruptions', 'Number of pod disruptions that are currently allowed.', 0, 'integer'),
      AGE_COLUMN,
    ],
    row: (o: Obj, now) => [
      o.metadata.name,
      orNA(o.spec?.minAvailable),
      orNA(o.spec?.maxUnavailable),
      o.status?.disruptionsAllowed ?? 0,
      age(o.metadata.creationTimestamp, now),
    ],
  },
};
