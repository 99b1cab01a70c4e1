// The watch cache of one resource, as upstream's cacher: one list and one store watch per resource
// keep the current objects (the store's JSON texts, not decoded objects) and a bounded window of
// recent events in memory, shared by every watch of that resource. A watch without a
// resourceVersion streams its initial state from an immutable key-ordered snapshot (shared by all
// watches opened between two writes) instead of building its own list, and a watch from a recent
// resourceVersion is served from the window. Each watcher has a bounded queue of events: one that
// does not keep up is closed, as upstream terminates slow watchers, and its client re-watches.
import type { SelectorAttrs } from './crud.ts';
import type { KeyValue, Store, Watch, WatchEvent } from '../storage/types.ts';

/** One stored object version; `attrs` is what selectors read of it, computed once on first need. */
export interface Entry {
  kv: KeyValue;
  attrs?: SelectorAttrs;
  /** the API (group/version) `attrs` were read through: one storage may serve two (core and events.k8s.io Events) */
  attrsApi?: string;
}

/** A store event on cache entries: `prev` is the version before (for a delete, the deleted one). */
export interface CacheEvent {
  type: 'put' | 'delete';
  key: string;
  revision: number;
  cur?: Entry;
  prev?: Entry;
}

/** The current objects under a prefix, in key order, at revision `rev`: entries[lo..hi). */
export interface Snapshot {
  entries: readonly Entry[];
  lo: number;
  hi: number;
  rev: number;
}

export interface CacheLimits {
  /** events kept for watches from a recent resourceVersion */
  windowEvents: number;
  /** events a watcher may have waiting before it is closed */
  watcherEvents: number;
}

const DEFAULT_LIMITS: CacheLimits = { windowEvents: 1024, watcherEvents: 10_000 };

/** The events of one watch from the cache, in revision order; ends when closed. */
export class CacheWatcher implements AsyncIterable<CacheEvent> {
  private queue: CacheEvent[] = [];
  private head = 0;
  private wake: (() => void) | undefined;
  closed = false;
  /** true when it was closed for falling behind */
  overflowed = false;

  constructor(
    readonly prefix: string,
    private readonly max: number,
    private readonly onClose: (w: CacheWatcher) => void,
  ) {}

  push(ev: CacheEvent): void {
    if (this.closed || !ev.key.startsWith(this.prefix)) return;
    if (this.queue.length - this.head >= this.max) {
      this.overflowed = true;
      this.close();
      return;
    }
    this.queue.push(ev);
    this.wake?.();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<CacheEvent> {
    try {
      for (;;) {
        if (this.head < this.queue.length) {
          const ev = this.queue[this.head++];
          // drop what was taken now and then, not on every event (shift is linear)
          if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
            this.queue = this.queue.slice(this.head);
            this.head = 0;
          }
          yield ev;
          continue;
        }
        if (this.closed) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } finally {
      this.close();
    }
  }
}

function bisect(entries: readonly Entry[], key: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid].kv.key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class WatchCache {
  private readonly entries = new Map<string, Entry>();
  private sorted: Entry[] | undefined;
  private window: CacheEvent[] = [];
  /** the window holds every event under the prefix with a revision above this one */
  private oldest = 0;
  /** the revision the cache reflects */
  private rev = 0;
  private readonly watchers = new Set<CacheWatcher>();
  private ready: Promise<void> | undefined;
  private source: Watch | undefined;

  constructor(
    private readonly store: Store,
    readonly prefix: string,
    private readonly limits: CacheLimits = DEFAULT_LIMITS,
  ) {}

  /** One list, then the store's watch from its revision; again after the store's watch ended. */
  private start(): Promise<void> {
    this.ready ??= (async () => {
      const l = await this.store.list(this.prefix);
      for (const kv of l.items) this.entries.set(kv.key, { kv });
      this.rev = this.oldest = l.revision;
      const w = this.store.watch(this.prefix, l.revision);
      this.source = w;
      void this.follow(w);
    })().catch((e: unknown) => {
      this.reset();
      throw e;
    });
    return this.ready;
  }

  private async follow(w: Watch): Promise<void> {
    try {
      for await (const ev of w) this.apply(ev);
    } catch {
      // a lost or compacted store watch: start over below
    }
    if (this.source === w) this.reset();
  }

  /** Forgets everything; current watchers end (their clients re-watch) and the next one relists. */
  private reset(): void {
    this.source?.close();
    this.source = undefined;
    this.ready = undefined;
    this.entries.clear();
    this.sorted = undefined;
    this.window = [];
    for (const w of [...this.watchers]) w.close();
  }

  private apply(ev: WatchEvent): void {
    const key = ev.kv.key;
    const had = this.entries.get(key);
    const prev = had ?? (ev.prev ? { kv: ev.prev } : undefined);
    let ce: CacheEvent;
    if (ev.type === 'put') {
      const cur = { kv: ev.kv };
      this.entries.set(key, cur);
      ce = { type: 'put', key, revision: ev.revision, cur, prev };
    } else {
      this.entries.delete(key);
      ce = { type: 'delete', key, revision: ev.revision, prev: prev ?? { kv: ev.kv } };
    }
    this.sorted = undefined;
    this.rev = ev.revision;
    this.window.push(ce);
    if (this.window.length > this.limits.windowEvents) {
      const drop = this.window.length - this.limits.windowEvents;
      this.oldest = this.window[drop - 1].revision;
      this.window = this.window.slice(drop);
    }
    for (const w of this.watchers) w.push(ce);
  }

  /** Started, and caught up with what the store committed before this call (SQLite tells at once). */
  private async fresh(): Promise<void> {
    await this.start();
    await new Promise((r) => setImmediate(r));
    await this.start();
  }

  private watcher(prefix: string): CacheWatcher {
    const w = new CacheWatcher(prefix, this.limits.watcherEvents, (x) => this.watchers.delete(x));
    this.watchers.add(w);
    return w;
  }

  /** The current objects under `prefix` and a watcher of every later event, taken together. */
  async snapshot(prefix: string): Promise<{ snapshot: Snapshot; watcher: CacheWatcher }> {
    await this.fresh();
    this.sorted ??= [...this.entries.values()].sort((a, b) => (a.kv.key < b.kv.key ? -1 : a.kv.key > b.kv.key ? 1 : 0));
    const entries = this.sorted;
    const snapshot = { entries, lo: bisect(entries, prefix), hi: bisect(entries, `${prefix}\uffff`), rev: this.rev };
    return { snapshot, watcher: this.watcher(prefix) };
  }

  /** A watcher of the events under `prefix` after `rev`, or undefined when the window starts later. */
  async since(prefix: string, rev: number): Promise<CacheWatcher | undefined> {
    await this.fresh();
    if (rev < this.oldest) return undefined;
    const w = this.watcher(prefix);
    for (const ev of this.window) if (ev.revision > rev) w.push(ev);
    return w;
  }

  get watcherCount(): number {
    return this.watchers.size;
  }
}
