// List-then-watch cache of one resource, as client-go's reflector does: list to get the state and
// a resourceVersion, watch from it, relist on 410 Gone, rewatch after a dropped stream. Handlers see
// add/update/delete in order; the cache is the only view agents read from.
import { ApiClient, ApiError, type Query, type WatchEvent } from './client.ts';
import type { Logger } from './log.ts';

export interface KubeObject {
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export interface Handlers<T> {
  add?(obj: T): void;
  update?(obj: T, old: T): void;
  delete?(obj: T): void;
}

export const keyOf = (o: KubeObject): string =>
  o.metadata?.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : String(o.metadata?.name);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Informer<T extends KubeObject> {
  readonly cache = new Map<string, T>();
  private handlers: Handlers<T>[] = [];
  private rv = '';
  private abort = new AbortController();
  private synced!: Promise<void>;
  private markSynced!: () => void;
  private running = false;

  constructor(private client: ApiClient, private path: string, private query: Query = {}, private log?: Logger) {
    this.synced = new Promise((r) => (this.markSynced = r));
  }

  on(h: Handlers<T>): this { this.handlers.push(h); return this; }
  list(): T[] { return [...this.cache.values()]; }
  get(key: string): T | undefined { return this.cache.get(key); }
  waitForSync(): Promise<void> { return this.synced; }

  start(): this {
    if (!this.running) { this.running = true; void this.run(); }
    return this;
  }

  stop(): void { this.running = false; this.abort.abort(); }

  private emit(kind: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    for (const h of this.handlers) {
      try {
        if (kind === 'add') h.add?.(obj);
        else if (kind === 'update') h.update?.(obj, old as T);
        else h.delete?.(obj);
      } catch (err) { this.log?.error({ err }, 'informer handler failed'); }
    }
  }

  private async relist(): Promise<void> {
    const res = await this.client.list<T>(this.path, this.query);
    const seen = new Set<string>();
    for (const item of res.items) {
      const k = keyOf(item);
      seen.add(k);
      const old = this.cache.get(k);
      this.cache.set(k, item);
      if (!old) this.emit('add', item);
      else if (old.metadata?.resourceVersion !== item.metadata?.resourceVersion) this.emit('update', item, old);
    }
    for (const [k, old] of this.cache) if (!seen.has(k)) { this.cache.delete(k); this.emit('delete', old); }
    this.rv = res.metadata.resourceVersion;
    this.markSynced();
  }

  private apply(e: WatchEvent<T>): void {
    if (e.type === 'ERROR') {
      const st = e.object as unknown as { code?: number; message?: string };
      throw new ApiError(st.code ?? 500, st as never);
    }
    const rv = e.object.metadata?.resourceVersion;
    if (rv) this.rv = rv;
    if (e.type === 'BOOKMARK') return;
    const k = keyOf(e.object);
    const old = this.cache.get(k);
    if (e.type === 'DELETED') { if (old) { this.cache.delete(k); this.emit('delete', e.object); } return; }
    this.cache.set(k, e.object);
    if (old) this.emit('update', e.object, old); else this.emit('add', e.object);
  }

  private async run(): Promise<void> {
    let needList = true;
    let failures = 0;
    while (this.running) {
      try {
        if (needList) { await this.relist(); needList = false; }
        await this.client.watch<T>(this.path, {
          ...this.query, resourceVersion: this.rv, allowWatchBookmarks: true, timeoutSeconds: 300,
        }, (e) => this.apply(e), this.abort.signal);
        failures = 0;
      } catch (err) {
        if (!this.running) break;
        if (err instanceof ApiError && err.code === 410) { needList = true; continue; }
        failures++;
        this.log?.warn({ err: String(err), path: this.path }, 'watch failed; retrying');
        if (err instanceof ApiError) needList = true;
        await sleep(Math.min(200 * 2 ** failures, 5000));
      }
    }
  }
}
