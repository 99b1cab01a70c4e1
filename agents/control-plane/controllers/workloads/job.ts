// Job controller: runs pods from the template until `completions` succeed (parallelism at a
// time, NonIndexed or Indexed), replaces failed ones after an exponential back-off, fails the Job
// past backoffLimit or activeDeadlineSeconds, honours suspend, counts every pod once through the
// job-tracking finalizer, and deletes finished Jobs after ttlSecondsAfterFinished.
import type { Logger } from '../../../api/log.ts';
import { isoNow, type Obj } from '../../apiserver/strategies/types.ts';
import { keyOf } from '../../client/informer.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { recordEvent } from '../../client/events.ts';
import { type ControllerOptions, inNamespace, splitKey, isConflict, isNotFound, OwnerController } from './controller.ts';
import { type Any, controllerOf, controllerRefTo, isActive, isReady, isTerminal, selectorMatcher, timeMs } from './meta.ts';
import {
  formatIndexes,
  holds,
  indexOf,
  INDEX_KEY,
  jobPodLabels,
  orphanFinalizerRemovable,
  outcome,
  parseIndexes,
  planJob,
  tally,
  TRACKING_FINALIZER,
} from './job-rules.ts';
import { podFromTemplate } from './pod-template.ts';

const COMPONENT = 'job-controller';
/** queue keys of pods whose finalizer may outlive their Job (a namespace never holds ':') */
const ORPHAN_POD = 'pod:';

export interface JobControllerOptions extends ControllerOptions {
  /** first back-off after a pod failure (upstream 10 s); tests shorten it */
  backoffBaseMs?: number;
}

/** Indexed pods: hostname <job>-<index> and JOB_COMPLETION_INDEX from the index annotation. */
function withCompletionIndex(spec: Any, job: string, index: number): void {
  spec.hostname ??= `${job}-${index}`;
  for (const c of spec.containers ?? []) {
    c.env = [
      ...(c.env ?? []).filter((e: Any) => e.name !== 'JOB_COMPLETION_INDEX'),
      { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${INDEX_KEY}']` } } },
    ];
  }
}

function setCond(status: Any, type: string, st: 'True' | 'False', reason: string, message: string, now: number): void {
  const iso = isoNow(new Date(now));
  const old = (status.conditions ?? []).find((c: Any) => c.type === type);
  if (old && old.status === st && old.reason === reason) return;
  const c = { type, status: st, reason, message, lastProbeTime: iso, lastTransitionTime: old?.status === st ? old.lastTransitionTime : iso };
  status.conditions = [...(status.conditions ?? []).filter((x: Any) => x.type !== type), c];
}

export class JobController extends OwnerController {
  private readonly lastFailure = new Map<string, number>();

  constructor(
    client: LoopbackClient,
    log: Logger,
    private readonly jo: JobControllerOptions = {},
  ) {
    super(client, log, jo, { path: '/apis/batch/v1/jobs', kind: 'Job', apiVersion: 'batch/v1', childPath: '/api/v1/pods' });
  }

  protected selects(job: Obj, pod: Obj): boolean {
    if (job.spec?.selector) return selectorMatcher(job.spec.selector)(pod.metadata.labels);
    return pod.metadata.labels?.['batch.kubernetes.io/controller-uid'] === job.metadata.uid;
  }

  private jobPath(job: Obj): string {
    return `${inNamespace(this.kind.path, job.metadata.namespace!)}/${job.metadata.name}`;
  }

  /** A pod holding the finalizer that no Job in our cache controls: check it on its own key. */
  protected childUnowned(pod: Obj): void {
    if (holds(pod)) this.enqueue(ORPHAN_POD + keyOf(pod));
  }

  /** The Job is gone: its pods' events may have come while it was still cached, so look at each (upstream's deleteJob). */
  private checkPodsOfGoneJob(key: string): void {
    const { namespace, name } = splitKey(key);
    for (const p of this.children.cache.values()) {
      if (p.metadata.namespace === namespace && controllerOf(p)?.name === name) this.childUnowned(p);
    }
  }

  /** Lifts the finalizer of an orphaned pod, or one whose Job is gone or finished. */
  private async syncOrphanPod(podKey: string): Promise<void> {
    const pod = this.children.cache.get(podKey);
    if (!pod) return;
    const ref = controllerOf(pod);
    const job = ref ? this.owners.cache.get(`${pod.metadata.namespace}/${ref.name}`) : undefined;
    if (orphanFinalizerRemovable(pod, job)) await this.releaseFinalizer(pod);
  }

  /** Removes the tracking finalizer (the resourceVersion makes a stale view a 409); false on 409. */
  private async releaseFinalizer(p: Obj): Promise<boolean> {
    const rest = (p.metadata.finalizers ?? []).filter((f: string) => f !== TRACKING_FINALIZER);
    try {
      await this.client.patch(
        `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`,
        { metadata: { resourceVersion: p.metadata.resourceVersion, finalizers: rest.length ? rest : null } },
        'merge',
      );
    } catch (e) {
      if (isConflict(e)) return false;
      if (!isNotFound(e)) throw e;
    }
    return true;
  }

  protected async sync(key: string): Promise<void> {
    if (key.startsWith(ORPHAN_POD)) return this.syncOrphanPod(key.slice(ORPHAN_POD.length));
    let job = this.owners.cache.get(key);
    if (!job) {
      this.lastFailure.delete(key);
      this.checkPodsOfGoneJob(key);
      return;
    }
    const now = this.now();
    if (await this.expireAfterTTL(job, now)) return;
    const pods = await this.claim(job);
    job = await this.count(job, pods, now);
    const status: Any = structuredClone(job.status ?? {});
    const unc = status.uncountedTerminatedPods ?? {};
    const active = pods.filter(isActive);
    const restarts =
      job.spec?.template?.spec?.restartPolicy === 'OnFailure'
        ? active.reduce((n, p) => n + (p.status?.containerStatuses ?? []).reduce((m: number, c: Any) => m + (c.restartCount ?? 0), 0), 0)
        : 0;
    const completed = parseIndexes(status.completedIndexes);
    for (const p of pods) if (p.status?.phase === 'Succeeded' && indexOf(p) >= 0) completed.add(indexOf(p));
    const counts = {
      succeeded: (status.succeeded ?? 0) + (unc.succeeded ?? []).length,
      failed: (status.failed ?? 0) + (unc.failed ?? []).length + restarts,
      completed,
      lastFailure: this.lastFailure.get(key),
    };
    if (!status.startTime && !job.spec?.suspend) status.startTime = isoNow(new Date(now));
    const plan =
      this.expectations.satisfied(key) || outcome(job)
        ? planJob({ ...job, status }, active, counts, now, this.jo.backoffBaseMs)
        : { create: 0, indexes: [], remove: [] };
    const created = job.metadata.deletionTimestamp ? 0 : await this.act(job, key, plan.create, plan.indexes, plan.remove);

    if (job.spec?.completionMode === 'Indexed') status.completedIndexes = formatIndexes(completed);
    if (job.spec?.suspend) setCond(status, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now);
    else if ((status.conditions ?? []).some((c: Any) => c.type === 'Suspended' && c.status === 'True'))
      setCond(status, 'Suspended', 'False', 'JobResumed', 'Job resumed', now);
    if (plan.target) {
      setCond(status, plan.target.type, 'True', plan.target.reason, plan.target.message, now);
      const asEvent = { ...job, kind: 'Job', apiVersion: 'batch/v1' };
      if (plan.target.type === 'FailureTarget') void recordEvent(this.client, asEvent, 'Warning', plan.target.reason, plan.target.message, COMPONENT);
    }
    const remaining = active.length - plan.remove.length;
    const holding = pods.some((p) => holds(p) && (isTerminal(p) || p.metadata.deletionTimestamp));
    const decided = outcome({ ...job, status });
    const finished = (status.conditions ?? []).some((c: Any) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
    if (decided && !finished && remaining === 0 && !holding && !(unc.succeeded ?? []).length && !(unc.failed ?? []).length) {
      const target = (status.conditions ?? []).find((c: Any) => c.type === (decided === 'Complete' ? 'SuccessCriteriaMet' : 'FailureTarget'));
      setCond(status, decided, 'True', target?.reason ?? 'CompletionsReached', target?.message ?? '', now);
      if (decided === 'Complete') status.completionTime = isoNow(new Date(now));
      void recordEvent(
        this.client,
        { ...job, kind: 'Job', apiVersion: 'batch/v1' },
        'Normal',
        decided === 'Complete' ? 'Completed' : 'BackoffLimitExceeded',
        decided === 'Complete' ? 'Job completed' : (target?.message ?? 'Job failed'),
        COMPONENT,
      );
    }
    status.active = remaining + created;
    status.ready = active.filter(isReady).length;
    status.terminating = pods.filter((p) => p.metadata.deletionTimestamp && !isTerminal(p)).length;
    status.succeeded ??= 0;
    status.failed ??= 0;
    const stored = await this.writeStatus(this.jobPath(job), job, status);
    if (plan.wakeAt !== undefined && !decided) this.enqueueAfter(key, plan.wakeAt - now + 50);
    await this.expireAfterTTL(stored, now);
  }

  /** Records finished pods, releases their finalizers and moves settled ones into the counters. */
  private async count(job: Obj, pods: Obj[], now: number): Promise<Obj> {
    const t = tally(job, pods);
    const path = this.jobPath(job);
    if (t.newFailed.length) this.lastFailure.set(keyOf(job), now);
    if (t.newSucceeded.length || t.newFailed.length) {
      const status = structuredClone(job.status ?? {});
      const unc = status.uncountedTerminatedPods ?? {};
      status.uncountedTerminatedPods = { succeeded: [...(unc.succeeded ?? []), ...t.newSucceeded], failed: [...(unc.failed ?? []), ...t.newFailed] };
      job = await this.writeStatus(path, job, status);
    }
    const released = new Set<string>();
    await Promise.all(
      t.release.map(async (p) => {
        if (await this.releaseFinalizer(p)) released.add(p.metadata.uid!);
      }),
    );
    const unc = job.status?.uncountedTerminatedPods ?? {};
    const settledS = new Set([...t.settledSucceeded, ...(unc.succeeded ?? []).filter((u: string) => released.has(u))]);
    const settledF = new Set([...t.settledFailed, ...(unc.failed ?? []).filter((u: string) => released.has(u))]);
    if (!settledS.size && !settledF.size) return job;
    const status = structuredClone(job.status ?? {});
    status.succeeded = (status.succeeded ?? 0) + settledS.size;
    status.failed = (status.failed ?? 0) + settledF.size;
    status.uncountedTerminatedPods = {
      succeeded: (unc.succeeded ?? []).filter((u: string) => !settledS.has(u)),
      failed: (unc.failed ?? []).filter((u: string) => !settledF.has(u)),
    };
    return this.writeStatus(path, job, status);
  }

  /** Starts and removes pods; returns how many were created. */
  private async act(job: Obj, key: string, create: number, indexes: number[], remove: Obj[]): Promise<number> {
    const ns = job.metadata.namespace!;
    const src = this.eventSource(job, COMPONENT);
    const removed = await this.podControl.delete(src, key, remove);
    if (removed) throw removed;
    const owner = controllerRefTo(job, 'batch/v1', 'Job');
    const slots: (number | undefined)[] = [...indexes, ...Array.from({ length: create }, () => undefined)];
    const pods = slots.map((index) =>
      podFromTemplate(job.spec?.template, {
        namespace: ns,
        owner,
        generateName: index === undefined ? `${job.metadata.name}-` : `${job.metadata.name}-${index}-`,
        labels: { ...jobPodLabels(job), ...(index === undefined ? {} : { [INDEX_KEY]: String(index) }) },
        annotations: index === undefined ? undefined : { [INDEX_KEY]: String(index) },
        finalizers: [TRACKING_FINALIZER],
        spec: (s) => (index === undefined ? undefined : withCompletionIndex(s, job.metadata.name!, index)),
      }),
    );
    const made = await this.podControl.create(src, key, pods);
    if (made) throw made;
    return pods.length;
  }

  /** Deletes a finished Job whose ttlSecondsAfterFinished has passed; true when it did. */
  private async expireAfterTTL(job: Obj, now: number): Promise<boolean> {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (ttl === undefined || ttl === null || job.metadata.deletionTimestamp) return false;
    const fin = (job.status?.conditions ?? []).find((c: Any) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
    if (!fin) return false;
    const at = timeMs(job.status?.completionTime ?? fin.lastTransitionTime) + ttl * 1000;
    if (at > now) {
      this.enqueueAfter(keyOf(job), at - now + 50);
      return false;
    }
    try {
      await this.client.request('DELETE', this.jobPath(job), { body: { propagationPolicy: 'Background', preconditions: { uid: job.metadata.uid } } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    return true;
  }
}
