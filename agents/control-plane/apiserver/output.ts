// Response shaping: lists, Tables, PartialObjectMetadata, and watch frames in the requested form.
import type { Accept } from './request.ts';
import { apiVersionOf, type ResourceInfo } from './registry.ts';
import type { Obj, Strategy } from './strategies/types.ts';
import { buildTable, DEFAULT_TABLE, type IncludeObject, partialMetadata } from './tables/table.ts';
import type { WatchFrame } from './watch.ts';

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

export function renderList(o: OutputCtx, items: Obj[], meta: Record<string, unknown>): unknown {
  if (o.accept.table) return buildTable(o.strategy.table ?? DEFAULT_TABLE, items, { include: o.include, now: o.now, listMeta: meta });
  if (o.accept.partial) {
    return { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: meta, items: items.map(partialMetadata) };
  }
  return listObject(o.res, items, meta);
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
