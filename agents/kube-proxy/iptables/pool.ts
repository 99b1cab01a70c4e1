// At most `limit` iptables-restore runs at once, in the order they were handed in. A failure is
// kept and thrown by drain() after every run still in flight has ended, so no input is left
// half-way when the sync reports the error.

export class RestorePool {
  private readonly inflight = new Set<Promise<void>>();
  private failure: unknown;
  private failed = false;

  constructor(
    private readonly restore: (text: string) => Promise<unknown>,
    private readonly limit: number,
  ) {}

  /** Starts one input once a slot is free; resolves when it has started, not when it has ended. */
  async run(text: string): Promise<void> {
    while (this.inflight.size >= this.limit) await Promise.race(this.inflight);
    if (this.failed) return; // the sync fails anyway: write nothing more
    const p: Promise<void> = this.restore(text)
      .then(
        () => undefined,
        (e: unknown) => {
          if (!this.failed) {
            this.failed = true;
            this.failure = e;
          }
        },
      )
      .finally(() => {
        this.inflight.delete(p);
      });
    this.inflight.add(p);
  }

  /** Waits for every input in flight; throws the first failure. */
  async drain(): Promise<void> {
    while (this.inflight.size) await Promise.race(this.inflight);
    if (this.failed) throw this.failure;
  }
}
