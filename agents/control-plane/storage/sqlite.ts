// SQLite implementation of the revisioned store, laid out like kine: an append-only log table with
// one row per revision (key, value, create revision, previous revision, deleted flag), so any
// retained revision can be read or watched from, plus a `live` index of each key's latest row.
// WAL mode with synchronous=FULL: a write that returned has been fsynced and survives kill -9.
// One process owns the file (exclusive locking); the revision counter is kept in memory.
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
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
} from './types.ts';
import { prefixEnd } from './keys.ts';
import { WatcherSet } from './watchers.ts';

interface Row {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: string;
}

/** rows per synchronous read of a list */
const PAGE = 1000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS log (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_name_id ON log (name, id);
CREATE TABLE IF NOT EXISTS live (name TEXT PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;
`;

export { prefixEnd };

/** Above every key: the range end of the empty prefix. An explicit bound lets SQLite stop the index walk there. */
const MAX_KEY = String.fromCodePoint(0x10ffff);

function rangeEnd(prefix: string): string {
  return prefixEnd(prefix) || MAX_KEY;
}

function toKv(r: Row): KeyValue {
  return { key: r.name, value: r.value, createRevision: r.create_revision, modRevision: r.id };
}

/**
 * The database holds every Secret: create it at 0600 before SQLite opens it (SQLite gives the WAL
 * the database's mode), and take back to 0600 files an older version left at 0644.
 */
function ownerOnly(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly watchers = new WatcherSet();
  private rev: number;
  private compacted: number;
  private readonly stmts;

  private readonly pageSize: number;

  constructor(
    readonly file: string,
    o: { pageSize?: number } = {},
  ) {
    this.pageSize = o.pageSize ?? PAGE;
    if (file !== ':memory:') {
      mkdirSync(dirname(file), { recursive: true });
      ownerOnly(file);
    }
    this.db = new Database(file);
    // auto_vacuum must be chosen before the first table exists; it lets compaction give pages back
    this.db.pragma('auto_vacuum = INCREMENTAL');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('locking_mode = EXCLUSIVE');
    this.db.exec(SCHEMA);
    const db = this.db;
    this.stmts = {
      maxId: db.prepare('SELECT COALESCE(MAX(id), 0) AS m FROM log'),
      meta: db.prepare('SELECT v FROM meta WHERE k = ?'),
      setMeta: db.prepare('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v'),
      liveRow: db.prepare('SELECT l.* FROM live v JOIN log l ON l.id = v.id WHERE v.name = ?'),
      rowAt: db.prepare('SELECT * FROM log WHERE name = ? AND id <= ? ORDER BY id DESC LIMIT 1'),
      rowById: db.prepare('SELECT * FROM log WHERE id = ?'),
      insert: db.prepare('INSERT INTO log (id, name, created, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      setLive: db.prepare('INSERT INTO live (name, id) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET id = excluded.id'),
      delLive: db.prepare('DELETE FROM live WHERE name = ?'),
      listLive: db.prepare(
        `SELECT l.* FROM live v JOIN log l ON l.id = v.id
         WHERE v.name >= @lo AND v.name < @hi AND v.name > @after ORDER BY v.name LIMIT @limit`,
      ),
      countLive: db.prepare(`SELECT COUNT(*) AS n FROM live WHERE name >= @lo AND name < @hi AND name > @after`),
      // the rows that were live at @rev: no newer row of the same key at or below @rev. Walking
      // the (name, id) index in order, a page costs its own size, not the whole range's
      listAt: db.prepare(
        `SELECT l.* FROM log l WHERE l.name >= @lo AND l.name < @hi AND l.name > @after AND l.id <= @rev
         AND l.deleted = 0 AND NOT EXISTS (SELECT 1 FROM log n WHERE n.name = l.name AND n.id > l.id AND n.id <= @rev)
         ORDER BY l.name LIMIT @limit`,
      ),
      countAt: db.prepare(
        `SELECT COUNT(*) AS n FROM log l WHERE l.name >= @lo AND l.name < @hi AND l.name > @after AND l.id <= @rev
         AND l.deleted = 0 AND NOT EXISTS (SELECT 1 FROM log n WHERE n.name = l.name AND n.id > l.id AND n.id <= @rev)`,
      ),
      history: db.prepare(`SELECT * FROM log WHERE id > @after AND name >= @lo AND name < @hi ORDER BY id`),
      // compacting from @o to @c drops what the rows written in (@o, @c] superseded (each update
      // or deletion names the row it replaced) and the tombstones among them: work in proportion
      // to the writes since the last compaction, not to the whole store
      compactSuperseded: db.prepare('DELETE FROM log WHERE id IN (SELECT prev_revision FROM log WHERE id > @o AND id <= @c AND prev_revision > 0)'),
      compactTombstones: db.prepare('DELETE FROM log WHERE id > @o AND id <= @c AND deleted = 1'),
    };
    const lastRev = (this.stmts.meta.get('rev') as { v: number } | undefined)?.v ?? 0;
    this.rev = Math.max(lastRev, (this.stmts.maxId.get() as { m: number }).m);
    this.compacted = (this.stmts.meta.get('compacted') as { v: number } | undefined)?.v ?? 0;
  }

  private checkReadable(rev: number): void {
    if (rev < this.compacted) throw new CompactedError(rev, this.compacted);
    if (rev > this.rev) throw new FutureRevisionError(rev, this.rev);
  }

  private prevOf(r: Row): KeyValue | undefined {
    if (!r.prev_revision) return undefined;
    if (r.deleted) return { key: r.name, value: r.value, createRevision: r.create_revision, modRevision: r.prev_revision };
    const p = this.stmts.rowById.get(r.prev_revision) as Row | undefined;
    return p ? toKv(p) : undefined;
  }

  private eventOf(r: Row, prev?: KeyValue): WatchEvent {
    return { type: r.deleted ? 'delete' : 'put', kv: toKv(r), prev: prev ?? this.prevOf(r), revision: r.id };
  }

  /** Appends one row in its own transaction, then tells the watchers. */
  private append(r: Omit<Row, 'id'>, prev: KeyValue | undefined): KeyValue {
    const id = this.rev + 1;
    const row: Row = { id, ...r, create_revision: r.created ? id : r.create_revision };
    this.db.transaction(() => {
      this.stmts.insert.run(id, row.name, row.created, row.deleted, row.create_revision, row.prev_revision, row.value);
      if (row.deleted) this.stmts.delLive.run(row.name);
      else this.stmts.setLive.run(row.name, id);
    })();
    this.rev = id;
    this.watchers.notify(this.eventOf(row, prev));
    return toKv(row);
  }

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    if (revision === undefined || revision === this.rev) {
      const r = this.stmts.liveRow.get(key) as Row | undefined;
      return r ? toKv(r) : undefined;
    }
    this.checkReadable(revision);
    const r = this.stmts.rowAt.get(key, revision) as Row | undefined;
    return r && !r.deleted ? toKv(r) : undefined;
  }

  /**
   * Long lists are read in pages of pageSize rows with a turn of the event loop in between, so one big
   * list never holds the (synchronous) database for long; later pages read at the first page's
   * revision, so the result is one snapshot even if writes land in between.
   */
  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    // a limit that is not a positive whole number never reaches SQL (LIMIT 1.5 is a datatype mismatch)
    const lim = opts.limit ?? 0;
    const want = Number.isSafeInteger(lim) && lim > 0 ? lim : Infinity;
    const revision = opts.revision ?? this.rev;
    let startAfter = opts.startAfter ?? '';
    const items: KeyValue[] = [];
    for (;;) {
      const page = this.listPage(prefix, startAfter, revision, Math.min(this.pageSize, want - items.length));
      for (const kv of page.items) items.push(kv);
      // only the caller's last page needs the count of what follows
      if (!page.more || items.length >= want)
        return { items, revision, more: page.more, remaining: page.more ? this.remaining(prefix, items[items.length - 1].key, revision) : 0 };
      startAfter = items[items.length - 1].key;
      await new Promise((r) => setImmediate(r));
    }
  }

  private listPage(prefix: string, after: string, revision: number, limit: number): { items: KeyValue[]; more: boolean } {
    const base = { lo: prefix, hi: rangeEnd(prefix), after };
    const atRev = revision !== this.rev;
    if (atRev) this.checkReadable(revision);
    const rows = (
      atRev ? this.stmts.listAt.all({ ...base, rev: revision, limit: limit + 1 }) : this.stmts.listLive.all({ ...base, limit: limit + 1 })
    ) as Row[];
    const more = rows.length > limit;
    return { items: (more ? rows.slice(0, limit) : rows).map(toKv), more };
  }

  /** Keys after `after` under prefix as of revision. */
  private remaining(prefix: string, after: string, revision: number): number {
    const base = { lo: prefix, hi: rangeEnd(prefix), after };
    const q = revision !== this.rev ? this.stmts.countAt.get({ ...base, rev: revision }) : this.stmts.countLive.get(base);
    return (q as { n: number }).n;
  }

  async count(prefix: string): Promise<number> {
    return (this.stmts.countLive.get({ lo: prefix, hi: rangeEnd(prefix), after: '' }) as { n: number }).n;
  }

  async create(key: string, value: string): Promise<KeyValue> {
    if (this.stmts.liveRow.get(key)) throw new KeyExistsError(key);
    return this.append({ name: key, created: 1, deleted: 0, create_revision: 0, prev_revision: 0, value }, undefined);
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    const cur = this.stmts.liveRow.get(key) as Row | undefined;
    if (!cur) throw new KeyNotFoundError(key);
    if (cur.id !== expectedModRevision) throw new ConflictError(key, toKv(cur));
    const prev = toKv(cur);
    return this.append({ name: key, created: 0, deleted: 0, create_revision: cur.create_revision, prev_revision: cur.id, value }, prev);
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    const cur = this.stmts.liveRow.get(key) as Row | undefined;
    if (!cur) throw new KeyNotFoundError(key);
    if (expectedModRevision !== undefined && cur.id !== expectedModRevision) throw new ConflictError(key, toKv(cur));
    const prev = toKv(cur);
    return this.append({ name: key, created: 0, deleted: 1, create_revision: cur.create_revision, prev_revision: cur.id, value: cur.value }, prev);
  }

  watch(prefix: string, afterRevision: number): Watch {
    if (afterRevision < this.compacted) throw new CompactedError(afterRevision, this.compacted);
    // better-sqlite3 is synchronous: reading the backlog and registering happen in one tick,
    // so no write can fall between them.
    const backlog =
      afterRevision < this.rev ? (this.stmts.history.all({ after: afterRevision, lo: prefix, hi: rangeEnd(prefix) }) as Row[]).map((r) => this.eventOf(r)) : [];
    return this.watchers.add(prefix, backlog);
  }

  async currentRevision(): Promise<number> {
    return this.rev;
  }

  async compactedRevision(): Promise<number> {
    return this.compacted;
  }

  async compact(rev: number): Promise<void> {
    const c = Math.min(rev, this.rev);
    if (c <= this.compacted) return;
    this.db.transaction(() => {
      this.stmts.compactSuperseded.run({ o: this.compacted, c });
      this.stmts.compactTombstones.run({ o: this.compacted, c });
      this.stmts.setMeta.run('compacted', c);
      this.stmts.setMeta.run('rev', this.rev);
    })();
    this.compacted = c;
    // hand the freed pages back and keep the WAL from growing: the trap of Lease renewals
    this.db.pragma('incremental_vacuum');
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  async close(): Promise<void> {
    this.watchers.closeAll();
    if (this.db.open) this.db.close();
  }

  /** Bytes on disk: the database file and its WAL. */
  sizeBytes(): number {
    if (this.file === ':memory:') return 0;
    const size = (f: string) => statSync(f, { throwIfNoEntry: false })?.size ?? 0;
    return size(this.file) + size(`${this.file}-wal`);
  }

  /** For tests and metrics: rows in the log (history + live). */
  logRows(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM log').get() as { n: number }).n;
  }

  get watcherCount(): number {
    return this.watchers.size;
  }
}
