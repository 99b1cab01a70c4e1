// The HorizontalPodAutoscaler controller (upstream's pkg/controller/podautoscaler): every sync
// period each HPA reads its target's scale subresource, the target's pods (shared informer) and
// their metrics.k8s.io PodMetrics, computes the replica count each Resource metric asks for
// (hpa-rules.ts), stabilizes and rate-limits it by the HPA's behavior, writes the new count through
// the scale subresource and the HPA's status with upstream's conditions, reasons and events.
// Stabilization recommendations and scale events live in memory, as upstream's.
import type { Logger } from '../../../api/log.ts';
import { formatQuantity } from '../../../api/quantity-format.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { matchLabels, parseLabelSelector, type Requirement, SelectorError } from '../../apiserver/selectors.ts';
import { isoNow, type Obj } from '../../apiserver/strategies/types.ts';
import { recordEvent } from '../../client/events.ts';
import { keyOf } from '../../client/informer.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { type CacheSource, cacheFor, type SharedInformers } from '../workloads/shared-informers.ts';
import {
  type Condition,
  limitByRate,
  milliValue,
  podMetricsOf,
  type Recommendation,
  recordScaleEvent,
  resourceAverageValueReplicas,
  resourceUtilizationReplicas,
  type Rules,
  type ScaleEvent,
  setCondition,
  stabilize,
} from './hpa-rules.ts';

type Rec = Record<string, any>;

const COMPONENT = 'horizontal-pod-autoscaler';
const HPA_PATH = '/apis/autoscaling/v2/horizontalpodautoscalers';

export interface HPAControllerOptions {
  informers?: SharedInformers;
  /** --horizontal-pod-autoscaler-sync-period (upstream 15 s) */
  syncPeriodMs?: number;
}

interface Memory {
  recs: Recommendation[];
  ups: ScaleEvent[];
  downs: ScaleEvent[];
}

/** A metric that could not be computed: the ScalingActive condition it sets and the error. */
class MetricError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class HorizontalPodAutoscalerController {
  private readonly hpas: CacheSource;
  private readonly pods: CacheSource;
  private readonly memory = new Map<string, Memory>();
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private draining = false;
  private stopped = false;

  constructor(
    private readonly client: LoopbackClient,
    private readonly log: Logger,
    private readonly o: HPAControllerOptions = {},
  ) {
    this.hpas = cacheFor(
      client,
      log,
      HPA_PATH,
      {
        add: (h) => this.enqueue(keyOf(h)),
        // its own status writes do not wake it: only a changed spec does
        update: (h, old) => JSON.stringify(h.spec) !== JSON.stringify(old.spec) && this.enqueue(keyOf(h)),
        delete: (h) => this.memory.delete(keyOf(h)),
      },
      o.informers,
    );
    this.pods = cacheFor(client, log, '/api/v1/pods', {}, o.informers);
  }

  async start(): Promise<void> {
    this.hpas.start();
    this.pods.start();
    await Promise.all([this.hpas.synced, this.pods.synced]);
    this.timer = setInterval(() => {
      for (const k of this.hpas.cache.keys()) this.enqueue(k);
    }, this.o.syncPeriodMs ?? 15_000);
    this.timer.unref();
    for (const k of this.hpas.cache.keys()) this.enqueue(k);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.hpas.stop();
    this.pods.stop();
  }

  private enqueue(key: string): void {
    this.pending.add(key);
    void this.drain();
  }

  /** One HPA at a time; keys queued meanwhile run after (each at most once per pass). */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.pending.size && !this.stopped) {
        const [key] = this.pending;
        this.pending.delete(key!);
        const hpa = this.hpas.cache.get(key!);
        if (!hpa) continue;
        await this.reconcile(structuredClone(hpa)).catch((e: unknown) => this.log.warn({ err: e, hpa: key }, 'horizontal pod autoscaler sync failed'));
      }
    } finally {
      this.draining = false;
    }
  }

  private event(hpa: Obj, type: 'Normal' | 'Warning', reason: string, message: string): void {
    void recordEvent(this.client, { ...hpa, kind: 'HorizontalPodAutoscaler', apiVersion: 'autoscaling/v2' }, type, reason, message, COMPONENT);
  }

  /** The scale subresource's path of scaleTargetRef, found through discovery as upstream's RESTMapper does. */
  private async scalePath(ns: string, ref: Rec): Promise<string> {
    const gv: string = ref.apiVersion || 'v1';
    const base = gv.includes('/') ? `/apis/${gv}` : `/api/${gv}`;
    const group = gv.includes('/') ? gv.split('/')[0] : '';
    const list = await this.client.request<{ resources?: { name: string; kind: string }[] }>('GET', base).catch(() => ({ resources: [] }));
    const r = (list.resources ?? []).find((x) => x.kind === ref.kind && !x.name.includes('/'));
    if (!r) throw new Error(`no matches for kind "${ref.kind}" in group "${group}"`);
    return `${base}/namespaces/${ns}/${r.name}/${ref.name}/scale`;
  }

  private async reconcile(hpa: Obj): Promise<void> {
    const key = keyOf(hpa);
    const ns = hpa.metadata.namespace!;
    const nowMs = Date.now();
    const now = isoNow(new Date(nowMs));
    const spec: Rec = hpa.spec;
    const before = JSON.stringify(hpa.status ?? {});
    hpa.status ??= {};
    let conds: Condition[] = hpa.status.conditions ?? [];
    const cond = (type: string, status: Condition['status'], reason: string, message: string) =>
      (conds = setCondition(conds, type, status, reason, message, now));
    const saveStatus = async (fill: (st: Rec) => void) => {
      fill(hpa.status);
      hpa.status.conditions = conds;
      if (JSON.stringify(hpa.status) === before) return;
      await this.client.update(`/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/${hpa.metadata.name}/status`, hpa);
    };

    let path: string;
    let scale: Rec;
    try {
      path = await this.scalePath(ns, spec.scaleTargetRef ?? {});
      scale = await this.client.get(path);
    } catch (e) {
      this.event(hpa, 'Warning', 'FailedGetScale', messageOf(e));
      cond('AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${messageOf(e)}`);
      await saveStatus(() => undefined);
      return;
    }
    cond('AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale");

    const current: number = scale.spec?.replicas ?? 0;
    const min: number = spec.minReplicas ?? 1;
    const max: number = spec.maxReplicas;
    let desired = 0;
    let reason = '';
    let rescale = true;
    let statuses: Rec[] = [];
    if (current === 0 && min !== 0) {
      rescale = false;
      cond('ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else if (current > max) {
      reason = 'Current number of replicas above Spec.MaxReplicas';
      desired = max;
    } else if (current < min) {
      reason = 'Current number of replicas below Spec.MinReplicas';
      desired = min;
    } else {
      const computed = await this.computeReplicas(hpa, scale, nowMs, cond);
      statuses = computed.statuses;
      if (computed.replicas === -1) {
        await saveStatus((st) => {
          st.currentReplicas = current;
          st.currentMetrics = statuses;
        });
        this.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', computed.error!);
        return;
      }
      desired = computed.replicas;
      if (desired > current) reason = `${computed.metric} above target`;
      if (desired < current) reason = 'All metrics below target';
      desired = this.normalize(key, spec, current, desired, min, nowMs, cond);
      rescale = desired !== current;
    }

    if (rescale) {
      try {
        await this.client.update(path, { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { ...scale.metadata }, spec: { replicas: desired } });
      } catch (e) {
        this.event(hpa, 'Warning', 'FailedRescale', `New size: ${desired}; reason: ${reason}; error: ${messageOf(e)}`);
        cond('AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${messageOf(e)}`);
        await saveStatus((st) => {
          st.currentReplicas = current;
          st.currentMetrics = statuses;
        });
        return;
      }
      cond('AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`);
      this.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${reason}`);
      this.recordEvent(key, spec, current, desired, nowMs);
      this.log.info({ hpa: key, from: current, to: desired, reason }, 'rescaled');
    } else desired = current;
    await saveStatus((st) => {
      st.currentReplicas = current;
      st.desiredReplicas = desired;
      st.currentMetrics = statuses.length ? statuses : undefined;
      if (!st.currentMetrics) delete st.currentMetrics;
      if (rescale) st.lastScaleTime = now;
    });
  }

  private mem(key: string, current: number, nowMs: number, downWindow: number): Memory {
    let m = this.memory.get(key);
    if (!m) {
      // maybeInitScaleDownStabilizationWindow: a restarted controller does not scale down at once
      m = { recs: downWindow > 0 ? [{ replicas: current, atMs: nowMs }] : [], ups: [], downs: [] };
      this.memory.set(key, m);
    }
    return m;
  }

  /** normalizeDesiredReplicasWithBehaviors */
  private normalize(
    key: string,
    spec: Rec,
    current: number,
    desired: number,
    min: number,
    nowMs: number,
    cond: (t: string, s: Condition['status'], r: string, m: string) => void,
  ): number {
    const up: Rules = spec.behavior.scaleUp;
    const down: Rules = spec.behavior.scaleDown;
    const m = this.mem(key, current, nowMs, down.stabilizationWindowSeconds);
    const st = stabilize(m.recs, current, desired, up, down, nowMs);
    m.recs = st.recs;
    if (st.replicas !== desired) cond('AbleToScale', 'True', st.reason, st.message);
    else cond('AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');
    const limited = limitByRate({ current, desired: st.replicas, min, max: spec.maxReplicas, up, down, ups: m.ups, downs: m.downs, nowMs });
    cond('ScalingLimited', limited.replicas === st.replicas ? 'False' : 'True', limited.reason, limited.message);
    return limited.replicas;
  }

  private recordEvent(key: string, spec: Rec, from: number, to: number, nowMs: number): void {
    const m = this.mem(key, from, nowMs, 0);
    if (to > from) m.ups = recordScaleEvent(m.ups, to - from, spec.behavior.scaleUp, nowMs);
    else if (to < from) m.downs = recordScaleEvent(m.downs, from - to, spec.behavior.scaleDown, nowMs);
  }

  /** computeReplicasForMetrics: the highest proposal of the metrics that worked, or -1 and the first error. */
  private async computeReplicas(
    hpa: Obj,
    scale: Rec,
    nowMs: number,
    cond: (t: string, s: Condition['status'], r: string, m: string) => void,
  ): Promise<{ replicas: number; metric?: string; statuses: Rec[]; error?: string }> {
    const metrics: Rec[] = hpa.spec.metrics ?? [];
    const selectorText: string | undefined = scale.status?.selector;
    if (!selectorText) {
      this.event(hpa, 'Warning', 'SelectorRequired', 'selector is required');
      cond('ScalingActive', 'False', 'InvalidSelector', "the HPA target's scale is missing a selector");
      return { replicas: -1, statuses: [], error: 'selector is required' };
    }
    let selector: Requirement[];
    try {
      selector = parseLabelSelector(selectorText);
    } catch (e) {
      if (!(e instanceof SelectorError)) throw e;
      const msg = `couldn't convert selector into a corresponding internal selector object: ${e.message}`;
      this.event(hpa, 'Warning', 'InvalidSelector', msg);
      cond('ScalingActive', 'False', 'InvalidSelector', msg);
      return { replicas: -1, statuses: [], error: msg };
    }
    const ns = hpa.metadata.namespace!;
    const pods = [...this.pods.cache.values()].filter((p) => p.metadata.namespace === ns && matchLabels(selector, p.metadata.labels));
    const specReplicas: number = scale.spec?.replicas ?? 0;
    let podMetrics: Promise<Rec[]> | undefined;
    const fetchMetrics = () =>
      (podMetrics ??= this.client.list(`/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods`, { labelSelector: selectorText }).then((l) => l.items as Rec[]));

    const statuses: Rec[] = [];
    let replicas = 0;
    let metricName = '';
    let invalid = 0;
    let firstError: MetricError | undefined;
    for (const m of metrics) {
      try {
        const r = await this.resourceMetric(m, specReplicas, pods, fetchMetrics, nowMs);
        statuses.push(r.status);
        if (replicas === 0 || r.replicas > replicas) {
          replicas = r.replicas;
          metricName = r.name;
        }
      } catch (e) {
        const err = e instanceof MetricError ? e : new MetricError('FailedGetResourceMetric', messageOf(e));
        this.event(hpa, 'Warning', err.reason, err.message);
        firstError ??= err;
        invalid++;
        statuses.push({ type: '' });
      }
    }
    const error = firstError && `invalid metrics (${invalid} invalid out of ${metrics.length}), first error is: ${firstError.message}`;
    if (invalid >= metrics.length || (invalid > 0 && replicas < specReplicas)) {
      cond('ScalingActive', 'False', firstError!.reason, `the HPA was unable to compute the replica count: ${firstError!.message}`);
      return { replicas: -1, statuses, error };
    }
    cond('ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${metricName}`);
    return { replicas, metric: metricName, statuses, error };
  }

  /** computeStatusForResourceMetric; other metric types need a custom or external metrics API, which is not served. */
  private async resourceMetric(
    m: Rec,
    current: number,
    pods: Obj[],
    fetch: () => Promise<Rec[]>,
    nowMs: number,
  ): Promise<{ replicas: number; name: string; status: Rec }> {
    if (m.type !== 'Resource' || !m.resource) {
      const field = m.type === 'ContainerResource' ? 'containerResource' : String(m.type ?? '').toLowerCase();
      const name = m[field]?.metric?.name ?? m[field]?.name ?? '';
      throw new MetricError(
        `FailedGet${m.type}Metric`,
        `unable to get metric ${name}: ${m.type} metrics are not supported by this cluster (no custom or external metrics API)`,
      );
    }
    const resource: string = m.resource.name;
    const target: Rec = m.resource.target ?? {};
    let items: Rec[];
    try {
      items = await fetch();
    } catch (e) {
      throw new MetricError(
        'FailedGetResourceMetric',
        `failed to get ${resource} utilization: unable to get metrics for resource ${resource}: unable to fetch metrics from resource metrics API: ${e instanceof ApiError ? e.message : messageOf(e)}`,
      );
    }
    const metrics = podMetricsOf(items, resource);
    const what = target.averageValue !== undefined && target.averageValue !== null ? 'usage' : 'utilization';
    if (!metrics.size)
      throw new MetricError(
        'FailedGetResourceMetric',
        `failed to get ${resource} ${what}: unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`,
      );
    const input = { currentReplicas: current, pods, metrics, resource, nowMs };
    try {
      if (what === 'usage') {
        const p = resourceAverageValueReplicas(input, milliValue(target.averageValue) ?? 0);
        return {
          replicas: p.replicas,
          name: `${resource} resource`,
          status: { type: 'Resource', resource: { name: resource, current: { averageValue: formatQuantity(p.rawAverageMilli / 1000) } } },
        };
      }
      if (typeof target.averageUtilization !== 'number')
        throw new Error('invalid resource metric source: neither an average utilization target nor an average value (usage) target was set');
      const p = resourceUtilizationReplicas(input, target.averageUtilization);
      return {
        replicas: p.replicas,
        name: `${resource} resource utilization (percentage of request)`,
        status: {
          type: 'Resource',
          resource: { name: resource, current: { averageUtilization: p.utilization, averageValue: formatQuantity(p.rawAverageMilli / 1000) } },
        },
      };
    } catch (e) {
      throw new MetricError('FailedGetResourceMetric', `failed to get ${resource} ${what}: ${messageOf(e)}`);
    }
  }
}
