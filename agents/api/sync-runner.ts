// Runs the sync function at most once per minInterval (a burst of watch events becomes one sync),
// never twice at once, and at least once per period. The first request after a quiet spell runs at
// once, so one change reaches the kernel without waiting.
export type SyncReason = 'changes' | 'periodic';

export class SyncRunner {
  private running = false;
  private requested: SyncReason | undefined;
  private lastStart = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private periodic: NodeJS.Timeout | undefined;
  private stopped = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly fn: (reason: SyncReason) => Promise<void>,
    private readonly minIntervalMs: number,
    private readonly periodMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(): void {
    if (this.periodMs > 0) this.periodic = setInterval(() => this.run('periodic'), this.periodMs);
  }

  run(reason: SyncReason = 'changes'): void {
    if (this.stopped) return;
    // periodic wins: it covers changes too
    this.requested = this.requested === 'periodic' ? 'periodic' : reason;
    if (this.running || this.timer) return;
    const wait = this.lastStart + this.minIntervalMs - this.now();
    if (wait <= 0) void this.go();
    else
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.go();
      }, wait);
  }

  private async go(): Promise<void> {
    if (this.stopped || this.requested === undefined) return;
    const reason = this.requested;
    this.requested = undefined;
    this.running = true;
    this.lastStart = this.now();
    try {
      await this.fn(reason);
    } finally {
      this.running = false;
      if (this.requested !== undefined && !this.stopped) this.run(this.requested);
      else for (const w of this.idle.splice(0)) w();
    }
  }

  /** Resolves when no sync is running or pending (for tests and benchmarks). */
  whenIdle(): Promise<void> {
    if (!this.running && !this.timer && this.requested === undefined) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.periodic);
    for (const w of this.idle.splice(0)) w();
  }
}
