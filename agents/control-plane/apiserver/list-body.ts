// Lists without a decode/encode round trip per item. The store holds each object as the JSON text
// of the object without metadata.resourceVersion (crud.ts encode()); a list that no selector or
// view has to look into splices the item's revision into that text and sends the text as is, and
// the response is written in pieces so one 10,000-item list never holds the event loop for long.
import type { Obj } from './strategies/types.ts';

/** `{`, then at most apiVersion and kind as plain strings, then the top-level `"metadata":{`. */
const HEAD = /^\{(?:"(?:apiVersion|kind)":"[^"\\]*",){0,2}"metadata":\{/;

/**
 * Pure: stored JSON text with metadata.resourceVersion = rev, or undefined when the text does not
 * start the usual way (then the caller decodes and re-encodes it). Anchoring at the start is what
 * makes the match the top-level metadata and not a nested one (a pod template's, say).
 */
export function withResourceVersion(json: string, rev: number): string | undefined {
  const m = HEAD.exec(json);
  if (!m) return undefined;
  const at = m[0].length;
  const sep = json.charCodeAt(at) === 0x7d /* } */ ? '' : ',';
  return `${json.slice(0, at)}"resourceVersion":"${rev}"${sep}${json.slice(at)}`;
}

/**
 * The items of a list as JSON texts, decoded only if someone reads `items` (an in-process client,
 * a view filter, a Table). Once decoded, the objects are what counts: `texts` is then undefined,
 * since a reader may have changed them.
 */
export class StoredItems {
  private objs: Obj[] | undefined;

  constructor(private readonly raw: string[]) {}

  get texts(): string[] | undefined {
    return this.objs ? undefined : this.raw;
  }

  get items(): Obj[] {
    return (this.objs ??= this.raw.map((t) => JSON.parse(t) as Obj));
  }

  set items(v: Obj[]) {
    this.objs = v;
  }
}

/** about this many characters of JSON per write: a few milliseconds of work at most */
export const PIECE_CHARS = 256 * 1024;

/** Pure: `[` + the texts joined by commas + `]`, cut into pieces of about `size` characters. */
export function* arrayPieces(texts: Iterable<string>, size = PIECE_CHARS): Generator<string> {
  let buf: string[] = [];
  let len = 0;
  let first = true;
  for (const t of texts) {
    buf.push(t);
    len += t.length;
    if (len >= size) {
      yield (first ? '[' : ',') + buf.join(',');
      first = false;
      buf = [];
      len = 0;
    }
  }
  yield (first ? '[' : buf.length ? ',' : '') + buf.join(',') + ']';
}

/** JSON.stringify, one item at a time, so that pieces can be produced lazily. */
export function* encoded(items: readonly unknown[]): Generator<string> {
  for (const x of items) yield JSON.stringify(x);
}

/** Pure: the JSON text of `head` with an `items` array of `texts` added, in pieces. */
export function* listPieces(head: Record<string, unknown>, texts: Iterable<string>, size = PIECE_CHARS): Generator<string> {
  const h = JSON.stringify(head);
  yield h.length > 2 ? `${h.slice(0, -1)},"items":` : '{"items":';
  yield* arrayPieces(texts, size);
  yield '}';
}

const PIECES = Symbol('list pieces');

/**
 * A list response body: a plain object with kind, apiVersion, metadata and items as any list has
 * (JSON.stringify, structuredClone and in-process readers see exactly that, decoding the stored
 * texts on first read of `items`), plus a hidden way for the HTTP writer to get the JSON text in
 * pieces without decoding (bodyPieces in output.ts).
 */
export function listBody(head: { kind: string; apiVersion: string; metadata: Record<string, unknown> }, source: StoredItems | Obj[]): Record<string, unknown> {
  const body: Record<string, unknown> = { ...head };
  let replaced: unknown[] | undefined;
  Object.defineProperty(body, 'items', {
    enumerable: true,
    configurable: true,
    get: () => replaced ?? (source instanceof StoredItems ? source.items : source),
    set: (v: unknown[]) => (replaced = v),
  });
  const pieces = (size = PIECE_CHARS): Generator<string> => {
    const texts = !replaced && source instanceof StoredItems ? source.texts : undefined;
    return listPieces(head, texts ?? encoded(body.items as unknown[]), size);
  };
  Object.defineProperty(body, PIECES, { enumerable: false, value: pieces });
  return body;
}

/** The JSON text of a body made by listBody, in pieces; undefined for any other value. */
export function listBodyPieces(body: unknown, size = PIECE_CHARS): Generator<string> | undefined {
  const f = (body as { [PIECES]?: (size: number) => Generator<string> } | null)?.[PIECES];
  return f?.(size);
}
