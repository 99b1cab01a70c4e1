// What a kubelet sees when it lists or watches a whole collection of secrets, configmaps, service
// accounts or claims: only the objects its pods use. Upstream refuses such collection reads to
// nodes outright; serving the node's own slice keeps a kubelet that caches these objects with
// one watch per type working, while an unrelated object stays invisible (and a read of it by
// name is a 403). A watch also announces objects entering or leaving the slice as pods come and
// go (see applyView in the API handler).
import type { View } from './authorizer.ts';
import { type NodeGraph, refKey, type RefKind } from './graph.ts';

export function nodeView(graph: NodeGraph, node: string, kind: RefKind): View {
  return {
    visible: (o) => graph.related(node, kind, o.metadata.namespace ?? '', o.metadata.name ?? ''),
    async *changes(signal?: AbortSignal) {
      const queue: { namespace: string; name: string; visible: boolean }[] = [];
      let wake: (() => void) | undefined;
      const prefix = refKey(kind, '', '').slice(0, -1);
      const off = graph.subscribe(node, (ref, visible) => {
        if (!ref.startsWith(prefix)) return;
        const [namespace, name] = ref.slice(prefix.length).split('/');
        queue.push({ namespace, name, visible });
        wake?.();
      });
      const onAbort = () => wake?.();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        while (!signal?.aborted) {
          const next = queue.shift();
          if (next) {
            yield next;
            continue;
          }
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
        }
      } finally {
        off();
        signal?.removeEventListener('abort', onAbort);
      }
    },
  };
}

type Frame = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: any };

/**
 * A watch through a view: store events for invisible objects are dropped, and objects entering
 * or leaving the view arrive as ADDED (their current state, via fetch) or DELETED.
 */
export async function* applyView(
  frames: AsyncIterable<Frame>,
  view: View,
  fetch: (namespace: string, name: string) => Promise<Frame['object'] | undefined>,
  signal?: AbortSignal,
): AsyncGenerator<Frame> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const main = frames[Symbol.asyncIterator]();
  const side = view.changes ? view.changes(stop.signal)[Symbol.asyncIterator]() : undefined;
  type Tagged = { from: 'main'; r: IteratorResult<Frame> } | { from: 'side'; r: IteratorResult<{ namespace: string; name: string; visible: boolean }> };
  let pendingMain: Promise<Tagged> | undefined;
  let pendingSide: Promise<Tagged> | undefined;
  let sideOpen = !!side;
  try {
    for (;;) {
      pendingMain ??= main.next().then((r) => ({ from: 'main' as const, r }));
      if (side && sideOpen) pendingSide ??= side.next().then((r) => ({ from: 'side' as const, r }));
      const got = await Promise.race(pendingSide ? [pendingMain, pendingSide] : [pendingMain]);
      if (got.from === 'main') {
        pendingMain = undefined;
        if (got.r.done) return;
        const f = got.r.value;
        if (f.type === 'BOOKMARK' || f.type === 'ERROR' || view.visible(f.object)) yield f;
        continue;
      }
      pendingSide = undefined;
      if (got.r.done) {
        sideOpen = false;
        continue;
      }
      const c = got.r.value;
      const obj = await fetch(c.namespace, c.name);
      if (c.visible && obj) yield { type: 'ADDED', object: obj };
      else if (!c.visible) yield { type: 'DELETED', object: obj ?? { metadata: { namespace: c.namespace, name: c.name } } };
    }
  } finally {
    stop.abort();
    signal?.removeEventListener('abort', onAbort);
    await main.return?.(undefined);
  }
}
