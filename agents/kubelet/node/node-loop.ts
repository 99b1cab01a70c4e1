// Registers the Node (or reclaims it after a restart), renews its Lease every 10 s, and reports its
// status as upstream's node status manager does: checked every 10 s, sent when something other
// than heartbeat times changed or 5 minutes passed (the Lease is the liveness signal), with
// "Node <name> status is now: ..." events on transitions.
import type { V1Node, V1NodeCondition } from '@kubernetes/client-node';
import { type ApiClient, isNotFound, ApiError } from '../../api/client.ts';
import { core, leasePath } from '../../api/paths.ts';
import type { Wire } from '../../api/wire.ts';
import type { Logger } from '../../api/log.ts';
import { nodeObject, nodeStatus, type NodeExtras, type NodeSpecInput } from './node-object.ts';
import type { RuntimeHealth } from '../pods/runtime.ts';
import { rfc3339 } from '../pods/runtime-values.ts';

const LEASE_NS = 'kube-node-lease';
const REPORT_EVERY_MS = 5 * 60_000;
/**
 * How often a relist may ask the runtime for its health: upstream's kubelet checks runtime state
 * every 5 s (updateRuntimeUp). Asking after every 1 s relist cost a CRI Status call a second, a third
 * of an idle kubelet's gRPC traffic.
 */
export const RUNTIME_CHECK_MS = 5_000;
/**
 * The status check (every 10 s) reads the relists' latest answer, as upstream's node status reads the
 * runtime state updateRuntimeUp keeps, and asks the runtime itself only when no relist asked for two
 * periods (the runtime or the relist is stuck): a Status call per tick was a call for nothing.
 */
export const HEALTH_MAX_AGE_MS = 2 * RUNTIME_CHECK_MS;
const microNow = () => new Date().toISOString().replace('Z', '000Z');

const TRANSITIONS: Record<string, [string, string]> = {
  Ready: ['NodeReady', 'NodeNotReady'],
  MemoryPressure: ['NodeHasInsufficientMemory', 'NodeHasSufficientMemory'],
  DiskPressure: ['NodeHasDiskPressure', 'NodeHasNoDiskPressure'],
  PIDPressure: ['NodeHasInsufficientPID', 'NodeHasSufficientPID'],
};

/** The status without heartbeat times: what decides whether it must be sent. */
const essence = (s: Wire<V1Node>['status']) => JSON.stringify({ ...s, conditions: s?.conditions?.map((c) => ({ ...c, lastHeartbeatTime: undefined })) });

export type NodeEvent = (uid: string | undefined, type: 'Normal' | 'Warning', reason: string, message: string) => void;

export class NodeLoop {
  private timer?: NodeJS.Timeout;
  private lastHealth?: string;
  private node?: Wire<V1Node>;
  private lastSent = '';
  private lastSentAt = 0;
  private lastPokeAt = Number.NEGATIVE_INFINITY;
  private checked?: { at: number; health: RuntimeHealth };
  private stopped = false;

  constructor(
    private api: ApiClient,
    private spec: NodeSpecInput,
    private health: () => Promise<RuntimeHealth>,
    private log: Logger,
    private intervalMs = 10_000,
    private extras: () => Promise<NodeExtras> = async () => ({}),
    private event: NodeEvent = () => undefined,
  ) {}

  uid(): string | undefined {
    return this.node?.metadata?.uid;
  }

  async register(): Promise<Wire<V1Node>> {
    const now = rfc3339(new Date())!;
    const h = await this.runtimeHealth(0);
    try {
      this.node = await this.api.create(core('nodes'), nodeObject(this.spec, h, now));
      this.log.info({ node: this.spec.name }, 'node registered');
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
      // already there (a restart, or a re-join under the same name): take it over and refresh it
      const cur = await this.api.get<Wire<V1Node>>(core('nodes', undefined, this.spec.name));
      const want = nodeObject(this.spec, h, now);
      this.node = await this.api.patch<Wire<V1Node>>(core('nodes', undefined, this.spec.name), { metadata: { labels: want.metadata!.labels } }, 'merge');
      this.log.info({ node: this.spec.name, uid: cur.metadata?.uid }, 'node already registered; reclaimed');
    }
    this.event(this.uid(), 'Normal', 'Starting', 'Starting kubelet.');
    this.lastSent = '';
    await this.reportStatus();
    return this.node!;
  }

  start(): void {
    this.stopped = false;
    const tick = async () => {
      await Promise.allSettled([this.reportStatus(), this.renewLease()]).then((rs) => {
        for (const r of rs) if (r.status === 'rejected') this.log.warn({ err: String(r.reason) }, 'node heartbeat failed');
      });
      // a stop() while this tick was in flight must not be undone by the next timer
      if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Called when runtime health may have changed, so Ready flips without waiting for the tick. */
  async poke(now = Date.now()): Promise<void> {
    if (now - this.lastPokeAt < RUNTIME_CHECK_MS) return;
    this.lastPokeAt = now;
    const h = JSON.stringify(await this.runtimeHealth(0, now));
    if (h !== this.lastHealth) await this.reportStatus();
  }

  /** The runtime's health, asked again only when the last answer is maxAgeMs old or more. */
  private async runtimeHealth(maxAgeMs: number, now = Date.now()): Promise<RuntimeHealth> {
    if (this.checked && now - this.checked.at < maxAgeMs) return this.checked.health;
    const health = await this.health();
    this.checked = { at: now, health };
    return health;
  }

  private transitions(before: Wire<V1NodeCondition>[], after: Wire<V1NodeCondition>[]): void {
    for (const c of after) {
      const names = TRANSITIONS[c.type];
      const old = before.find((b) => b.type === c.type);
      if (!names || old?.status === c.status) continue;
      if (!old && c.type !== 'Ready' && c.status === 'False') continue;
      this.event(
        this.uid(),
        'Normal',
        c.status === 'True' ? names[0] : names[1],
        `Node ${this.spec.name} status is now: ${c.status === 'True' ? names[0] : names[1]}`,
      );
    }
  }

  private async reportStatus(): Promise<void> {
    const h = await this.runtimeHealth(HEALTH_MAX_AGE_MS);
    this.lastHealth = JSON.stringify(h);
    const prev = this.node?.status?.conditions ?? [];
    const status = nodeStatus(this.spec, h, rfc3339(new Date())!, prev, await this.extras().catch(() => ({})));
    const e = essence(status);
    if (e === this.lastSent && Date.now() - this.lastSentAt < REPORT_EVERY_MS) return;
    try {
      this.node = await this.api.patch<Wire<V1Node>>(core('nodes', undefined, this.spec.name, 'status'), { status }, 'merge');
      this.lastSent = e;
      this.lastSentAt = Date.now();
      this.transitions(prev, status?.conditions ?? []);
    } catch (err) {
      if (isNotFound(err)) {
        this.log.warn('node object was deleted; registering again');
        await this.register();
        return;
      }
      throw err;
    }
  }

  private async renewLease(): Promise<void> {
    const path = leasePath(LEASE_NS, this.spec.name);
    const spec = { holderIdentity: this.spec.name, leaseDurationSeconds: 40, renewTime: microNow() };
    try {
      await this.api.patch(path, { spec }, 'merge');
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const owner = this.node?.metadata?.uid ? [{ apiVersion: 'v1', kind: 'Node', name: this.spec.name, uid: this.node.metadata.uid }] : undefined;
      await this.api.create(leasePath(LEASE_NS), {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.spec.name, namespace: LEASE_NS, ownerReferences: owner },
        spec,
      });
    }
  }
}
