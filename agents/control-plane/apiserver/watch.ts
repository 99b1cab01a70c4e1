// API watch: turns store events under a resource's prefix into ADDED/MODIFIED/DELETED/BOOKMARK/ERROR
// frames, applying selectors with the previous value (an object that stops matching is DELETED,
// one that starts matching is ADDED), initial state for resourceVersion ""/"0" or
// sendInitialEvents=true, periodic bookmarks and the watch timeout. Initial state and events from
// a recent resourceVersion come from the resource's shared watch cache (watch-cache.ts), streamed
// one frame at a time as the client takes them; an older resourceVersion is read from the store.
import { CompactedError, type Store, type Watch, type WatchEvent } from '../storage/types.ts';
import type { ResourceStore, ListQuery, SelectorAttrs } from './crud.ts';
import type { CacheEvent, CacheWatcher, Entry, Snapshot, WatchCache } from './watch-cache.ts';
import { storedFrame } from './stored-frame.ts';
import { share } from './turns.ts';
import { apiVersionOf } from './registry.ts';
import { badRequest, gone } from './errors.ts';
import type { Obj } from './strategies/types.ts';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchFrame {
  type: EventType;
  object: Obj | Record<string, unknown>;
}

export interface WatchQuery extends ListQuery {
  sendInitialEvents?: boolean;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

export interface WatchOptions {
  bookmarkIntervalMs?: number;
  defaultTimeoutSeconds?: number;
}

/** setTimeout's longest delay (2^31-1 ms, 24.8 days): a longer one fires after 1 ms instead */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** upstream's --min-request-timeout default (seconds) */
const MIN_REQUEST_TIMEOUT_S = 1800;
/** the longest time.Duration, in seconds: upstream's timeoutSeconds cannot reach further */
const MAX_DURATION_S = Math.floor((2 ** 63 - 1) / 1e9);

/**
 * Pure: how long a watch lasts (ms), as upstream's GetTimeoutForWatch: timeoutSeconds as given,
 * negative included (the watch ends at once), no cap below what a Go duration holds; 0 or absent
 * (or a value that is not a number) is the default, between --min-request-timeout and twice that.
 */
export function watchTimeoutMs(timeoutSeconds: number | undefined, o: WatchOptions = {}, random = Math.random): number {
  const s = timeoutSeconds !== undefined && Number.isFinite(timeoutSeconds) ? Math.trunc(timeoutSeconds) : 0;
  if (s !== 0) return Math.max(-MAX_DURATION_S, Math.min(s, MAX_DURATION_S)) * 1000;
  if (o.defaultTimeoutSeconds !== undefined) return o.defaultTimeoutSeconds * 1000;
  return Math.floor(MIN_REQUEST_TIMEOUT_S * (random() + 1) * 1000);
}

/** Pure: the delay of a watch's next timer: the nearer of deadline and bookmark, within setTimeout's range. */
export function timerDelay(now: number, deadline: number, nextBookmark?: number): number {
  const at = nextBookmark === undefined ? deadline : Math.min(deadline, nextBookmark);
  return Math.max(0, Math.min(at - now, MAX_TIMER_MS));
}

/**
 * Pure: the frame a store event becomes for a watcher with this matcher (undefined: none).
 * `everything`: the matcher takes every object, so a put's previous value need not be decoded.
 */
export function frameFor(ev: WatchEvent, decode: (kv: WatchEvent['kv']) => Obj, match: (o: Obj) => boolean, everything = false): WatchFrame | undefined {
  if (everything && ev.type === 'put') return { type: ev.prev ? 'MODIFIED' : 'ADDED', object: decode(ev.kv) };
  const prev = ev.prev ? decode(ev.prev) : undefined;
  const prevMatched = prev ? match(prev) : false;
  if (ev.type === 'delete') {
    if (!prevMatched || !prev) return undefined;
    prev.metadata.resourceVersion = String(ev.revision);
    return { type: 'DELETED', object: prev };
  }
  const cur = decode(ev.kv);
  const nowMatches = match(cur);
  if (nowMatches) return { type: prevMatched ? 'MODIFIED' : 'ADDED', object: cur };
  if (prevMatched) return { type: 'DELETED', object: cur };
  return undefined;
}

function bookmark(rs: ResourceStore, rev: number, initialEnd = false): WatchFrame {
  return {
    type: 'BOOKMARK',
    object: {
      kind: rs.res.kind,
      apiVersion: apiVersionOf(rs.res),
      metadata: {
        resourceVersion: String(rev),
        ...(initialEnd ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}),
      },
    },
  };
}

function errorFrame(code: number, reason: string, message: string): WatchFrame {
  return { type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code } };
}

/**
 * Pure: the frame a cache event becomes for a watcher with this matcher (undefined: the watcher
 * takes everything, and nothing is decoded): frameFor's rules on cache entries.
 */
export function cachedFrameFor(ev: CacheEvent, match: ((e: Entry) => boolean) | undefined): WatchFrame | undefined {
  const prevMatched = ev.prev !== undefined && (!match || match(ev.prev));
  if (ev.type === 'delete') return prevMatched ? storedFrame('DELETED', ev.prev!.kv, ev.revision) : undefined;
  const cur = ev.cur!;
  if (!match || match(cur)) return storedFrame(prevMatched ? 'MODIFIED' : 'ADDED', cur.kv, cur.kv.modRevision);
  return prevMatched ? storedFrame('DELETED', cur.kv, cur.kv.modRevision) : undefined;
}

/** ADDED frames of the snapshot's matching objects, one at a time, handing the event loop back now and then. */
async function* initialFrames(s: Snapshot, match: ((e: Entry) => boolean) | undefined): AsyncGenerator<WatchFrame> {
  for (let i = s.lo; i < s.hi; i++) {
    // the first watches of a resource decode each object for its selector: other requests go on
    if (match && (i - s.lo) % 64 === 63) await share();
    const e = s.entries[i];
    if (!match || match(e)) yield storedFrame('ADDED', e.kv, e.kv.modRevision);
  }
}

/** What the selectors of `api` read of a cache entry, kept on the entry until another API asks. */
function entryAttrs(e: Entry, api: string, rs: ResourceStore): SelectorAttrs {
  if (!e.attrs || e.attrsApi !== api) {
    e.attrs = rs.selectorAttrs(rs.decode(e.kv));
    e.attrsApi = api;
  }
  return e.attrs;
}

/** An event of either source: its revision and, on demand, the frame it becomes. */
interface SourceEvent {
  revision: number;
  frame(): WatchFrame | undefined;
}

async function* fromCache(w: CacheWatcher, match: ((e: Entry) => boolean) | undefined): AsyncGenerator<SourceEvent> {
  for await (const ev of w) yield { revision: ev.revision, frame: () => cachedFrameFor(ev, match) };
}

async function* fromStore(w: Watch, rs: ResourceStore, match: (o: Obj) => boolean, everything: boolean): AsyncGenerator<SourceEvent> {
  for await (const ev of w) yield { revision: ev.revision, frame: () => frameFor(ev, (kv) => rs.decode(kv), match, everything) };
}

/**
 * The frames of one watch request. Throws ApiError before the first frame for bad requests;
 * a compacted start revision is an ERROR frame with a 410 Status, as upstream's watch cache sends.
 */
export async function* watchFrames(
  rs: ResourceStore,
  store: Store,
  cache: WatchCache,
  ns: string | undefined,
  q: WatchQuery,
  o: WatchOptions = {},
  signal?: AbortSignal,
): AsyncGenerator<WatchFrame> {
  rs.checkFields(q.fields);
  if (q.sendInitialEvents && !q.allowWatchBookmarks) throw badRequest('sendInitialEvents requires allowWatchBookmarks=true');
  const everything = !q.labels?.length && !q.fields?.length;
  const attrsMatch = rs.attrsMatcher(q);
  const api = apiVersionOf(rs.res);
  const entryMatch = everything ? undefined : (e: Entry) => attrsMatch(entryAttrs(e, api, rs));
  const rv = q.resourceVersion;
  const prefix = rs.prefix(ns);
  let start: number;
  let initial: AsyncGenerator<WatchFrame> | undefined;
  let source: AsyncGenerator<SourceEvent>;
  let close: () => void;
  if (!rv || rv === '0' || q.sendInitialEvents) {
    const { snapshot, watcher } = await cache.snapshot(prefix);
    start = snapshot.rev;
    initial = initialFrames(snapshot, entryMatch);
    source = fromCache(watcher, entryMatch);
    close = () => watcher.close();
  } else {
    start = Number(rv);
    if (!Number.isInteger(start) || start < 0) throw badRequest(`invalid resource version: ${rv}`);
    const current = await store.currentRevision();
    if (start > current) {
      // a version from the future (another store, a restored backup): make the client relist
      yield errorFrame(504, 'Timeout', `Too large resource version: ${start}, current: ${current}`);
      return;
    }
    // a recent version is served from the cache's window; an older one from the store's history
    const recent = start >= (await store.compactedRevision()) ? await cache.since(prefix, start) : undefined;
    if (recent) {
      source = fromCache(recent, entryMatch);
      close = () => recent.close();
    } else {
      let w;
      try {
        w = store.watch(prefix, start);
      } catch (e) {
        if (e instanceof CompactedError) {
          const g = gone(`too old resource version: ${start} (${e.compacted})`);
          yield errorFrame(410, 'Expired', g.message);
          return;
        }
        throw e;
      }
      source = fromStore(w, rs, rs.matcher(q), everything);
      close = () => w.close();
    }
  }
  const deadline = Date.now() + watchTimeoutMs(q.timeoutSeconds, o);
  const bookmarkEvery = o.bookmarkIntervalMs ?? 60_000;
  const it = source;
  let lastRev = start;
  try {
    if (initial) yield* initial;
    if (q.sendInitialEvents) yield bookmark(rs, start, true);
    let settled = false;
    // a store may find out only once the watch runs that its start was compacted (etcd does)
    const pull = () => {
      settled = false;
      const p = it.next().catch((e: unknown) => ({ done: false as const, value: undefined, error: e }));
      void p.then(() => (settled = true));
      return p;
    };
    let next = pull();
    let nextBookmark = Date.now() + bookmarkEvery;
    // one listener for the whole stream (a listener per wait would pile up)
    const aborted = signal ? new Promise<'tick'>((r) => signal.addEventListener('abort', () => r('tick'), { once: true })) : undefined;
    for (;;) {
      if (signal?.aborted) return;
      const wait = timerDelay(Date.now(), deadline, q.allowWatchBookmarks ? nextBookmark : undefined);
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<'tick'>((r) => (timer = setTimeout(() => r('tick'), wait)));
      const r = await Promise.race([next, tick, ...(aborted ? [aborted] : [])]);
      clearTimeout(timer);
      if (r === 'tick') {
        if (signal?.aborted || Date.now() >= deadline) return;
        if (q.allowWatchBookmarks && Date.now() >= nextBookmark) {
          // caught up: every event up to the store's revision has been delivered to this watcher
          const rev = await store.currentRevision();
          // an event committed by then reaches this watcher through the cache within a turn of the
          // event loop, and must go out before any bookmark past it
          await new Promise((r) => setImmediate(r));
          if (!settled) {
            lastRev = Math.max(lastRev, rev);
            yield bookmark(rs, lastRev);
          }
          nextBookmark = Date.now() + bookmarkEvery;
        }
        continue;
      }
      if (r.done) return;
      if ('error' in r) {
        if (!(r.error instanceof CompactedError)) throw r.error;
        yield errorFrame(410, 'Expired', gone(`too old resource version: ${start} (${r.error.compacted})`).message);
        return;
      }
      next = pull();
      const ev = r.value;
      if (ev.revision <= start) continue;
      lastRev = ev.revision;
      const frame = ev.frame();
      if (frame) yield frame;
    }
  } finally {
    close();
    void it.return(undefined);
  }
}
