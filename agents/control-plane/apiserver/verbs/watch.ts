// A watch (upstream's registry/rest ListResource with watch=true): frames from the resource's watch
// cache, request errors surfaced as a Status before the stream starts, narrowed by the view.
import { applyView } from '../../auth/node-view.ts';
import { asApiError } from '../errors.ts';
import { renderFrames } from '../output.ts';
import { parseListParams } from '../request.ts';
import type { Obj } from '../strategies/types.ts';
import { type WatchFrame, watchFrames } from '../watch.ts';
import { listQuery, type VerbHandler } from './context.ts';

export const handleWatch: VerbHandler = async (env, { req, rr, rs, res, ns, view, out }) => {
  const p = parseListParams(req.query, true);
  const q = listQuery(req.query, p);
  if (rr.name) q.fields = [...(q.fields ?? []), { field: 'metadata.name', op: '=', value: rr.name }];
  const cache = env.cacheFor(rs.prefix(undefined));
  const frames = watchFrames(
    rs,
    env.store,
    cache,
    ns,
    {
      ...q,
      sendInitialEvents: p.sendInitialEvents,
      allowWatchBookmarks: p.allowWatchBookmarks,
      timeoutSeconds: p.timeoutSeconds,
    },
    env.watch,
    res.custom ? AbortSignal.any([env.registry.servedSignal(res), ...(req.signal ? [req.signal] : [])]) : req.signal,
  );
  // surface request errors (bad selectors ...) as a Status before the stream starts
  const it = frames[Symbol.asyncIterator]();
  const first = it.next();
  let early: { e: unknown } | undefined;
  first.catch((e) => (early = { e }));
  await new Promise((r) => setImmediate(r));
  if (early) throw early.e;
  let stream: AsyncIterable<WatchFrame> = resume(first, it);
  if (view) stream = applyView(stream, view, (vns, name) => rs.get(vns || undefined, name).catch(() => undefined), req.signal);
  if (rs.strategy.fromStorage) stream = fromStorage(stream, rs.strategy.fromStorage);
  if (rs.strategy.convertFromStorage) stream = converted(stream, rs.strategy.convertFromStorage);
  return { kind: 'watch', frames: renderFrames(out, stream) };
};

/** Watch frames of a custom resource in the requested version, defaulted (conversion None). */
async function* fromStorage(frames: AsyncIterable<WatchFrame>, convert: (o: Obj) => void): AsyncGenerator<WatchFrame> {
  for await (const f of frames) {
    if (f.type !== 'ERROR' && f.type !== 'BOOKMARK') convert(f.object as Obj);
    yield f;
  }
}

/** Continues an iterator whose first next() was already called. */
async function* resume<T>(first: Promise<IteratorResult<T>>, it: AsyncIterator<T>): AsyncGenerator<T> {
  try {
    const r0 = await first;
    if (r0.done) return;
    yield r0.value;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}

/** Watch frames through a conversion webhook; a failed conversion ends the watch with its Status, as an ERROR event. */
async function* converted(frames: AsyncIterable<WatchFrame>, convert: (objs: Obj[]) => Promise<Obj[]>): AsyncGenerator<WatchFrame> {
  for await (const f of frames) {
    if (f.type === 'ERROR' || f.type === 'BOOKMARK') {
      yield f;
      continue;
    }
    try {
      yield { type: f.type, object: (await convert([f.object as Obj]))[0] };
    } catch (e) {
      yield { type: 'ERROR', object: asApiError(e).toStatus() as unknown as Record<string, unknown> };
      return;
    }
  }
}
