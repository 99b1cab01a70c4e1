// A readiness check over a reconcile loop: failing until the first run went through, failing with
// the latest error while the last run failed, passing once a run succeeds again. podnet's
// "reconciled" check (served on its /readyz and /healthz).
import type { HealthCheck } from './healthz.ts';

export class SyncHealth implements HealthCheck {
  private state: { ok: true } | { ok: false; reason: string } = { ok: false, reason: 'not reconciled yet' };
  constructor(readonly name: string) {}
  succeeded(): void {
    this.state = { ok: true };
  }
  failed(err: unknown): void {
    this.state = { ok: false, reason: `last reconcile failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  check(): void {
    if (!this.state.ok) throw new Error(this.state.reason);
  }
}

/** "informer-sync": the informers have listed once. */
export function syncedCheck(name: string, waits: Promise<void>[]): HealthCheck {
  let synced = false;
  void Promise.all(waits).then(
    () => (synced = true),
    () => undefined,
  );
  return {
    name,
    check() {
      if (!synced) throw new Error('informers not synced');
    },
  };
}
