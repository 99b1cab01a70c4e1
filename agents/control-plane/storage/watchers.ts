// Fan-out of committed writes to live watchers. Each watcher owns a bounded queue: a consumer that
// falls too far behind is closed (its client re-watches from its last revision), so one slow
// reader can never hold the server's memory hostage.
import type { Watch, WatchEvent } from './types.ts';

const MAX_QUEUE = 10_000;

export class QueueWatch implements Watch {
  private queue: WatchEvent[] = [];
  private wake: (() => void) | undefined;
  private error: unknown;
  closed = false;

  constructor(
    readonly prefix: string,
    private readonly onClose: (w: QueueWatch) => void,
  ) {}

  push(ev: WatchEvent): void {
    if (this.closed) return;
    if (this.queue.length >= MAX_QUEUE) {
      this.close();
      return;
    }
    this.queue.push(ev);
    this.wake?.();
  }

  /** Ends the watch with an error its consumer sees after the events already queued. */
  fail(err: unknown): void {
    if (this.closed) return;
    this.error = err;
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    try {
      for (;;) {
        const ev = this.queue.shift();
        if (ev) {
          yield ev;
          continue;
        }
        if (this.closed) {
          if (this.error) throw this.error;
          return;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } finally {
      this.close();
    }
  }
}

export class WatcherSet {
  private readonly watchers = new Set<QueueWatch>();

  /** A watch primed with `backlog` (history read in the same tick, so nothing falls in between). */
  add(prefix: string, backlog: WatchEvent[]): Watch {
    const w = new QueueWatch(prefix, (x) => this.watchers.delete(x));
    for (const ev of backlog) w.push(ev);
    this.watchers.add(w);
    return w;
  }

  notify(ev: WatchEvent): void {
    for (const w of this.watchers) if (ev.kv.key.startsWith(w.prefix)) w.push(ev);
  }

  closeAll(): void {
    for (const w of [...this.watchers]) w.close();
  }

  get size(): number {
    return this.watchers.size;
  }
}
