// The ClusterRole aggregation controller: keeps each aggregating ClusterRole's rules equal to the
// union of the ClusterRoles its selectors match (decision in rbac-aggregation-rules.ts). Works from
// an informer on clusterroles and re-syncs every aggregating role after any ClusterRole changes.
import type { Logger } from '../../api/log.ts';
import type { LoopbackClient } from '../client/loopback.ts';
import { aggregatedRules, sameRules } from './rbac-aggregation-rules.ts';
import { type CacheSource, cacheFor, type SharedInformers } from './workloads/shared-informers.ts';

const PATH = '/apis/rbac.authorization.k8s.io/v1/clusterroles';

export class ClusterRoleAggregationController {
  private readonly roles: CacheSource;
  private pending = false;
  private running = false;

  constructor(
    private readonly client: LoopbackClient,
    private readonly log: Logger,
    informers?: SharedInformers,
  ) {
    const kick = () => this.kick();
    this.roles = cacheFor(client, log, PATH, { add: kick, update: kick, delete: kick }, informers);
  }

  async start(): Promise<void> {
    this.roles.start();
    await this.roles.synced;
    this.kick();
  }

  stop(): void {
    this.roles.stop();
  }

  private kick(): void {
    this.pending = true;
    if (!this.running) void this.drain();
  }

  /** Syncs until no change arrived meanwhile (bounded: each pass consumes the pending flag). */
  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let pass = 0; this.pending && pass < 100; pass++) {
        this.pending = false;
        await this.syncAll();
      }
    } finally {
      this.running = false;
    }
  }

  private async syncAll(): Promise<void> {
    const all = [...this.roles.cache.values()];
    for (const role of all) {
      const rules = aggregatedRules(role, all);
      if (!rules || sameRules(role.rules, rules)) continue;
      try {
        await this.client.update(`${PATH}/${role.metadata.name}`, { ...role, rules });
      } catch (e) {
        // a conflict means a newer version is on its way through the informer, which syncs again
        if ((e as { code?: number }).code === 409) continue;
        this.log.warn({ err: e, clusterRole: role.metadata.name }, 'aggregating cluster role failed');
      }
    }
  }
}
