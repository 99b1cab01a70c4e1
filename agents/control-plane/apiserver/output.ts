// Response shaping: lists, Tables, PartialObjectMetadata, and watch frames in the requested form.
import type { Accept } from './request.ts';
import { apiVersionOf, type ResourceInfo } from './registry.ts';
import type { Obj, Strategy } from './strategies/types.ts';
import { buildTable, DEFAULT_TABLE, type IncludeObject, partialMetadata } from './tables/table.ts';
import type { WatchFrame } from './watch.ts';
import { encoded, listBody, listBodyPieces, listPieces, type StoredItems } from './list-body.ts';

export interface OutputCtx {
  res: ResourceInfo;
  strategy: Strategy;
  accept: Accept;
  include: IncludeObject;
  now: Date;
}

export function listObject(res: ResourceInfo, items: Obj[], meta: Record<string, unknown>): Record<string, unknown> {
  return { kind: `${res.kind}List`, apiVersion: apiVersionOf(res), metadata: meta, items };
}

export function renderOne(o: OutputCtx, obj: Obj): unknown {
  if (o.accept.table) return buildTable(o.strategy.table ?? DEFAULT_TABLE, [obj], { include: o.include, now: o.now });
  if (o.accept.partial) return partialMetadata(obj);
  return obj;
}

/** A list as the client asked for it; a plain list keeps stored JSON texts as they are (listBody). */
export function renderList(o: OutputCtx, list: { items: Obj[]; stored?: StoredItems }, meta: Record<string, unknown>): unknown {
  if (o.accept.table) return buildTable(o.strategy.table ?? DEFAULT_TABLE, list.items, { include: o.include, now: o.now, listMeta: meta });
  if (o.accept.partial) {
    return { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: meta, items: list.items.map(partialMetadata) };
  }
  return listBody({ kind: `${o.res.kind}List`, apiVersion: apiVersionOf(o.res), metadata: meta }, list.stored ?? list.items);
}

/** items past which a list body is written in pieces, with turns of the event loop in between */
const LONG_LIST = 500;

/** A response body's JSON text in pieces when it is a list; undefined: send it whole. */
export function bodyPieces(body: unknown): Iterable<string> | undefined {
  const pieces = listBodyPieces(body);
  if (pieces) return pieces;
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items) || items.length <= LONG_LIST) return undefined;
  const { items: _items, ...head } = body as Record<string, unknown>;
  return listPieces(head, encoded(items));
}

/** Watch frames in the requested form; a Table watch carries column definitions only once. */
export async function* renderFrames(o: OutputCtx, frames: AsyncIterable<WatchFrame>): AsyncGenerator<WatchFrame> {
  let first = true;
  for await (const f of frames) {
    if (f.type === 'ERROR' || (!o.accept.table && !o.accept.partial)) {
      yield f;
      continue;
    }
    const obj = f.object as Obj;
    if (o.accept.partial) {
      yield { type: f.type, object: partialMetadata(obj) };
      continue;
    }
    const rows = f.type === 'BOOKMARK' ? [] : [obj];
    const listMeta = f.type === 'BOOKMARK' ? { resourceVersion: obj.metadata.resourceVersion } : {};
    const table = buildTable(o.strategy.table ?? DEFAULT_TABLE, rows, { include: o.include, now: new Date(), listMeta, noHeaders: !first });
    first = false;
    yield { type: f.type, object: table };
  }
}
