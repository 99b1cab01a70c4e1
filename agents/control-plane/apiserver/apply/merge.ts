// The object an apply produces: the applied configuration merged into the live object (structs
// and maps field by field, keyed lists element by element, sets by value, everything else
// replaced), and removal of the paths an applier stopped setting (pure).
import { listPatchMeta } from '../patch/meta.ts';
import { deleteOwn, getOwn, setOwn } from '../safe-keys.ts';
import { modelFields, type TypeRef } from '../schema.ts';
import { itemToken, pathTokens, type PathKey } from './fields.ts';

type Json = any;

const isObj = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function applyMerge(live: Record<string, Json>, config: Record<string, Json>, model: string): Record<string, Json> {
  return mergeStruct(live, config, model);
}

function mergeStruct(live: Record<string, Json>, cfg: Record<string, Json>, model: string | undefined): Record<string, Json> {
  const out: Record<string, Json> = { ...live };
  const fields = model ? modelFields(model) : undefined;
  for (const [k, v] of Object.entries(cfg)) {
    if (v === undefined) continue;
    setOwn(out, k, mergeValue(getOwn(out, k), v, fields?.get(k)?.type, model, k));
  }
  return out;
}

function mergeValue(live: Json, cfg: Json, ref: TypeRef | undefined, owner: string | undefined, field: string): Json {
  if (cfg === null) return live;
  if (ref?.t === 'object' && isObj(cfg)) return mergeStruct(isObj(live) ? live : {}, cfg, ref.name);
  // a custom resource's objects merge field by field (fields.ts: the deduced type)
  if (ref === undefined && isObj(cfg)) return mergeStruct(isObj(live) ? live : {}, cfg, undefined);
  if (ref?.t === 'map' && isObj(cfg)) {
    const out: Record<string, Json> = isObj(live) ? { ...live } : {};
    for (const [k, v] of Object.entries(cfg)) setOwn(out, k, mergeValue(getOwn(out, k), v, ref.values, owner, k));
    return out;
  }
  if (ref?.t === 'array' && Array.isArray(cfg) && Array.isArray(live)) {
    const meta = listPatchMeta(owner, field);
    const items = ref.items;
    if (meta?.key && items.t === 'object' && cfg.every((x) => itemToken(x, meta.key!))) {
      const out = [...live];
      for (const item of cfg) {
        const i = out.findIndex((x) => itemToken(x, meta.key!) === itemToken(item, meta.key!));
        if (i >= 0) out[i] = mergeStruct(out[i], item, items.name);
        else out.push(item);
      }
      return out;
    }
    if (meta && !meta.key) {
      const out = [...live];
      for (const item of cfg) if (!out.some((x) => JSON.stringify(x) === JSON.stringify(item))) out.push(item);
      return out;
    }
  }
  return cfg;
}

/** Deletes the value a path names (a field, a map key, a keyed element or a set element). */
export function removePath(obj: Record<string, Json>, path: PathKey): void {
  const tokens = pathTokens(path);
  let node: Json = obj;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const last = i === tokens.length - 1;
    if (t.startsWith('f:')) {
      if (!isObj(node)) return;
      const k = t.slice(2);
      if (last) {
        deleteOwn(node, k);
        return;
      }
      node = getOwn(node, k);
    } else if (t.startsWith('k:') || t.startsWith('v:')) {
      if (!Array.isArray(node)) return;
      const want = t.startsWith('k:') ? (JSON.parse(t.slice(2)) as Record<string, Json>) : undefined;
      const idx = want
        ? node.findIndex((x) => isObj(x) && Object.entries(want).every(([k, v]) => JSON.stringify(getOwn(x, k)) === JSON.stringify(v)))
        : node.findIndex((x) => `v:${JSON.stringify(x)}` === t);
      if (idx < 0) return;
      if (last) {
        node.splice(idx, 1);
        return;
      }
      node = node[idx];
    } else return;
  }
}

/** Drops maps and structs an apply emptied (upstream does not keep empty parents it removed into). */
export function pruneEmpty(obj: Record<string, Json>, paths: PathKey[]): void {
  for (const p of paths) {
    const tokens = pathTokens(p);
    for (let n = tokens.length - 1; n > 0; n--) {
      const parentTokens = tokens.slice(0, n);
      let node: Json = obj;
      for (const t of parentTokens) {
        if (!t.startsWith('f:') || !isObj(node)) {
          node = undefined;
          break;
        }
        node = getOwn(node, t.slice(2));
      }
      if (!isObj(node) || Object.keys(node).length) break;
      removePath(obj, JSON.stringify(parentTokens));
    }
  }
}
