// Node lifecycle controller: a node whose kubelet stopped renewing its Lease and posting status
// for the grace period turns Ready=Unknown (its pods Ready=False); Ready Unknown/False nodes carry
// the unreachable/not-ready NoSchedule and NoExecute taints; pods that do not tolerate a NoExecute
// taint (admission gives them 300 s) are evicted when their toleration runs out.
import type { Logger } from '../../api/log.ts';
import { ApiError } from '../apiserver/errors.ts';
import { isoNow, type Obj } from '../apiserver/strategies/types.ts';
import type { LoopbackClient } from '../client/loopback.ts';
import { recordEvent } from '../client/events.ts';
import { type CacheSource, cacheFor, type SharedInformers } from './workloads/shared-informers.ts';
import { desiredTaints, evictionTime, lastHeartbeat, readyStatus, sameTaints, unknownConditions } from './lifecycle-rules.ts';

export interface NodeLifecycleOptions {
  /** upstream --node-monitor-grace-period (50 s since 1.32) */
  gracePeriodMs?: number;
  tickMs?: number;
  now?: () => number;
  /** the controller manager's shared informers (one pod cache for all controllers) */
  informers?: SharedInformers;
}

export class NodeLifecycleController {
  private readonly nodes: CacheSource;
  private readonly leases: CacheSource;
  private readonly pods: CacheSource;
  private readonly startedAt: number;
  private readonly grace: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly evicted = new Set<string>();

  constructor(
    private readonly client: LoopbackClient,
    private readonly log: Logger,
    private readonly o: NodeLifecycleOptions = {},
  ) {
    this.now = o.now ?? Date.now;
    this.startedAt = this.now();
    this.grace = o.gracePeriodMs ?? 50_000;
    const kick = () => void this.tick();
    this.nodes = cacheFor(client, log, '/api/v1/nodes', { update: kick }, o.informers);
    this.leases = cacheFor(client, log, '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {}, o.informers);
    this.pods = cacheFor(client, log, '/api/v1/pods', {}, o.informers);
  }

  async start(): Promise<void> {
    for (const i of [this.nodes, this.leases, this.pods]) i.start();
    await Promise.all([this.nodes.synced, this.leases.synced, this.pods.synced]);
    this.timer = setInterval(() => void this.tick(), this.o.tickMs ?? 5000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    for (const i of [this.nodes, this.leases, this.pods]) i.stop();
  }

  private podsOn(node: string): Obj[] {
    return [...this.pods.cache.values()].filter((p) => p.spec?.nodeName === node);
  }

  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const live = new Set([...this.pods.cache.values()].map((p) => `${p.metadata.namespace}/${p.metadata.name}/${p.metadata.uid}`));
      for (const k of this.evicted) if (!live.has(k)) this.evicted.delete(k);
      for (const node of [...this.nodes.cache.values()]) {
        try {
          await this.syncNode(node);
        } catch (e) {
          if (!(e instanceof ApiError && (e.code === 404 || e.code === 409))) this.log.warn({ err: e, node: node.metadata.name }, 'node lifecycle sync failed');
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async syncNode(node: Obj): Promise<void> {
    const name = node.metadata.name!;
    const now = this.now();
    const nowIso = isoNow(new Date(now));
    const seen = Math.max(lastHeartbeat(node, this.leases.cache.get(`kube-node-lease/${name}`)), this.startedAt);
    let cur = node;
    if (now - seen > this.grace && readyStatus(node) !== 'Unknown') {
      this.log.info({ node: name, silentForS: Math.round((now - seen) / 1000) }, 'node stopped posting status');
      cur = await this.client.patch(`/api/v1/nodes/${name}/status`, { status: { conditions: unknownConditions(node, nowIso) } }, 'strategic');
      await recordEvent(
        this.client,
        { ...cur, kind: 'Node', metadata: { ...cur.metadata, namespace: 'default' } },
        'Normal',
        'NodeNotReady',
        `Node ${name} status is now: NodeNotReady`,
        'node-controller',
      );
      for (const p of this.podsOn(name)) {
        const ready = (p.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
        if (ready?.status !== 'True') continue;
        await this.client
          .patch(
            `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}/status`,
            { status: { conditions: [{ type: 'Ready', status: 'False', lastProbeTime: null, lastTransitionTime: nowIso }] } },
            'strategic',
          )
          .catch(() => undefined);
      }
    }
    const taints = desiredTaints(cur, nowIso);
    if (!sameTaints(taints, cur.spec?.taints)) {
      cur = await this.client.patch(
        `/api/v1/nodes/${name}`,
        { metadata: { resourceVersion: cur.metadata.resourceVersion }, spec: { taints: taints.length ? taints : null } },
        'merge',
      );
    }
    for (const p of this.podsOn(name)) {
      const key = `${p.metadata.namespace}/${p.metadata.name}/${p.metadata.uid}`;
      if (p.metadata.deletionTimestamp || this.evicted.has(key) || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
      const at = evictionTime(p, cur, now);
      if (at === undefined || at > now) continue;
      this.log.info({ pod: key, node: name }, 'evicting pod from a tainted node');
      // remembered only once the delete went through: a failed one is tried again next tick
      try {
        await this.client.request('DELETE', `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`, {
          body: { preconditions: { uid: p.metadata.uid } },
        });
      } catch (e) {
        if (e instanceof ApiError && (e.code === 404 || e.code === 409)) continue; // gone, or replaced by another pod of the name
        this.log.warn({ err: e, pod: key }, 'eviction failed; will retry');
        continue;
      }
      this.evicted.add(key);
      await recordEvent(
        this.client,
        { ...p, kind: 'Pod' },
        'Normal',
        'TaintManagerEviction',
        `Marking for deletion Pod ${p.metadata.namespace}/${p.metadata.name}`,
        'taint-eviction-controller',
      ).catch(() => undefined);
    }
  }
}
