// metadata.managedFields bookkeeping and the apply operation itself. Every write records, per
// field manager, which fields it set: an Update takes over the fields it changed (and everyone
// loses fields that disappeared); an Apply owns exactly the fields of its configuration, may not
// change a value another manager owns unless forced (409 with the conflicts, as upstream), and
// removes fields it set before and no longer sets, when nobody else owns them.
import { ApiError } from '../errors.ts';
import { getOwn } from '../safe-keys.ts';
import { isoNow, type Obj } from '../strategies/types.ts';
import { type FieldMap, fieldMapOf, fromFieldsV1, isUnder, type PathKey, pathTokens, toFieldsV1 } from './fields.ts';
import { applyMerge, pruneEmpty, removePath } from './merge.ts';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

interface Entry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  subresource?: string;
  set: Set<PathKey>;
}

export interface Writer {
  manager: string;
  apiVersion: string;
  subresource?: string;
  now: Date;
}

/** The entries of stored (or client-sent) managedFields, read from their own members only. */
function decode(list: unknown): Entry[] {
  if (!Array.isArray(list)) return [];
  const out: Entry[] = [];
  for (const e of list) {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) continue;
    const str = (k: string): string | undefined => {
      const v = getOwn<unknown>(e, k);
      return typeof v === 'string' ? v : undefined;
    };
    const manager = str('manager');
    if (manager === undefined) continue;
    out.push({
      manager,
      operation: str('operation') === 'Apply' ? 'Apply' : 'Update',
      apiVersion: str('apiVersion') ?? '',
      time: str('time') ?? '',
      subresource: str('subresource') || undefined,
      set: fromFieldsV1(getOwn<unknown>(e, 'fieldsV1')),
    });
  }
  return out;
}

function encode(entries: Entry[]): ManagedFieldsEntry[] {
  return entries
    .filter((e) => e.set.size)
    .map((e) => ({
      manager: e.manager,
      operation: e.operation,
      apiVersion: e.apiVersion,
      time: e.time,
      fieldsType: 'FieldsV1' as const,
      fieldsV1: toFieldsV1(e.set),
      ...(e.subresource ? { subresource: e.subresource } : {}),
    }));
}

const same = (e: Entry, w: Writer, op: 'Apply' | 'Update') =>
  e.manager === w.manager && e.operation === op && e.apiVersion === w.apiVersion && (e.subresource ?? '') === (w.subresource ?? '');

function entryFor(entries: Entry[], w: Writer, op: 'Apply' | 'Update'): Entry {
  let e = entries.find((x) => same(x, w, op));
  if (!e) entries.push((e = { manager: w.manager, operation: op, apiVersion: w.apiVersion, subresource: w.subresource, time: '', set: new Set() }));
  e.time = isoNow(w.now);
  return e;
}

/** The managedFields after a create, update or patch by `w` turned `old` into `next`. */
export function trackUpdate(old: Obj | undefined, next: Obj, model: string, w: Writer): ManagedFieldsEntry[] {
  const before: FieldMap = old ? fieldMapOf(old, model) : new Map();
  const after = fieldMapOf(next, model);
  const changed = [...after].filter(([p, v]) => !before.has(p) || before.get(p) !== v).map(([p]) => p);
  const removed = [...before.keys()].filter((p) => !after.has(p));
  const entries = decode(old?.metadata.managedFields);
  for (const e of entries) {
    for (const p of removed) e.set.delete(p);
    if (!same(e, w, 'Update')) for (const p of changed) e.set.delete(p);
  }
  if (changed.length || !old) {
    const mine = entryFor(entries, w, 'Update');
    for (const p of changed) mine.set.add(p);
  }
  return encode(entries);
}

export interface Conflict {
  manager: string;
  apiVersion: string;
  path: PathKey;
}

/** ".spec.containers[name="c"].image", as upstream prints a field path. */
export function renderPath(p: PathKey): string {
  return pathTokens(p)
    .map((t) => {
      if (t.startsWith('f:')) return `.${t.slice(2)}`;
      if (t.startsWith('k:'))
        return `[${Object.entries(JSON.parse(t.slice(2)) as Record<string, unknown>)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(',')}]`;
      return `[=${t.slice(2)}]`;
    })
    .join('');
}

export function conflictError(gr: { group: string; plural: string }, name: string, conflicts: Conflict[]): ApiError {
  const byManager = new Map<string, Conflict[]>();
  for (const c of conflicts) {
    const k = `"${c.manager}" using ${c.apiVersion}`;
    byManager.set(k, [...(byManager.get(k) ?? []), c]);
  }
  const parts = [...byManager].map(([who, cs]) =>
    cs.length === 1 ? `conflict with ${who}: ${renderPath(cs[0].path)}` : `conflicts with ${who}:\n${cs.map((c) => `- ${renderPath(c.path)}`).join('\n')}`,
  );
  const n = conflicts.length;
  return new ApiError(409, 'Conflict', `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: ${parts.join('\n')}`, {
    name,
    group: gr.group || undefined,
    kind: gr.plural,
    causes: conflicts.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with "${c.manager}" using ${c.apiVersion}`,
      field: renderPath(c.path),
    })),
  });
}

/**
 * Applies a configuration to the live object (undefined: the object is new). Returns the merged
 * object with its managedFields, or the conflicts when not forced.
 */
export function applyConfig(live: Obj | undefined, config: Obj, model: string, w: Writer & { force: boolean }): { obj: Obj; conflicts: Conflict[] } {
  const cfg = fieldMapOf(config, model);
  const entries = decode(live?.metadata.managedFields);
  const current: FieldMap = live ? fieldMapOf(live, model) : new Map();
  const conflicts: Conflict[] = [];
  for (const e of entries) {
    if (e.manager === w.manager) continue;
    for (const p of e.set) {
      const v = cfg.get(p);
      // a leaf both set, to different values: ownership is contested
      if (v !== undefined && v !== null && current.has(p) && current.get(p) !== v) conflicts.push({ manager: e.manager, apiVersion: e.apiVersion, path: p });
    }
  }
  if (conflicts.length && !w.force) return { obj: live!, conflicts };
  for (const c of conflicts) for (const e of entries) if (e.manager === c.manager) e.set.delete(c.path);

  const merged = live ? applyMerge(structuredClone(live), structuredClone(config), model) : structuredClone(config);
  const mine = entryFor(entries, w, 'Apply');
  // what this applier set before and no longer sets goes, unless someone else owns it (or a part of it)
  const dropped = [...mine.set].filter((p) => !cfg.has(p) && !entries.some((e) => e !== mine && [...e.set].some((q) => isUnder(p, q))));
  // a dropped element or map goes whole: its own dropped fields need no separate removal
  const outermost = dropped.filter((p) => !dropped.some((q) => q !== p && isUnder(q, p)));
  for (const p of outermost) removePath(merged, p);
  pruneEmpty(merged, outermost);
  mine.set = new Set(cfg.keys());
  merged.metadata ??= {};
  merged.metadata.managedFields = encode(entries);
  return { obj: merged as Obj, conflicts };
}
