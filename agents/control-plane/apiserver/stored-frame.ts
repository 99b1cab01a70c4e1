// Watch frames made from the store's JSON text: the object is decoded only if someone reads it (an
// in-process client, a view, a Table), and the HTTP writer sends the stored text with its
// resourceVersion spliced in (list-body.ts), so streaming thousands of objects to hundreds of
// watchers neither decodes nor re-encodes them, and holds nothing per watcher but the frame in hand.
import type { KeyValue } from '../storage/types.ts';
import { withResourceVersion } from './list-body.ts';
import type { Obj } from './strategies/types.ts';
import type { EventType, WatchFrame } from './watch.ts';

const TEXT = Symbol('stored frame text');

type Stored = WatchFrame & { [TEXT]?: () => string | undefined };

/** A frame of `type` carrying the object stored in `kv`, with resourceVersion `rev`. */
export function storedFrame(type: EventType, kv: KeyValue, rev: number): WatchFrame {
  let obj: Obj | undefined;
  const frame = { type } as Stored;
  // own and enumerable, so that JSON.stringify and structuredClone see a plain frame
  Object.defineProperty(frame, 'object', {
    enumerable: true,
    configurable: true,
    get: () => {
      if (!obj) {
        obj = JSON.parse(kv.value) as Obj;
        obj.metadata.resourceVersion = String(rev);
      }
      return obj;
    },
    set: (v: Obj) => (obj = v),
  });
  // once decoded, the object is what counts: a reader may have changed it
  Object.defineProperty(frame, TEXT, { enumerable: false, value: () => (obj ? undefined : withResourceVersion(kv.value, rev)) });
  return frame;
}

/** The JSON text of a watch frame (one line of a watch response, without the newline). */
export function frameText(f: unknown): string {
  const s = f as Stored | null;
  const text = s?.[TEXT]?.();
  return text === undefined ? JSON.stringify(f) : `{"type":"${s!.type}","object":${text}}`;
}
