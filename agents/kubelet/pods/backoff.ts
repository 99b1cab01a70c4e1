// Per-container restart back-off as kubelet's CrashLoopBackOff: the first restart is at once, then
// 10 s, doubling up to 5 min.
export class Backoff {
  private entries = new Map<string, { delay: number; until: number }>();
  constructor(private initialMs = 10_000, private maxMs = 300_000) {}

  /** Milliseconds to wait before the next restart is allowed (0 = now). */
  remaining(key: string, now = Date.now()): number {
    const e = this.entries.get(key);
    return e ? Math.max(0, e.until - now) : 0;
  }

  /** Records a restart; the one after it must wait longer. */
  next(key: string, now = Date.now()): void {
    const e = this.entries.get(key);
    const delay = e ? Math.min(e.delay * 2, this.maxMs) : this.initialMs;
    this.entries.set(key, { delay, until: now + (e ? delay : this.initialMs) });
  }

  current(key: string): number { return this.entries.get(key)?.delay ?? 0; }
  forget(prefix: string): void { for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k); }
}
