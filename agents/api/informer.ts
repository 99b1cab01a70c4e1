// List-then-watch cache of one resource, as client-go's reflector does: list to get the state and
// a resourceVersion, watch from it, relist on 410 Gone, rewatch after a dropped stream. Handlers see
// add/update/delete in order; the cache is the only view agents read from. The one informer of the
// tree: agents give it their HTTPS ApiClient, the control plane its LoopbackClient
// (control-plane/client/informer.ts); both are a ListWatch, the transport tests replace.
import { ApiError, isGone } from './errors.ts';
import type { Query, WatchEvent } from './client.ts';
import type { Logger } from './log.ts';

export interface KubeObject {
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export interface Handlers<T> {
  add?(obj: T): void;
  update?(obj: T, old: T): void;
  delete?(obj: T): void;
}

/** What an informer needs of a client (ApiClient and the loopback adapter are one). */
export interface ListWatch<T> {
  list(path: string, query: Query): Promise<{ items: T[]; metadata: { resourceVersion: string } }>;
  /** resolves when the server ends the stream; rejects on a failure */
  watch(path: string, query: Query, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void>;
}

export interface InformerOptions {
  log?: Logger;
  /** every resyncMs, update(o, o) for each cached object, as client-go's resync period; 0: never */
  resyncMs?: number;
  /** back-off after consecutive failures: base * 2^n, at most max (default 200 ms .. 5 s) */
  backoff?: { baseMs: number; maxMs: number };
  /** how the back-off waits (tests record it) */
  sleep?: (ms: number) => Promise<void>;
}

export const keyOf = (o: KubeObject): string => (o.metadata?.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : String(o.metadata?.name));

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Informer<T extends KubeObject> {
  readonly cache = new Map<string, T>();
  private handlers: Handlers<T>[] = [];
  private rv = '';
  private abort = new AbortController();
  private syncPromise!: Promise<void>;
  private markSynced!: () => void;
  private running = false;
  private resync?: NodeJS.Timeout;
  private readonly o: InformerOptions;

  constructor(
    private client: ListWatch<T>,
    private path: string,
    private query: Query = {},
    log?: Logger,
    o: Omit<InformerOptions, 'log'> = {},
  ) {
    this.syncPromise = new Promise((r) => (this.markSynced = r));
    this.o = { ...o, log };
  }

  on(h: Handlers<T>): this {
    this.handlers.push(h);
    return this;
  }
  list(): T[] {
    return [...this.cache.values()];
  }
  get(key: string): T | undefined {
    return this.cache.get(key);
  }
  waitForSync(): Promise<void> {
    return this.syncPromise;
  }

  start(): this {
    if (!this.running) {
      this.running = true;
      void this.run();
      if (this.o.resyncMs)
        this.resync = setInterval(() => {
          for (const o of this.cache.values()) this.emit('update', o, o);
        }, this.o.resyncMs);
    }
    return this;
  }

  stop(): void {
    this.running = false;
    this.abort.abort();
    clearInterval(this.resync);
  }

  private emit(kind: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    for (const h of this.handlers) {
      try {
        if (kind === 'add') h.add?.(obj);
        else if (kind === 'update') h.update?.(obj, old ?? obj);
        else h.delete?.(obj);
      } catch (err) {
        this.o.log?.error({ err }, 'informer handler failed');
      }
    }
  }

  private async relist(): Promise<void> {
    const res = await this.client.list(this.path, this.query);
    const seen = new Set<string>();
    for (const item of res.items) {
      const k = keyOf(item);
      seen.add(k);
      const old = this.cache.get(k);
      this.cache.set(k, item);
      if (!old) this.emit('add', item);
      else if (old.metadata?.resourceVersion !== item.metadata?.resourceVersion) this.emit('update', item, old);
    }
    for (const [k, old] of [...this.cache])
      if (!seen.has(k)) {
        this.cache.delete(k);
        this.emit('delete', old);
      }
    this.rv = res.metadata.resourceVersion;
    this.markSynced();
  }

  private apply(e: WatchEvent<T>): void {
    // an ERROR event carries a Status (410 Gone when the resourceVersion was compacted away)
    if (e.type === 'ERROR') {
      const st = e.object as { code?: number };
      throw ApiError.fromStatus(st.code ?? 500, e.object);
    }
    const rv = e.object.metadata?.resourceVersion;
    if (rv) this.rv = rv;
    if (e.type === 'BOOKMARK') return;
    const k = keyOf(e.object);
    const old = this.cache.get(k);
    if (e.type === 'DELETED') {
      if (old) {
        this.cache.delete(k);
        this.emit('delete', e.object);
      }
      return;
    }
    this.cache.set(k, e.object);
    if (old) this.emit('update', e.object, old);
    else this.emit('add', e.object);
  }

  private async run(): Promise<void> {
    const { baseMs, maxMs } = this.o.backoff ?? { baseMs: 200, maxMs: 5000 };
    let needList = true;
    let failures = 0;
    while (this.running) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        await this.client.watch(
          this.path,
          {
            ...this.query,
            resourceVersion: this.rv,
            allowWatchBookmarks: true,
            timeoutSeconds: 300,
          },
          (e) => this.apply(e),
          this.abort.signal,
        );
        failures = 0;
      } catch (err) {
        if (!this.running) break;
        // an API error (410 Gone above all) may mean the resourceVersion is unusable: list again
        if (err instanceof ApiError) needList = true;
        // the first 410 relists at once, as the reflector does; a failure after that backs off
        failures++;
        if (isGone(err) && failures === 1) continue;
        this.o.log?.warn({ err: String(err), path: this.path }, 'watch failed; retrying');
        await (this.o.sleep ?? sleep)(Math.min(baseMs * 2 ** failures, maxMs));
      }
    }
  }
}
