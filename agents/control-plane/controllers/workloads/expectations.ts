// Upstream's controller expectations: after a controller asks for N creations and some deletions,
// it must not act on the same owner again until its informer has seen them, or it would count a
// stale cache and create or delete twice. Expectations lapse after a TTL so a lost event cannot
// wedge an owner forever.
export class Expectations {
  private readonly m = new Map<string, { adds: number; dels: Set<string>; at: number }>();

  constructor(
    private readonly ttlMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records what the owner `key` is about to do: `adds` creations and deletions of `dels` (child keys). */
  expect(key: string, adds: number, dels: string[] = []): void {
    const e = this.m.get(key);
    if (e && !this.expired(e)) {
      e.adds += adds;
      for (const d of dels) e.dels.add(d);
      e.at = this.now();
    } else this.m.set(key, { adds, dels: new Set(dels), at: this.now() });
  }

  /** A creation was seen by the informer, or failed and will not be seen. */
  creationObserved(key: string): void {
    const e = this.m.get(key);
    if (e && e.adds > 0) e.adds--;
  }

  /** A deletion (or the start of a graceful one) was seen, or failed. */
  deletionObserved(key: string, child: string): void {
    this.m.get(key)?.dels.delete(child);
  }

  private expired(e: { at: number }): boolean {
    return this.now() - e.at > this.ttlMs;
  }

  satisfied(key: string): boolean {
    const e = this.m.get(key);
    if (!e) return true;
    if ((e.adds <= 0 && e.dels.size === 0) || this.expired(e)) {
      this.m.delete(key);
      return true;
    }
    return false;
  }

  forget(key: string): void {
    this.m.delete(key);
  }
}
