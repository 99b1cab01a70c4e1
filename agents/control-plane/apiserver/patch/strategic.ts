// Strategic merge patch, driven by the model schema and the merge-key table: maps merge, null
// deletes, lists with a merge key merge element-wise, other lists are replaced. Directives
// (directives.ts): $patch (replace | delete | merge), $retainKeys, $setElementOrder/<list>,
// $deleteFromPrimitiveList/<list>. Keys are the client's: own properties only (safe-keys.ts).
import { type FieldInfo, modelFields, type TypeRef } from '../schema.ts';
import { deleteOwn, getOwn, hasOwn, setOwn } from '../safe-keys.ts';
import { checkDirectives, DELETE_PRIMITIVE, isDirective, patchDirective, retainedKeys, SET_ORDER } from './directives.ts';
import { isObject, type Json } from './merge.ts';
import { listPatchMeta, type PatchMeta } from './meta.ts';
import { PatchError } from './json.ts';

type Obj = Record<string, Json>;

/** A patch value stored as-is: drop directives and nulls (as upstream does for new content). */
function strip(v: Json): Json {
  if (Array.isArray(v)) return v.filter((x) => !(isObject(x) && patchDirective(x) === 'delete')).map(strip);
  if (!isObject(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) if (!isDirective(k) && x !== null) setOwn(out, k, strip(x));
  return out;
}

/** The model of an object-typed value (through arrays and maps), if any. */
function modelOf(t: TypeRef | undefined): string | undefined {
  while (t && (t.t === 'array' || t.t === 'map')) t = t.t === 'array' ? t.items : t.values;
  return t?.t === 'object' ? t.name : undefined;
}

function sameKey(a: Json | undefined, b: Json | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function strategicMergePatch(original: Json, patch: Json, model: string | undefined): Json {
  if (!isObject(patch)) throw new PatchError('strategic merge patch must be a JSON object');
  const out = mergeMap(isObject(original) ? original : {}, patch, model);
  return out ?? {};
}

function mergeMap(orig: Obj, patch: Obj, model: string | undefined): Obj | undefined {
  const directive = patchDirective(patch);
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return strip(patch) as Obj;
  checkDirectives(patch);
  const fields: Map<string, FieldInfo> | undefined = model ? modelFields(model) : undefined;
  const out: Obj = { ...orig };
  for (const [k, v] of Object.entries(patch)) {
    if (isDirective(k)) continue;
    if (v === null) {
      deleteOwn(out, k);
      continue;
    }
    const ftype = fields?.get(k)?.type;
    const sub = modelOf(ftype);
    const cur = getOwn(out, k);
    if (Array.isArray(v)) {
      const meta = listPatchMeta(model, k);
      setOwn(out, k, meta && Array.isArray(cur) ? mergeList(cur, v, meta, sub) : mergeListOrReplace(v, meta, sub));
    } else if (isObject(v)) {
      // maps (labels, resources ...) and structs both merge; a map's values have the value model
      const merged = isObject(cur) ? mergeMap(cur, v, ftype?.t === 'map' ? undefined : sub) : mergeMap({}, v, sub);
      if (merged === undefined) deleteOwn(out, k);
      else setOwn(out, k, ftype?.t === 'map' && sub ? mapOfModels(merged, v, cur, sub) : merged);
    } else setOwn(out, k, v);
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith(DELETE_PRIMITIVE) && Array.isArray(v)) {
      const f = k.slice(DELETE_PRIMITIVE.length);
      const cur = getOwn(out, f);
      if (Array.isArray(cur))
        setOwn(
          out,
          f,
          cur.filter((x) => !v.some((d) => sameKey(d, x))),
        );
    }
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith(SET_ORDER) && Array.isArray(v)) {
      const f = k.slice(SET_ORDER.length);
      const cur = getOwn(out, f);
      if (Array.isArray(cur)) setOwn(out, f, reorder(cur, v, listPatchMeta(model, f)?.key));
    }
  }
  const retain = retainedKeys(patch);
  if (retain) {
    for (const k of Object.keys(out)) if (!retain.includes(k)) deleteOwn(out, k);
  }
  return out;
}

/** A map whose values are structs: merge each value with its model. */
function mapOfModels(merged: Obj, patch: Obj, cur: Json | undefined, sub: string): Obj {
  const base = isObject(cur) ? cur : {};
  const out: Obj = { ...merged };
  for (const [k, v] of Object.entries(patch)) {
    if (isDirective(k) || v === null || !isObject(v)) continue;
    const orig = getOwn(base, k);
    const r = mergeMap(isObject(orig) ? orig : {}, v, sub);
    if (r === undefined) deleteOwn(out, k);
    else setOwn(out, k, r);
  }
  return out;
}

function mergeListOrReplace(v: Json[], meta: PatchMeta | undefined, sub: string | undefined): Json {
  if (meta) return mergeList([], v, meta, sub);
  return strip(v);
}

function mergeList(orig: Json[], patch: Json[], meta: PatchMeta, sub: string | undefined): Json[] {
  // every element's directive is checked before any of them applies
  if (patch.map((e) => (isObject(e) ? patchDirective(e) : undefined)).includes('replace')) {
    return patch.filter((e) => !(isObject(e) && patchDirective(e) === 'replace')).map(strip);
  }
  if (!meta.key) {
    // a set of primitives: union, then upstream's element order
    const out = [...orig];
    for (const v of patch) if (!out.some((x) => sameKey(x, v))) out.push(v);
    return patchOrder(out, orig, patch, (x) => x);
  }
  const key = meta.key;
  const out = [...orig];
  for (const e of patch) {
    if (!isObject(e)) throw new PatchError(`strategic merge patch: list element is not an object: ${JSON.stringify(e)}`);
    if (!hasOwn(e, key)) throw new PatchError(`map: ${JSON.stringify(e)} does not contain declared merge key: ${key}`);
    const id = getOwn(e, key)!;
    const idx = out.findIndex((x) => isObject(x) && sameKey(getOwn(x, key), id));
    if (patchDirective(e) === 'delete') {
      if (idx >= 0) {
        for (let i = out.length - 1; i >= 0; i--) {
          const x = out[i];
          if (isObject(x) && sameKey(getOwn(x, key), id)) out.splice(i, 1);
        }
      }
      continue;
    }
    if (idx >= 0) {
      const merged = mergeMap(out[idx] as Obj, e, sub);
      if (merged === undefined) out.splice(idx, 1);
      else out[idx] = merged;
    } else out.push(strip(e));
  }
  return patchOrder(out, orig, patch, (x) => (isObject(x) ? getOwn(x, key) : undefined));
}

/**
 * upstream's normalizeElementOrder after a list merge: the elements the patch names come in the
 * patch's order, the server-only ones in the original's, and each server-only element goes in
 * front of the next patch element only when the original had it in front of that element too.
 * So a container added by a patch leads a template's list, as kube-apiserver stores it.
 */
function patchOrder(merged: Json[], orig: Json[], patch: Json[], idOf: (x: Json) => Json | undefined): Json[] {
  const at = (list: Json[], x: Json) => list.findIndex((y) => sameKey(idOf(y), idOf(x)));
  const named = (x: Json) => patch.some((p) => !(isObject(p) && patchDirective(p) === 'delete') && sameKey(idOf(p), idOf(x)));
  const fromPatch = merged.filter(named).sort((a, b) => at(patch, a) - at(patch, b));
  const serverOnly = merged.filter((x) => !named(x));
  const out: Json[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < fromPatch.length) {
    if (j >= fromPatch.length) out.push(serverOnly[i++]);
    else if (i >= serverOnly.length) out.push(fromPatch[j++]);
    else {
      const li = at(orig, serverOnly[i]);
      const ri = at(orig, fromPatch[j]);
      if (li >= 0 && ri >= 0 && li < ri) out.push(serverOnly[i++]);
      else out.push(fromPatch[j++]);
    }
  }
  return out;
}

/**
 * $setElementOrder: the elements named in `order` take the slots that named elements occupy, in
 * the given order; elements the order does not name (server-side additions) keep their places.
 */
function reorder(list: Json[], order: Json[], key: string | undefined): Json[] {
  const idOf = (x: Json): string => JSON.stringify(key && isObject(x) ? getOwn(x, key) : x);
  const rank = new Map(order.map((o, i) => [idOf(o), i]));
  const ranked = list.filter((x) => rank.has(idOf(x))).sort((a, b) => rank.get(idOf(a))! - rank.get(idOf(b))!);
  let next = 0;
  return list.map((x) => (rank.has(idOf(x)) ? ranked[next++] : x));
}
