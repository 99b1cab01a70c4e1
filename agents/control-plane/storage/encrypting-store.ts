// Encryption at rest at the storage boundary: a Store that wraps either backend (SQLite, etcd)
// and passes the values of the configured resources (Secrets) through their transformers, the
// first provider sealing every write, any listed provider opening a read. Handlers, watches and
// the authorizer see plain text; the backend only ever holds ciphertext for those keys.
import type { ResourceTransformer } from './encryption-config.ts';
import { ConflictError, KeyNotFoundError, type KeyValue, type ListOptions, type ListResult, type Store, type Watch, type WatchEvent } from './types.ts';

/** keys read per page while reencrypting */
const REENCRYPT_PAGE = 500;
/** attempts per key when concurrent writers keep winning the compare-and-swap */
const REENCRYPT_TRIES = 5;

export interface ReencryptResult {
  /** keys under the encrypted resources */
  total: number;
  /** keys rewritten because an older key or provider had written them */
  rewritten: number;
}

export class EncryptingStore implements Store {
  constructor(
    private readonly inner: Store,
    private resources: ResourceTransformer[],
  ) {}

  /** Takes effect for the next read or write (the control plane reloads its configuration file). */
  setResources(resources: ResourceTransformer[]): void {
    this.resources = resources;
  }

  currentResources(): readonly ResourceTransformer[] {
    return this.resources;
  }

  private transformerOf(key: string): ResourceTransformer | undefined {
    return this.resources.find((r) => key.startsWith(r.prefix));
  }

  private open(kv: KeyValue): KeyValue {
    const t = this.transformerOf(kv.key);
    return t ? { ...kv, value: t.transformers.fromStorage(kv.key, kv.value).value } : kv;
  }

  private seal(key: string, value: string): string {
    return this.transformerOf(key)?.transformers.toStorage(key, value) ?? value;
  }

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    const kv = await this.inner.get(key, revision);
    return kv && this.open(kv);
  }

  async list(prefix: string, opts?: ListOptions): Promise<ListResult> {
    const r = await this.inner.list(prefix, opts);
    // a range that holds no encrypted resource (pods, nodes...) is passed through untouched
    if (!this.resources.some((t) => t.prefix.startsWith(prefix) || prefix.startsWith(t.prefix))) return r;
    return { ...r, items: r.items.map((kv) => this.open(kv)) };
  }

  count(prefix: string): Promise<number> {
    return this.inner.count(prefix);
  }

  async create(key: string, value: string): Promise<KeyValue> {
    return { ...(await this.inner.create(key, this.seal(key, value))), value };
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    try {
      return { ...(await this.inner.update(key, this.seal(key, value), expectedModRevision)), value };
    } catch (e) {
      if (e instanceof ConflictError && e.current) throw new ConflictError(e.key, this.open(e.current));
      throw e;
    }
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    try {
      return this.open(await this.inner.delete(key, expectedModRevision));
    } catch (e) {
      if (e instanceof ConflictError && e.current) throw new ConflictError(e.key, this.open(e.current));
      throw e;
    }
  }

  watch(prefix: string, afterRevision: number): Watch {
    const w = this.inner.watch(prefix, afterRevision);
    const open = (ev: WatchEvent): WatchEvent => ({ ...ev, kv: this.open(ev.kv), prev: ev.prev && this.open(ev.prev) });
    return {
      close: () => w.close(),
      async *[Symbol.asyncIterator]() {
        for await (const ev of w) yield open(ev);
      },
    };
  }

  currentRevision(): Promise<number> {
    return this.inner.currentRevision();
  }

  compactedRevision(): Promise<number> {
    return this.inner.compactedRevision();
  }

  compact(rev: number): Promise<void> {
    return this.inner.compact(rev);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /**
   * Rewrites every value of the encrypted resources that the first provider did not write, so
   * that older keys can be dropped (`hawser secrets-encrypt reencrypt`). Compare-and-swap per key:
   * a concurrent write already used the first provider, and is kept.
   */
  async reencrypt(): Promise<ReencryptResult> {
    const out: ReencryptResult = { total: 0, rewritten: 0 };
    for (const { prefix, transformers } of [...this.resources]) {
      let startAfter: string | undefined;
      for (;;) {
        const page = await this.inner.list(prefix, { limit: REENCRYPT_PAGE, startAfter });
        for (const kv of page.items) {
          out.total++;
          if (await this.rewrite(kv, transformers)) out.rewritten++;
        }
        if (!page.more || !page.items.length) break;
        startAfter = page.items[page.items.length - 1].key;
      }
    }
    return out;
  }

  private async rewrite(first: KeyValue, transformers: ResourceTransformer['transformers']): Promise<boolean> {
    let kv: KeyValue | undefined = first;
    for (let i = 0; kv && i < REENCRYPT_TRIES; i++) {
      const { value, stale } = transformers.fromStorage(kv.key, kv.value);
      if (!stale) return false;
      try {
        await this.inner.update(kv.key, transformers.toStorage(kv.key, value), kv.modRevision);
        return true;
      } catch (e) {
        if (e instanceof KeyNotFoundError) return false;
        if (!(e instanceof ConflictError)) throw e;
        kv = await this.inner.get(kv.key);
      }
    }
    if (kv) throw new Error(`could not reencrypt ${kv.key}: it kept changing during ${REENCRYPT_TRIES} attempts`);
    return false;
  }
}
