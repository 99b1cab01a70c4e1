// A keyed work queue as controllers use: a key is queued at most once, never processed by two
// workers at once, and re-queued when it is added again while being processed. Failures retry
// with capped exponential back-off.
export class WorkQueue {
  private queued = new Set<string>();
  private order: string[] = [];
  private active = new Set<string>();
  private dirty = new Set<string>();
  private failures = new Map<string, number>();
  private timers = new Set<NodeJS.Timeout>();
  private waiters: (() => void)[] = [];
  private stopped = false;

  add(key: string): void {
    if (this.stopped) return;
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.order.push(key);
    this.waiters.shift()?.();
  }

  addAfter(key: string, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.add(key);
    }, ms);
    this.timers.add(t);
  }

  retry(key: string, maxMs = 30_000): void {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    this.addAfter(key, Math.min(100 * 2 ** n, maxMs));
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Runs `workers` loops that each take a key and call fn; fn's rejection schedules a retry. */
  run(workers: number, fn: (key: string) => Promise<void>, onError?: (key: string, err: unknown) => void): void {
    for (let i = 0; i < workers; i++) void this.loop(fn, onError);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    for (const w of this.waiters.splice(0)) w();
  }

  private async next(): Promise<string | undefined> {
    while (!this.stopped && this.order.length === 0) await new Promise<void>((r) => this.waiters.push(r));
    if (this.stopped) return undefined;
    const key = this.order.shift()!;
    this.queued.delete(key);
    this.active.add(key);
    return key;
  }

  private async loop(fn: (key: string) => Promise<void>, onError?: (key: string, err: unknown) => void): Promise<void> {
    for (;;) {
      const key = await this.next();
      if (key === undefined) return;
      try {
        await fn(key);
        this.forget(key);
      } catch (err) {
        onError?.(key, err);
        this.retry(key);
      } finally {
        this.active.delete(key);
        if (this.dirty.delete(key)) this.add(key);
      }
    }
  }
}
