// The sync loop shared by all modes: take the tracker's changes, let the backend apply them (a full
// rewrite at start, after a failure, when our rules vanished, and once per fullSyncPeriod; a
// partial update otherwise), then the housekeeping that follows every sync: stale UDP flows,
// health-check servers, health and metrics.
import type { Logger } from '../api/log.ts';
import { deleteFlows, staleFlows } from './conntrack.ts';
import type { Exec } from '../api/exec.ts';
import type { HealthCheckService, ProxyHealth, ServiceHealthServers } from './health.ts';
import type { ProxyMetrics } from './metrics.ts';
import { SyncRunner, type SyncReason } from '../api/sync-runner.ts';
import type { ChangeTracker, PortWithEndpoints } from './tracker.ts';
import { Latch } from '../api/latch.ts';
import type { ProxyMode } from './modes.ts';

export interface Backend {
  readonly mode: ProxyMode;
  /**
   * full: rewrite everything from the tracker. Otherwise bring the given Services (undefined: all
   * Services known to the tracker or the backend) to their tracked state, touching nothing else.
   */
  sync(full: boolean, changed?: Set<string>): Promise<void>;
  /** false when our rules are gone from the kernel (someone flushed the tables) */
  intact(): Promise<boolean>;
  cleanup(): Promise<void>;
}

export interface ProxierOptions {
  minSyncPeriodMs: number;
  syncPeriodMs: number;
  /** how often the periodic sync is a full rewrite; upstream uses an hour */
  fullSyncPeriodMs?: number;
}

export class Proxier {
  readonly runner: SyncRunner;
  /** opened by the first sync that reached the kernel */
  readonly firstSync = new Latch();
  private needFull = true;
  private lastFull = 0;
  private applied = new Map<string, PortWithEndpoints[]>();
  private retry: NodeJS.Timeout | undefined;
  syncs = { full: 0, partial: 0, failed: 0 };

  constructor(
    private readonly tracker: ChangeTracker,
    readonly backend: Backend,
    private readonly exec: Exec,
    private readonly metrics: ProxyMetrics,
    private readonly health: ProxyHealth,
    private readonly hcServers: ServiceHealthServers | undefined,
    private readonly o: ProxierOptions,
    private readonly log?: Logger,
  ) {
    this.runner = new SyncRunner((r) => this.sync(r), o.minSyncPeriodMs, o.syncPeriodMs);
  }

  /** The first sync is full; call once the informers have synced. */
  start(): void {
    this.runner.start();
    this.changed();
  }

  /** Called by watch handlers when the tracker reports a change. */
  changed(): void {
    this.health.queued();
    this.metrics.lastQueued.setToCurrentTime();
    this.runner.run('changes');
  }

  stop(): void {
    clearTimeout(this.retry);
    this.runner.stop();
  }

  private async sync(reason: SyncReason): Promise<void> {
    const started = performance.now();
    const { services: changed, triggerTimes } = this.tracker.takeChanges();
    let full = this.needFull || Date.now() - this.lastFull > (this.o.fullSyncPeriodMs ?? 3_600_000);
    try {
      if (!full && reason === 'periodic' && !(await this.backend.intact())) {
        this.log?.warn('proxy rules are missing from the kernel; rewriting them');
        full = true;
      }
      // a periodic sync re-derives every Service and applies any difference
      await this.backend.sync(full, full || reason === 'periodic' ? undefined : changed);
    } catch (err) {
      this.needFull = true;
      this.syncs.failed++;
      this.metrics.restoreFailures.inc();
      this.log?.error({ err: String(err), full }, 'sync failed; retrying with a full sync');
      clearTimeout(this.retry);
      this.retry = setTimeout(() => this.runner.run('changes'), Math.min(Math.max(this.o.minSyncPeriodMs, 1000), 5000));
      return;
    }
    this.needFull = false;
    this.firstSync.open();
    if (full) {
      this.lastFull = Date.now();
      this.syncs.full++;
    } else this.syncs.partial++;
    const seconds = (performance.now() - started) / 1000;
    this.metrics.syncDuration.observe(seconds);
    (full ? this.metrics.fullSyncDuration : this.metrics.partialSyncDuration).observe(seconds);
    this.metrics.lastSync.setToCurrentTime();
    for (const t of triggerTimes) this.metrics.programming.observe(Math.max(0, Date.now() - t) / 1000);
    this.health.updated();
    this.log?.debug({ full, reason, changed: changed.size, ms: Math.round(seconds * 1000) }, 'synced');
    await this.housekeeping(full ? new Set([...this.tracker.serviceNames(), ...this.applied.keys()]) : changed);
  }

  private async housekeeping(services: Set<string>): Promise<void> {
    const flows: string[][] = [];
    for (const svc of services) {
      const next = this.tracker.service(svc);
      flows.push(...staleFlows(this.applied.get(svc) ?? [], next));
      if (next.length) this.applied.set(svc, next);
      else this.applied.delete(svc);
    }
    if (flows.length && (await deleteFlows(this.exec, flows)) > 0) this.log?.warn('some stale UDP flows could not be deleted');
    if (this.hcServers) await this.hcServers.sync(this.healthChecks());
  }

  private healthChecks(): Map<number, HealthCheckService> {
    const want = new Map<number, HealthCheckService>();
    for (const { svc, endpoints } of this.tracker.all()) {
      if (!svc.healthCheckNodePort) continue;
      const localEndpoints = endpoints.filter((e) => e.local && e.ready).length;
      want.set(svc.healthCheckNodePort, { service: svc.service, localEndpoints });
    }
    return want;
  }
}
