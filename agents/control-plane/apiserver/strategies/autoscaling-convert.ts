// autoscaling/v1 <-> autoscaling/v2 HorizontalPodAutoscaler conversion, as upstream's
// pkg/apis/autoscaling/v1/conversion.go does it through the internal type: both versions are served
// from one storage in v2 form. v1 carries only a CPU utilization target and its current value; the
// v2-only fields (other metrics, behavior, conditions) are not kept in v1's alpha annotations here,
// so an update through v1 replaces them with v2's defaults. Pure.
import type { Obj } from './types.ts';

export const HPA_V1 = 'autoscaling/v1';
export const HPA_V2 = 'autoscaling/v2';

type Rec = Record<string, any>;

/**
 * A v1 read keeps the stored v2 status on its status object, out of JSON's sight: an update through
 * v1 carries the current status over (status is the status subresource's), and converting that back
 * must not lose the conditions and values v1 cannot express, as upstream's status never passes
 * through v1 on such an update.
 */
const STORED_STATUS = Symbol('stored v2 status');

const isCpu = (m: Rec | undefined): boolean => m?.type === 'Resource' && m.resource?.name === 'cpu';

/** v1 -> v2 in place (an object already in v2 form is left alone). */
export function hpaV1ToV2(o: Obj): void {
  if (o.apiVersion !== HPA_V1) return;
  o.apiVersion = HPA_V2;
  const spec: Rec = o.spec ?? {};
  const { targetCPUUtilizationPercentage: cpu, ...rest } = spec;
  o.spec = rest;
  if (typeof cpu === 'number') o.spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } } }];
  const stored = (o.status as { [STORED_STATUS]?: Rec } | undefined)?.[STORED_STATUS];
  if (stored) o.status = structuredClone(stored);
  else if (o.status) {
    const { currentCPUUtilizationPercentage: cur, ...st } = o.status as Rec;
    o.status = st;
    if (typeof cur === 'number') o.status.currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: cur } } }];
  }
}

/** v2 -> v1 in place: the first CPU utilization target and its current value; other metrics are dropped. */
export function hpaV2ToV1(o: Obj): void {
  if (o.apiVersion === HPA_V1) return;
  o.apiVersion = HPA_V1;
  const { metrics, behavior: _b, ...spec } = (o.spec ?? {}) as Rec;
  const target = (metrics as Rec[] | undefined)?.find((m) => isCpu(m) && m.resource.target?.type === 'Utilization');
  o.spec = spec;
  if (typeof target?.resource.target.averageUtilization === 'number') o.spec.targetCPUUtilizationPercentage = target.resource.target.averageUtilization;
  const v2Status = o.status;
  const { currentMetrics, conditions: _c, ...st } = (o.status ?? {}) as Rec;
  const current = (currentMetrics as Rec[] | undefined)?.find(isCpu);
  o.status = { ...st, currentReplicas: st.currentReplicas ?? 0, desiredReplicas: st.desiredReplicas ?? 0 };
  if (typeof current?.resource.current?.averageUtilization === 'number') o.status.currentCPUUtilizationPercentage = current.resource.current.averageUtilization;
  if (v2Status) Object.defineProperty(o.status, STORED_STATUS, { value: v2Status, enumerable: false });
}
