// One list-and-watch per resource path shared by every controller that reads it (upstream's
// shared informer factory): 3,000 pods are cached and decoded once, not once per controller.
import type { Logger } from '../../../api/log.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import { type Handlers, Informer } from '../../client/informer.ts';
import type { LoopbackClient } from '../../client/loopback.ts';

export interface SharedInformer {
  readonly cache: Map<string, Obj>;
  readonly synced: Promise<void>;
  /** Controllers add theirs before starting, and enqueue the whole cache once it has synced. */
  addHandlers(h: Handlers): void;
}

class Shared implements SharedInformer {
  private readonly handlers: Handlers[] = [];
  readonly informer: Informer;
  started = false;

  constructor(client: LoopbackClient, path: string, log: Logger) {
    const each = (fn: (h: Handlers) => void) => {
      for (const h of this.handlers) {
        try {
          fn(h);
        } catch (e) {
          log.error({ err: e, path }, 'informer handler failed');
        }
      }
    };
    this.informer = new Informer(
      client,
      path,
      {
        add: (o) => each((h) => h.add?.(o)),
        update: (o, old) => each((h) => h.update?.(o, old)),
        delete: (o) => each((h) => h.delete?.(o)),
      },
      log,
    );
  }

  get cache(): Map<string, Obj> {
    return this.informer.cache;
  }

  get synced(): Promise<void> {
    return this.informer.synced;
  }

  addHandlers(h: Handlers): void {
    this.handlers.push(h);
  }

  /** Takes one set of handlers off; true when none are left. */
  removeHandlers(h: Handlers): boolean {
    const i = this.handlers.indexOf(h);
    if (i >= 0) this.handlers.splice(i, 1);
    return this.handlers.length === 0;
  }
}

export class SharedInformers {
  private readonly byPath = new Map<string, Shared>();
  private running = false;

  constructor(
    private readonly client: LoopbackClient,
    private readonly log: Logger,
  ) {}

  /** The informer of one resource path (e.g. /api/v1/pods), created on first use. */
  get(path: string): SharedInformer {
    let s = this.byPath.get(path);
    if (!s) {
      s = new Shared(this.client, path, this.log);
      this.byPath.set(path, s);
      if (this.running) this.startOne(s);
    }
    return s;
  }

  /**
   * Gives back handlers added to `path`'s informer; the last one out stops its list and watch
   * (a resource that is no longer served, such as a deleted CRD's, would relist forever).
   */
  release(path: string, h: Handlers): void {
    const s = this.byPath.get(path);
    if (!s || !s.removeHandlers(h)) return;
    s.informer.stop();
    this.byPath.delete(path);
  }

  private startOne(s: Shared): void {
    if (s.started) return;
    s.started = true;
    s.informer.start();
  }

  /** Starts every informer made so far and any made later; idempotent. */
  start(): void {
    this.running = true;
    for (const s of this.byPath.values()) this.startOne(s);
  }

  stop(): void {
    this.running = false;
    for (const s of this.byPath.values()) s.informer.stop();
    this.byPath.clear();
  }
}

/** What a controller reads: a cache, when it is filled, and how to run it. */
export interface CacheSource {
  readonly cache: Map<string, Obj>;
  readonly synced: Promise<void>;
  start(): void;
  stop(): void;
}

/**
 * The set's shared informer for `path` when there is a set (the controller manager), else one of
 * the caller's own (a test, a controller run alone). A shared one is stopped by its set.
 */
export function cacheFor(client: LoopbackClient, log: Logger, path: string, handlers: Handlers, shared?: SharedInformers): CacheSource {
  if (!shared) {
    const own = new Informer(client, path, handlers, log);
    return {
      cache: own.cache,
      get synced() {
        return own.synced;
      },
      start: () => own.start(),
      stop: () => own.stop(),
    };
  }
  const s = shared.get(path);
  s.addHandlers(handlers);
  return {
    cache: s.cache,
    get synced() {
      return s.synced;
    },
    start: () => shared.start(),
    stop: () => undefined,
  };
}
