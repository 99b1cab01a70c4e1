// List-then-watch cache of one resource for the in-process controllers: lists, watches from the
// list's resourceVersion with bookmarks, re-watches when a stream ends and relists on 410 Gone.
import type { Logger } from '../../api/log.ts';
import type { Obj } from '../apiserver/strategies/types.ts';
import type { LoopbackClient } from './loopback.ts';

export interface Handlers {
  add?(o: Obj): void;
  update?(o: Obj, old: Obj): void;
  delete?(o: Obj): void;
}

/** A handler that throws must not take the watch loop down with it. */
function safe(log: Logger, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    log.error({ err: e }, 'informer handler failed');
  }
}

export const keyOf = (o: Obj) => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name!);

export class Informer {
  readonly cache = new Map<string, Obj>();
  private readonly abort = new AbortController();
  private resolveSynced!: () => void;
  readonly synced = new Promise<void>((r) => (this.resolveSynced = r));

  constructor(
    private readonly client: LoopbackClient,
    private readonly path: string,
    private readonly handlers: Handlers,
    private readonly log: Logger,
    private readonly query: Record<string, string> = {},
  ) {}

  start(): this {
    void this.run();
    return this;
  }

  stop(): void {
    this.abort.abort();
  }

  private async relist(): Promise<string> {
    const l = await this.client.list(this.path, this.query);
    const seen = new Set<string>();
    for (const o of l.items) {
      const k = keyOf(o);
      seen.add(k);
      const old = this.cache.get(k);
      this.cache.set(k, o);
      if (!old) safe(this.log, () => this.handlers.add?.(o));
      else if (old.metadata.resourceVersion !== o.metadata.resourceVersion) safe(this.log, () => this.handlers.update?.(o, old));
    }
    for (const [k, o] of [...this.cache]) {
      if (seen.has(k)) continue;
      this.cache.delete(k);
      safe(this.log, () => this.handlers.delete?.(o));
    }
    return l.metadata.resourceVersion;
  }

  private async run(): Promise<void> {
    let rv: string | undefined;
    while (!this.abort.signal.aborted) {
      try {
        if (rv === undefined) {
          rv = await this.relist();
          this.resolveSynced();
        }
        for await (const ev of this.client.watch(this.path, { ...this.query, resourceVersion: rv, allowWatchBookmarks: 'true' }, this.abort.signal)) {
          if (ev.type === 'ERROR') {
            rv = undefined; // 410 Gone or another failure: start over from a fresh list
            break;
          }
          rv = ev.object.metadata.resourceVersion ?? rv;
          if (ev.type === 'BOOKMARK') continue;
          const k = keyOf(ev.object);
          const old = this.cache.get(k);
          if (ev.type === 'DELETED') {
            this.cache.delete(k);
            if (old) safe(this.log, () => this.handlers.delete?.(ev.object));
          } else {
            this.cache.set(k, ev.object);
            if (old) safe(this.log, () => this.handlers.update?.(ev.object, old));
            else safe(this.log, () => this.handlers.add?.(ev.object));
          }
        }
      } catch (e) {
        if (this.abort.signal.aborted) return;
        this.log.warn({ err: e, path: this.path }, 'informer watch failed; relisting');
        rv = undefined;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }
}
