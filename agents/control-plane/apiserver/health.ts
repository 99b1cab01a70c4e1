// The API server's named health checks behind /livez, /readyz and /healthz, as kube-apiserver
// registers them: ping, log, etcd (the store answers a read), on /readyz also etcd-readiness,
// informer-sync (the server's own informers have listed) and shutdown (fails once closing
// starts), and one poststarthook/<name> per start-up step, failing until the step is done.
// The serving itself is agents/api/healthz.ts, shared with the kubelet.
import { LOG, PING, type HealthCheck } from '../../api/healthz.ts';
import type { Store } from '../storage/types.ts';

export type HealthEndpoint = 'livez' | 'readyz' | 'healthz';
export const isHealthEndpoint = (s: string): s is HealthEndpoint => s === 'livez' || s === 'readyz' || s === 'healthz';

/** A key no object lives under: reading it proves the store answers. */
const PROBE_KEY = '/registry/health';

export class ApiHealth {
  private readonly hooks = new Map<string, boolean>();
  private readonly informers = new Map<string, boolean>();
  private closing = false;

  constructor(private readonly store: Pick<Store, 'get'>) {}

  /** Registers a start-up step (upstream's post-start hook); readyz, livez and healthz fail until `done`. */
  postStartHook(name: string): { done(): void } {
    this.hooks.set(name, false);
    return { done: () => void this.hooks.set(name, true) };
  }

  /** Registers one of the server's own informers; readyz's informer-sync fails until `synced`. */
  informer(name: string): { synced(): void } {
    this.informers.set(name, false);
    return { synced: () => void this.informers.set(name, true) };
  }

  /** From now on readyz fails (the server is draining). */
  shutdown(): void {
    this.closing = true;
  }

  checks(endpoint: HealthEndpoint): HealthCheck[] {
    const etcd = (name: string): HealthCheck => ({
      name,
      check: async () => {
        await this.store.get(PROBE_KEY);
      },
    });
    const hooks = [...this.hooks.keys()].map(
      (name): HealthCheck => ({
        name: `poststarthook/${name}`,
        check: () => {
          if (!this.hooks.get(name)) throw new Error('not finished');
        },
      }),
    );
    if (endpoint !== 'readyz') return [PING, LOG, etcd('etcd'), ...hooks];
    const informerSync: HealthCheck = {
      name: 'informer-sync',
      check: () => {
        const pending = [...this.informers].filter(([, synced]) => !synced).map(([n]) => n);
        if (pending.length) throw new Error(`${pending.length} informers not started yet: [${pending.join(' ')}]`);
      },
    };
    const shutdown: HealthCheck = {
      name: 'shutdown',
      check: () => {
        if (this.closing) throw new Error('process is shutting down');
      },
    };
    return [PING, LOG, etcd('etcd'), etcd('etcd-readiness'), informerSync, ...hooks, shutdown];
  }
}
