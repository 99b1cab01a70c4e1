// The scheduler: an API client that binds pending pods (no nodeName, schedulerName
// default-scheduler) to fitting nodes through pods/binding. Unschedulable pods get PodScheduled=False
// with the "0/N nodes are available" message and are retried at once whenever a node or pod
// changes (a node turning Ready must never wait behind a back-off), and periodically anyway.
//
// Decisions read node usage from the SchedulerCache (kept by the informers and by the scheduler's
// own assumptions), so each is one pass over the nodes. A decided pod is assumed at once and its
// binding sent in the background, up to MAX_BINDING_IN_FLIGHT at a time, while the next pod is
// decided; a failed binding forgets the assumption and retries the pod after a back-off.
import type { Logger } from '../../api/log.ts';
import { ApiError } from '../apiserver/errors.ts';
import { isoNow, type Obj } from '../apiserver/strategies/types.ts';
import { Informer, keyOf } from '../client/informer.ts';
import { ANN_SELECTED_NODE } from '../controllers/storage/binding-rules.ts';
import { claimsToAnnotate, podVolumes, volumeUnfitReason, type VolumeWorld } from './volume-binding.ts';
import type { LoopbackClient } from '../client/loopback.ts';
import { SchedulerCache } from './cache.ts';
import { EventQueue } from './event-queue.ts';
import { schedule } from './filters.ts';

const SCHEDULER_NAME = 'default-scheduler';
const RETRY_MS = 15_000;
const EXPIRE_EVERY_MS = 1_000;
export const MAX_BINDING_IN_FLIGHT = 16;
/** failed bindings back off like upstream's pod back-off: 1 s doubling to 10 s */
const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 10_000;
/**
 * In-process API calls resolve in microtasks, so a busy drain would never let timers and I/O run:
 * the API server's sockets and watch deliveries in this same process would starve. Yield this often.
 */
const YIELD_EVERY_MS = 10;
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

export function isPending(pod: Obj): boolean {
  const phase = pod.status?.phase;
  return (
    !pod.spec?.nodeName &&
    (pod.spec?.schedulerName ?? SCHEDULER_NAME) === SCHEDULER_NAME &&
    !pod.metadata.deletionTimestamp &&
    phase !== 'Succeeded' &&
    phase !== 'Failed' &&
    !(pod.spec?.schedulingGates ?? []).length
  );
}

/** Queue order: higher priority first, then older first (upstream's PrioritySort). */
export function queueOrder(a: Obj, b: Obj): number {
  return (b.spec?.priority ?? 0) - (a.spec?.priority ?? 0) || (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '');
}

function nodeSignature(n: Obj): string {
  return JSON.stringify([
    n.spec,
    n.metadata.labels,
    n.status?.allocatable,
    n.status?.conditions?.map((c: { type: string; status: string }) => [c.type, c.status]),
  ]);
}

export class Scheduler {
  private readonly nodes: Informer;
  private readonly pods: Informer;
  /** claims, volumes and classes for the VolumeBinding filter */
  private readonly storage: Informer[];
  private readonly cache = new SchedulerCache();
  private readonly events: EventQueue;
  private readonly queue = new Set<string>();
  private readonly unschedulable = new Map<string, string>();
  private readonly backoff = new Map<string, { attempts: number; timer?: NodeJS.Timeout }>();
  private readonly inFlight = new Set<Promise<void>>();
  private draining = false;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(
    private readonly client: LoopbackClient,
    private readonly log: Logger,
  ) {
    this.events = new EventQueue(client, SCHEDULER_NAME);
    this.nodes = new Informer(
      client,
      '/api/v1/nodes',
      {
        add: (n) => {
          this.cache.setNode(n);
          this.flushUnschedulable();
        },
        update: (n, old) => {
          this.cache.setNode(n);
          if (nodeSignature(n) !== nodeSignature(old)) this.flushUnschedulable();
        },
        delete: (n) => {
          this.cache.removeNode(n.metadata.name!);
          this.flushUnschedulable();
        },
      },
      log,
    );
    this.pods = new Informer(
      client,
      '/api/v1/pods',
      {
        add: (p) => this.onPod(p),
        update: (p) => this.onPod(p),
        delete: (p) => {
          const k = keyOf(p);
          this.cache.deletePod(p);
          this.queue.delete(k);
          this.unschedulable.delete(k);
          this.clearBackoff(k);
          this.flushUnschedulable();
        },
      },
      log,
    );
    // a claim bound or a volume made may let an unschedulable pod go
    const flush = { add: () => this.flushUnschedulable(), update: () => this.flushUnschedulable() };
    this.storage = ['/api/v1/persistentvolumeclaims', '/api/v1/persistentvolumes', '/apis/storage.k8s.io/v1/storageclasses'].map(
      (path) => new Informer(client, path, flush, log),
    );
  }

  private get volumeWorld(): VolumeWorld {
    const [claims, volumes, classes] = this.storage.map((i) => i.cache);
    return { claims, volumes, classes };
  }

  async start(): Promise<void> {
    this.nodes.start();
    this.pods.start();
    for (const i of this.storage) i.start();
    await Promise.all([this.nodes.synced, this.pods.synced, ...this.storage.map((i) => i.synced)]);
    this.timers = [setInterval(() => this.flushUnschedulable(), RETRY_MS), setInterval(() => this.expireAssumed(), EXPIRE_EVERY_MS)];
    for (const t of this.timers) t.unref();
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    for (const b of this.backoff.values()) clearTimeout(b.timer);
    this.events.stop();
    this.nodes.stop();
    this.pods.stop();
    for (const i of this.storage) i.stop();
  }

  private onPod(p: Obj): void {
    const k = keyOf(p);
    this.cache.observePod(p);
    if (p.spec?.nodeName) this.clearBackoff(k);
    if (isPending(p) && !this.cache.isAssumed(k)) {
      if (!this.unschedulable.has(k) && !this.backoff.get(k)?.timer) this.queue.add(k);
    } else {
      this.queue.delete(k);
      this.unschedulable.delete(k);
    }
    this.kick();
  }

  private flushUnschedulable(): void {
    for (const k of this.unschedulable.keys()) this.queue.add(k);
    this.kick();
  }

  /** Assumptions whose binding returned but never showed on the watch: release and look again. */
  private expireAssumed(): void {
    for (const k of this.cache.expire(Date.now())) {
      this.log.warn({ pod: k }, 'assumed pod expired before the watch confirmed its binding');
      this.queue.add(k);
    }
    this.kick();
  }

  private kick(): void {
    if (this.draining || this.stopped || !this.queue.size) return;
    this.draining = true;
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.size && !this.stopped) {
        const pending = [...this.queue]
          .map((k) => this.pods.cache.get(k))
          .filter((p): p is Obj => !!p)
          .sort(queueOrder);
        this.queue.clear();
        let turn = performance.now();
        for (const stale of pending) {
          if (this.stopped) return;
          if (performance.now() - turn > YIELD_EVERY_MS) {
            await nextTurn();
            turn = performance.now();
          }
          while (this.inFlight.size >= MAX_BINDING_IN_FLIGHT) await Promise.race(this.inFlight);
          // the informer may have moved on while we waited
          const pod = this.pods.cache.get(keyOf(stale));
          if (pod && isPending(pod) && !this.cache.isAssumed(keyOf(pod))) this.scheduleOne(pod);
        }
      }
    } finally {
      this.draining = false;
      if (this.queue.size) this.kick();
    }
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Decides synchronously; the API writes that follow run in the background. */
  private scheduleOne(pod: Obj): void {
    const world = this.volumeWorld;
    const vols = podVolumes(pod, world);
    const decision = schedule(
      pod,
      this.cache.nodes(),
      (n) => this.cache.usage(n),
      (n) => volumeUnfitReason(vols, n, world),
    );
    if (decision.node) {
      this.cache.assume(pod, decision.node);
      this.track(this.bind(pod, decision.node, claimsToAnnotate(vols, decision.node)));
    } else {
      this.track(this.markUnschedulable(pod, decision.message!));
    }
  }

  private async bind(pod: Obj, node: string, claims: Obj[] = []): Promise<void> {
    const k = keyOf(pod);
    const ns = pod.metadata.namespace!;
    const name = pod.metadata.name!;
    try {
      // upstream's VolumeBinding PreBind: the claims learn their node before the pod is bound
      for (const c of claims)
        await this.client.patch(
          `/api/v1/namespaces/${ns}/persistentvolumeclaims/${c.metadata.name}`,
          { metadata: { annotations: { [ANN_SELECTED_NODE]: node } } },
          'merge',
        );
      await this.client.create(`/api/v1/namespaces/${ns}/pods/${name}/binding`, {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace: ns, uid: pod.metadata.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      });
      this.cache.finishBinding(k, Date.now());
      this.unschedulable.delete(k);
      this.log.debug({ pod: k, node }, 'bound pod');
      this.events.record(pod, 'Normal', 'Scheduled', `Successfully assigned ${k} to ${node}`);
    } catch (e) {
      this.cache.forget(k);
      // gone, bound by someone else or being deleted: the informer brings the pod's real state
      if (e instanceof ApiError && (e.code === 409 || e.code === 404)) return;
      this.log.warn({ err: e, pod: k, node }, 'binding failed; will retry');
      this.retryLater(k);
    }
  }

  private retryLater(k: string): void {
    if (this.stopped) return;
    const b = this.backoff.get(k) ?? { attempts: 0 };
    clearTimeout(b.timer);
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** b.attempts);
    b.attempts++;
    b.timer = setTimeout(() => {
      b.timer = undefined;
      this.queue.add(k);
      this.kick();
    }, delay);
    b.timer.unref();
    this.backoff.set(k, b);
  }

  private clearBackoff(k: string): void {
    clearTimeout(this.backoff.get(k)?.timer);
    this.backoff.delete(k);
  }

  private async markUnschedulable(pod: Obj, message: string): Promise<void> {
    const k = keyOf(pod);
    const before = this.unschedulable.get(k);
    this.unschedulable.set(k, message);
    if (before === message) return;
    this.log.info({ pod: k, message }, 'pod unschedulable');
    const cond = (pod.status?.conditions ?? []).find((c: { type: string }) => c.type === 'PodScheduled');
    if (cond?.status === 'False' && cond.message === message) return;
    try {
      await this.client.patch(
        `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/status`,
        {
          status: {
            conditions: [
              { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: isoNow(new Date()) },
            ],
          },
        },
        'strategic',
      );
      this.events.record(pod, 'Warning', 'FailedScheduling', message);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) this.log.warn({ err: e, pod: k }, 'could not record unschedulable status');
    }
  }
}
