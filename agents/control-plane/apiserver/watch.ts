// API watch: turns store events under a resource's prefix into ADDED/MODIFIED/DELETED/BOOKMARK/ERROR
// frames, applying selectors with the previous value (an object that stops matching is DELETED,
// one that starts matching is ADDED), initial state for resourceVersion ""/"0" or
// sendInitialEvents=true, periodic bookmarks and the watch timeout.
import { CompactedError, type Store, type WatchEvent } from '../storage/types.ts';
import type { ResourceStore, ListQuery } from './crud.ts';
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
export function frameFor(
  ev: WatchEvent,
  decode: (kv: WatchEvent['kv']) => Obj,
  match: (o: Obj) => boolean,
  everything = false,
): WatchFrame | undefined {
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
 * The frames of one watch request. Throws ApiError before the first frame for bad requests;
 * a compacted start revision is an ERROR frame with a 410 Status, as upstream's watch cache sends.
 */
export async function* watchFrames(
  rs: ResourceStore,
  store: Store,
  ns: string | undefined,
  q: WatchQuery,
  o: WatchOptions = {},
  signal?: AbortSignal,
): AsyncGenerator<WatchFrame> {
  rs.checkFields(q.fields);
  if (q.sendInitialEvents && !q.allowWatchBookmarks)
    throw badRequest('sendInitialEvents requires allowWatchBookmarks=true');
  const match = rs.matcher(q);
  const everything = !q.labels?.length && !q.fields?.length;
  const rv = q.resourceVersion;
  let start: number;
  const initial: WatchFrame[] = [];
  if (!rv || rv === '0' || q.sendInitialEvents) {
    const list = await rs.list(ns, { labels: q.labels, fields: q.fields });
    for (const obj of list.items) initial.push({ type: 'ADDED', object: obj });
    start = Number(list.resourceVersion);
    if (q.sendInitialEvents) initial.push(bookmark(rs, start, true));
  } else {
    start = Number(rv);
    if (!Number.isInteger(start) || start < 0) throw badRequest(`invalid resource version: ${rv}`);
    const current = await store.currentRevision();
    if (start > current) {
      // a version from the future (another store, a restored backup): make the client relist
      yield errorFrame(504, 'Timeout', `Too large resource version: ${start}, current: ${current}`);
      return;
    }
  }
  let w;
  try {
    w = store.watch(rs.prefix(ns), start);
  } catch (e) {
    if (e instanceof CompactedError) {
      const g = gone(`too old resource version: ${start} (${e.compacted})`);
      yield errorFrame(410, 'Expired', g.message);
      return;
    }
    throw e;
  }
  const deadline = Date.now() + watchTimeoutMs(q.timeoutSeconds, o);
  const bookmarkEvery = o.bookmarkIntervalMs ?? 60_000;
  const it = w[Symbol.asyncIterator]();
  let lastRev = start;
  try {
    for (const f of initial) yield f;
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
          // an event that arrived meanwhile must go out before any bookmark past it
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
      const frame = frameFor(ev, (kv) => rs.decode(kv), match, everything);
      if (frame) yield frame;
    }
  } finally {
    w.close();
  }
}
