// etcd v3 implementation of the revisioned store, through the etcd3 client. etcd already has the
// model the Store interface describes (one revision counter, per-key create/mod revisions, MVCC
// reads at a revision, watch from a revision with previous values, compaction), so each method is
// one range or one transaction. Compare-and-swap is a Txn on the key's mod revision, as the
// Kubernetes API server does. The compacted revision is recorded under COMPACT_KEY (etcd does not
// report it) so compactedRevision() can answer without probing.
import { circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { Etcd3, GRPCUnavailableError, type IKeyValue, type IOptions, type IRangeRequest, type IResponseHeader, type Watcher } from 'etcd3';
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  type Watch,
  type WatchEvent,
  ValueTooLargeError,
} from './types.ts';
import { prefixEnd } from './keys.ts';
import { QueueWatch } from './watchers.ts';

/** Outside /registry/, so no resource prefix (and no API watch) ever covers it. */
export const COMPACT_KEY = '/hawser/compact_rev';

/**
 * keys per range call of a list (about 1 MB of pods with their managed fields): each response is
 * decoded in one synchronous step, so a smaller page is a shorter stall for every other request
 */
const PAGE = 500;

const enc = (s: string): Buffer => Buffer.from(s, 'utf8');
const num = (v: string | number | undefined): number => Number(v ?? 0);

function toKv(kv: IKeyValue): KeyValue {
  return { key: kv.key.toString('utf8'), value: kv.value.toString('utf8'), createRevision: num(kv.create_revision), modRevision: num(kv.mod_revision) };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export interface EtcdStoreOptions {
  /** client URLs, e.g. http://127.0.0.1:2379 (comma-separated lists are split) */
  endpoints: string | string[];
  /** per-call deadline in ms (default 10 s) */
  timeoutMs?: number;
  /** keys per range call when listing (default 1000) */
  pageSize?: number;
}

export class EtcdStore implements Store {
  private readonly client: Etcd3;
  private readonly watches = new Set<QueueWatch>();
  private readonly timeoutMs: number;
  private readonly pageSize: number;

  constructor(o: EtcdStoreOptions) {
    const hosts = (Array.isArray(o.endpoints) ? o.endpoints : o.endpoints.split(',')).map((s) => s.trim()).filter(Boolean);
    if (!hosts.length) throw new Error('no etcd endpoint given');
    // Only an unreachable server is retried or trips the breaker: the client's defaults also retry
    // (and break the circuit on) refusals such as an oversized value, after which every call
    // would fail fast for seconds. A compare-and-swap is never blindly re-sent otherwise.
    const unavailable = handleWhen((e) => e instanceof GRPCUnavailableError);
    const opts: IOptions = {
      hosts,
      dialTimeout: 5_000,
      // a value may be as large as the API's 3 MiB body limit: leave room above gRPC's 4 MiB default
      grpcOptions: { 'grpc.max_receive_message_length': 64 * 1024 * 1024 },
      faultHandling: {
        global: retry(unavailable, { maxAttempts: 2, backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 500 }) }),
        host: () => circuitBreaker(unavailable, { halfOpenAfter: 1_000, breaker: new ConsecutiveBreaker(5) }),
      },
    };
    this.client = new Etcd3(opts);
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.pageSize = o.pageSize ?? PAGE;
  }

  private get kv() {
    return this.client.kv;
  }

  private call<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`etcd call timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
  }

  /** Maps etcd's MVCC errors onto the store's own. */
  private async translate(e: unknown, revision?: number): Promise<never> {
    const m = message(e);
    if (m.includes('required revision has been compacted')) throw new CompactedError(revision ?? 0, await this.compactedRevision());
    if (m.includes('required revision is a future revision')) throw new FutureRevisionError(revision ?? 0, await this.currentRevision());
    if (m.includes('request is too large') || m.includes('received message larger than max')) throw new ValueTooLargeError(m);
    throw e;
  }

  private async range(req: IRangeRequest, revision?: number) {
    try {
      return await this.call(this.kv.range(revision ? { ...req, revision } : req));
    } catch (e) {
      return this.translate(e, revision);
    }
  }

  private async txn(req: Parameters<Etcd3['kv']['txn']>[0]) {
    try {
      return await this.call(this.kv.txn(req));
    } catch (e) {
      return this.translate(e);
    }
  }

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    const r = await this.range({ key: enc(key) }, revision);
    return r.kvs.length ? toKv(r.kvs[0]) : undefined;
  }

  /**
   * Large lists are read in pages of pageSize keys, all at the revision of the first page, so no
   * response grows past gRPC's message limit and the result is still one consistent snapshot.
   */
  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    let start = opts.startAfter !== undefined && opts.startAfter >= prefix ? opts.startAfter + '\0' : prefix;
    const end = prefixEnd(prefix) || '\0';
    const want = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    let revision = opts.revision;
    const items: KeyValue[] = [];
    for (;;) {
      const r = await this.range({ key: enc(start || '\0'), range_end: enc(end), limit: Math.min(this.pageSize, want - items.length) }, revision);
      revision ??= num((r.header as IResponseHeader).revision);
      items.push(...r.kvs.map(toKv));
      if (!r.more || items.length >= want) {
        return { items, revision, more: !!r.more, remaining: r.more ? num(r.count) - r.kvs.length : 0 };
      }
      start = items[items.length - 1].key + '\0';
    }
  }

  async count(prefix: string): Promise<number> {
    const r = await this.range({ key: enc(prefix || '\0'), range_end: enc(prefixEnd(prefix) || '\0'), count_only: true });
    return num(r.count);
  }

  async create(key: string, value: string): Promise<KeyValue> {
    const r = await this.txn({
      compare: [{ key: enc(key), target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key: enc(key), value: enc(value) } }],
      failure: [],
    });
    if (!r.succeeded) throw new KeyExistsError(key);
    const rev = num(r.header.revision);
    return { key, value, createRevision: rev, modRevision: rev };
  }

  /** The current value, for the failure branch of a compare-and-swap. */
  private async failed(key: string, responses: { response_range?: { kvs: IKeyValue[] } }[]): Promise<never> {
    const kvs = responses[0]?.response_range?.kvs ?? [];
    if (!kvs.length) throw new KeyNotFoundError(key);
    throw new ConflictError(key, toKv(kvs[0]));
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    const r = await this.txn({
      compare: [{ key: enc(key), target: 'Mod', result: 'Equal', mod_revision: expectedModRevision }],
      success: [{ request_put: { key: enc(key), value: enc(value), prev_kv: true } }],
      failure: [{ request_range: { key: enc(key) } }],
    });
    if (!r.succeeded) return this.failed(key, r.responses);
    const prev = r.responses[0].response_put.prev_kv;
    const rev = num(r.header.revision);
    return { key, value, createRevision: prev ? num(prev.create_revision) : rev, modRevision: rev };
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    const guard =
      expectedModRevision !== undefined
        ? { key: enc(key), target: 'Mod' as const, result: 'Equal' as const, mod_revision: expectedModRevision }
        : { key: enc(key), target: 'Create' as const, result: 'Greater' as const, create_revision: 0 };
    const r = await this.txn({
      compare: [guard],
      success: [{ request_delete_range: { key: enc(key), prev_kv: true } }],
      failure: [{ request_range: { key: enc(key) } }],
    });
    if (!r.succeeded) return this.failed(key, r.responses);
    const prev = r.responses[0].response_delete_range.prev_kvs[0];
    if (!prev) throw new KeyNotFoundError(key);
    return { ...toKv(prev), modRevision: num(r.header.revision) };
  }

  watch(prefix: string, afterRevision: number): Watch {
    const q = new QueueWatch(prefix, (w) => {
      this.watches.delete(w);
      void watcher.cancel().catch(() => undefined);
    });
    this.watches.add(q);
    const builder = this.client
      .watch()
      .withPreviousKV()
      .startRevision(String(afterRevision + 1));
    const watcher: Watcher = (prefix ? builder.prefix(prefix) : builder.inRange({ start: '\0', end: '\0' })).watcher();
    watcher.on('data', (res) => {
      for (const ev of res.events) {
        const kv = toKv(ev.kv);
        const prev = ev.prev_kv ? toKv(ev.prev_kv) : undefined;
        const out: WatchEvent =
          ev.type === 'Delete'
            ? { type: 'delete', kv: { ...(prev ?? kv), key: kv.key, modRevision: kv.modRevision }, prev, revision: kv.modRevision }
            : { type: 'put', kv, prev, revision: kv.modRevision };
        q.push(out);
      }
    });
    // etcd cancels a watch whose start revision was compacted away; any other cancel or a lost
    // stream ends the watch, and the API client re-watches from the last revision it saw
    watcher.on('error', (err) => void this.watchFailed(q, prefix, afterRevision, err));
    watcher.on('disconnected', () => q.close());
    return q;
  }

  private async watchFailed(q: QueueWatch, prefix: string, afterRevision: number, err: unknown): Promise<void> {
    try {
      await this.range({ key: enc(prefix || '\0'), count_only: true }, afterRevision + 1);
      q.fail(err);
    } catch (e) {
      q.fail(e instanceof CompactedError ? new CompactedError(afterRevision, e.compacted) : err);
    }
  }

  async currentRevision(): Promise<number> {
    const r = await this.range({ key: enc(COMPACT_KEY), count_only: true });
    return num(r.header.revision);
  }

  async compactedRevision(): Promise<number> {
    const r = await this.range({ key: enc(COMPACT_KEY) });
    return r.kvs.length ? num(r.kvs[0].value.toString('utf8')) : 0;
  }

  async compact(rev: number): Promise<void> {
    const c = Math.min(rev, await this.currentRevision());
    if (c <= (await this.compactedRevision())) return;
    try {
      await this.call(this.kv.compact({ revision: c, physical: true }));
    } catch (e) {
      if (!message(e).includes('required revision has been compacted')) throw e;
    }
    await this.call(this.kv.put({ key: enc(COMPACT_KEY), value: enc(String(c)) }));
  }

  async close(): Promise<void> {
    for (const w of [...this.watches]) w.close();
    this.client.close();
  }

  get watcherCount(): number {
    return this.watches.size;
  }
}
