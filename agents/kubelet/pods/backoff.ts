// Exponential back-off per key, with upstream's semantics (client-go flowcontrol.Backoff):
// - a crashed container may restart once `current` has passed since it finished; each restart
//   doubles `current` from 10 s up to 5 min, so the restarts come at once, +10 s, +20 s ... +5 min;
// - an entry idle for twice the maximum is forgotten (a container that ran for 10 minutes starts
//   over at 10 s);
// - image pulls back off from the time of the last failed pull.
export class Backoff {
  private entries = new Map<string, { backoff: number; lastUpdate: number }>();
  constructor(
    readonly initialMs = 10_000,
    readonly maxMs = 300_000,
  ) {}

  private live(key: string, at: number) {
    const e = this.entries.get(key);
    return e && at - e.lastUpdate <= 2 * this.maxMs ? e : undefined;
  }

  /** Is a container that finished at `eventTime` still waiting out its back-off? */
  inBackoffSince(key: string, eventTime: number, now = Date.now()): boolean {
    const e = this.live(key, eventTime);
    return !!e && now - eventTime < e.backoff;
  }

  /** Milliseconds until a container that finished at `eventTime` may restart (0 = now). */
  remainingSince(key: string, eventTime: number, now = Date.now()): number {
    const e = this.live(key, eventTime);
    return e ? Math.max(0, eventTime + e.backoff - now) : 0;
  }

  /** Is the key (an image pull) in back-off counted from its last recorded failure? */
  inBackoffSinceUpdate(key: string, now = Date.now()): boolean {
    const e = this.live(key, now);
    return !!e && now - e.lastUpdate < e.backoff;
  }

  remainingSinceUpdate(key: string, now = Date.now()): number {
    const e = this.live(key, now);
    return e ? Math.max(0, e.lastUpdate + e.backoff - now) : 0;
  }

  /** Records a restart (or failed pull) at `eventTime`; the next one waits twice as long. */
  next(key: string, eventTime = Date.now()): void {
    const e = this.live(key, eventTime);
    this.entries.set(key, { backoff: e ? Math.min(e.backoff * 2, this.maxMs) : this.initialMs, lastUpdate: eventTime });
  }

  current(key: string): number {
    return this.entries.get(key)?.backoff ?? 0;
  }
  reset(key: string): void {
    this.entries.delete(key);
  }
  forget(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}

/** Go's time.Duration text for whole seconds and minutes, as back-off messages print it ("10s", "5m0s"). */
export function goDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${s % 60}s` : `${Math.floor(m / 60)}h${m % 60}m${s % 60}s`;
}
