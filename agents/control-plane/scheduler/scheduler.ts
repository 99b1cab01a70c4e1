// The scheduler: an API client that binds pending pods (no nodeName, schedulerName
// default-scheduler) to fitting nodes through pods/binding. Unschedulable pods get PodScheduled=False
// with the "0/N nodes are available" message and are retried at once whenever a node or pod
// changes (a node turning Ready must never wait behind a back-off), and periodically anyway.
import type { Logger } from '../../api/log.ts';
import { ApiError } from '../apiserver/errors.ts';
import { isoNow, type Obj } from '../apiserver/strategies/types.ts';
import { Informer, keyOf } from '../client/informer.ts';
import type { LoopbackClient } from '../client/loopback.ts';
import { recordEvent } from '../client/events.ts';
import { emptyUsage, type NodeUsage, podRequests, schedule } from './filters.ts';

const SCHEDULER_NAME = 'default-scheduler';
const RETRY_MS = 15_000;

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

function nodeSignature(n: Obj): string {
  return JSON.stringify([n.spec, n.metadata.labels, n.status?.allocatable, n.status?.conditions?.map((c: { type: string; status: string }) => [c.type, c.status])]);
}

export class Scheduler {
  private readonly nodes: Informer;
  private readonly pods: Informer;
  private readonly queue = new Set<string>();
  private readonly unschedulable = new Map<string, string>();
  /** pods bound by us that the informer has not shown bound yet */
  private readonly assumed = new Map<string, { node: string; pod: Obj }>();
  private draining = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly client: LoopbackClient,
    private readonly log: Logger,
  ) {
    this.nodes = new Informer(client, '/api/v1/nodes', {
      add: () => this.flushUnschedulable(),
      update: (n, old) => {
        if (nodeSignature(n) !== nodeSignature(old)) this.flushUnschedulable();
      },
      delete: () => this.flushUnschedulable(),
    }, log);
    this.pods = new Informer(client, '/api/v1/pods', {
      add: (p) => this.onPod(p),
      update: (p) => this.onPod(p),
      delete: (p) => {
        const k = keyOf(p);
        this.queue.delete(k);
        this.unschedulable.delete(k);
        this.assumed.delete(k);
        this.flushUnschedulable();
      },
    }, log);
  }

  async start(): Promise<void> {
    this.nodes.start();
    this.pods.start();
    await Promise.all([this.nodes.synced, this.pods.synced]);
    this.timer = setInterval(() => this.flushUnschedulable(), RETRY_MS);
    this.timer.unref();
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.nodes.stop();
    this.pods.stop();
  }

  private onPod(p: Obj): void {
    const k = keyOf(p);
    if (p.spec?.nodeName) this.assumed.delete(k);
    if (isPending(p) && !this.assumed.has(k)) {
      if (!this.unschedulable.has(k)) this.queue.add(k);
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

  private kick(): void {
    if (this.draining || this.stopped || !this.queue.size) return;
    this.draining = true;
    setImmediate(() => void this.drain());
  }

  private usage(): Map<string, NodeUsage> {
    const u = new Map<string, NodeUsage>();
    const add = (node: string, pod: Obj) => {
      const x = u.get(node) ?? emptyUsage();
      const r = podRequests(pod);
      x.pods += 1;
      x.cpu += r.cpu;
      x.memory += r.memory;
      u.set(node, x);
    };
    for (const p of this.pods.cache.values()) {
      const phase = p.status?.phase;
      if (p.spec?.nodeName && phase !== 'Succeeded' && phase !== 'Failed') add(p.spec.nodeName, p);
    }
    for (const a of this.assumed.values()) add(a.node, a.pod);
    return u;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.size && !this.stopped) {
        const pending = [...this.queue]
          .map((k) => this.pods.cache.get(k))
          .filter((p): p is Obj => !!p)
          .sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
        this.queue.clear();
        for (const pod of pending) {
          if (this.stopped) return;
          if (isPending(pod)) await this.scheduleOne(pod);
        }
      }
    } finally {
      this.draining = false;
      if (this.queue.size) this.kick();
    }
  }

  private async scheduleOne(pod: Obj): Promise<void> {
    const k = keyOf(pod);
    const u = this.usage();
    const decision = schedule(pod, [...this.nodes.cache.values()], (n) => u.get(n) ?? emptyUsage());
    const ns = pod.metadata.namespace!;
    const name = pod.metadata.name!;
    if (decision.node) {
      try {
        await this.client.create(`/api/v1/namespaces/${ns}/pods/${name}/binding`, {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name, namespace: ns, uid: pod.metadata.uid },
          target: { apiVersion: 'v1', kind: 'Node', name: decision.node },
        });
        this.assumed.set(k, { node: decision.node, pod });
        this.unschedulable.delete(k);
        this.log.info({ pod: k, node: decision.node }, 'bound pod');
        await recordEvent(this.client, pod, 'Normal', 'Scheduled', `Successfully assigned ${k} to ${decision.node}`, SCHEDULER_NAME);
      } catch (e) {
        if (e instanceof ApiError && (e.code === 409 || e.code === 404)) return;
        this.log.warn({ err: e, pod: k }, 'binding failed; will retry');
        this.unschedulable.set(k, '');
      }
      return;
    }
    const message = decision.message!;
    const before = this.unschedulable.get(k);
    this.unschedulable.set(k, message);
    if (before === message) return;
    this.log.info({ pod: k, message }, 'pod unschedulable');
    try {
      const cond = (pod.status?.conditions ?? []).find((c: { type: string }) => c.type === 'PodScheduled');
      if (!cond || cond.status !== 'False' || cond.message !== message) {
        await this.client.patch(`/api/v1/namespaces/${ns}/pods/${name}/status`, {
          status: {
            conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: isoNow(new Date()) }],
          },
        }, 'strategic');
        await recordEvent(this.client, pod, 'Warning', 'FailedScheduling', message, SCHEDULER_NAME);
      }
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) this.log.warn({ err: e, pod: k }, 'could not record unschedulable status');
    }
  }
}
