// The storage contract the API server is written against: a revisioned key-value store with the
// semantics of etcd v3 (one global revision counter, per-key create/mod revisions, watch from any
// retained revision, compaction). SQLite implements it now; etcd can slot in behind the same shape.

export interface KeyValue {
  key: string;
  value: string;
  /** revision at which this key was (last) created */
  createRevision: number;
  /** revision of the write that produced this value */
  modRevision: number;
}

export interface ListOptions {
  /** at most this many items (0 or absent: all) */
  limit?: number;
  /** list keys strictly after this one (pagination) */
  startAfter?: string;
  /** read the state as of this revision (absent: current) */
  revision?: number;
}

export interface ListResult {
  items: KeyValue[];
  /** the revision the list was served at */
  revision: number;
  /** true when more keys follow the last item returned */
  more: boolean;
  /** how many keys follow the returned page (when `more`) */
  remaining: number;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  /** for put: the new value; for delete: the last value, with modRevision = the deletion revision */
  kv: KeyValue;
  /** the value before this event, if the key existed */
  prev?: KeyValue;
  revision: number;
}

export interface Watch extends AsyncIterable<WatchEvent> {
  close(): void;
}

/** Thrown when a compare-and-swap precondition fails. */
export class ConflictError extends Error {
  constructor(
    readonly key: string,
    readonly current?: KeyValue,
  ) {
    super(`conflict on ${key}`);
  }
}
export class KeyExistsError extends Error {
  constructor(readonly key: string) {
    super(`key exists: ${key}`);
  }
}
export class KeyNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`key not found: ${key}`);
  }
}
/** The requested revision is older than the oldest one the store retains. */
export class CompactedError extends Error {
  constructor(
    readonly requested: number,
    readonly compacted: number,
  ) {
    super(`required revision ${requested} has been compacted (oldest retained: ${compacted + 1})`);
  }
}
/** The requested revision is newer than the store's current one. */
export class FutureRevisionError extends Error {
  constructor(
    readonly requested: number,
    readonly current: number,
  ) {
    super(`revision ${requested} is newer than the current revision ${current}`);
  }
}

/** The backend refused a value over its size limit (etcd's --max-request-bytes). */
export class ValueTooLargeError extends Error {}

export interface Store {
  get(key: string, revision?: number): Promise<KeyValue | undefined>;
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  count(prefix: string): Promise<number>;
  /** Fails with KeyExistsError when the key exists. */
  create(key: string, value: string): Promise<KeyValue>;
  /** Compare-and-swap on modRevision. Fails with ConflictError (stale) or KeyNotFoundError. */
  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue>;
  /** Returns the deleted value (modRevision = deletion revision). */
  delete(key: string, expectedModRevision?: number): Promise<KeyValue>;
  /** Events with revision > afterRevision for keys under prefix, in revision order. */
  watch(prefix: string, afterRevision: number): Watch;
  currentRevision(): Promise<number>;
  /** Oldest revision that can no longer be read or watched from (0: none). */
  compactedRevision(): Promise<number>;
  /** Forget history at and below rev (the latest value of each live key is kept). */
  compact(rev: number): Promise<void>;
  close(): Promise<void>;
}
