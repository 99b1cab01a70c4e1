// Field paths for server-side apply, as structured-merge-diff names them: f:<field> for struct
// fields and map keys, k:<json of the merge key> for an element of a keyed list, v:<json> for an
// element of a set. An object's field map lists every path it sets, with the JSON of leaf values
// (membership entries, i.e. maps and list elements themselves, carry no value). FieldsV1 is the
// nested-object form metadata.managedFields stores, with "." marking a member that has children.
import { listPatchMeta } from '../patch/meta.ts';
import { getOwn, setOwn } from '../safe-keys.ts';
import { modelFields, type TypeRef } from '../schema.ts';

/** JSON of a path's tokens: a Set/Map key. */
export type PathKey = string;

/** path -> JSON of the leaf value, or null for a membership entry (a map, a list element) */
export type FieldMap = Map<PathKey, string | null>;

/** Top-level and metadata fields the server owns: never part of anyone's field set. */
const SKIP_TOP = new Set(['apiVersion', 'kind']);
const SKIP_META = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
]);

export const pathKey = (tokens: string[]): PathKey => JSON.stringify(tokens);
export const pathTokens = (k: PathKey): string[] => JSON.parse(k) as string[];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The key token of a keyed-list element (k:{"name":"x"}); undefined if it lacks the key. */
export function itemToken(item: unknown, key: string): string | undefined {
  const id = isPlainObject(item) ? getOwn(item, key) : undefined;
  if (id === undefined) return undefined;
  const token: Record<string, unknown> = {};
  setOwn(token, key, id);
  return `k:${JSON.stringify(token)}`;
}

/** Every path the value sets below a model (pure). */
export function fieldMapOf(obj: Record<string, unknown>, model: string): FieldMap {
  const out: FieldMap = new Map();
  for (const [k, v] of Object.entries(obj)) {
    if (SKIP_TOP.has(k) || v === undefined || v === null) continue;
    if (k === 'metadata' && isPlainObject(v)) {
      for (const [mk, mv] of Object.entries(v)) {
        if (SKIP_META.has(mk) || mv === undefined || mv === null) continue;
        walk(mv, modelFields('V1ObjectMeta')?.get(mk)?.type, 'V1ObjectMeta', mk, ['f:metadata', `f:${mk}`], out);
      }
      continue;
    }
    walk(v, modelFields(model)?.get(k)?.type, model, k, [`f:${k}`], out);
  }
  return out;
}

function walk(v: unknown, ref: TypeRef | undefined, owner: string, field: string, path: string[], out: FieldMap): void {
  // a schema the models do not know (a custom resource's): objects are granular, as
  // structured-merge-diff's deduced type makes them; lists and scalars stay atomic
  if (ref === undefined && isPlainObject(v)) {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined && v[k] !== null);
    if (!keys.length) out.set(pathKey(path), '{}');
    for (const k of keys) walk(v[k], undefined, owner, k, [...path, `f:${k}`], out);
    return;
  }
  if (ref?.t === 'object' && isPlainObject(v)) {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined && v[k] !== null);
    if (!keys.length) out.set(pathKey(path), '{}');
    const fields = modelFields(ref.name);
    for (const k of keys) walk(v[k], fields?.get(k)?.type, ref.name, k, [...path, `f:${k}`], out);
    return;
  }
  if (ref?.t === 'map' && isPlainObject(v)) {
    out.set(pathKey(path), null);
    for (const [k, x] of Object.entries(v)) if (x !== undefined && x !== null) walk(x, ref.values, owner, k, [...path, `f:${k}`], out);
    return;
  }
  if (ref?.t === 'array' && Array.isArray(v)) {
    const meta = listPatchMeta(owner, field);
    const items = ref.items;
    if (meta?.key && items.t === 'object') {
      const tokens = v.map((item) => itemToken(item, meta.key!));
      if (tokens.every(Boolean)) {
        v.forEach((item, i) => {
          const p = [...path, tokens[i]!];
          out.set(pathKey(p), null);
          const fields = modelFields(items.name);
          for (const [k, x] of Object.entries(item as Record<string, unknown>))
            if (x !== undefined && x !== null) walk(x, fields?.get(k)?.type, items.name, k, [...p, `f:${k}`], out);
        });
        return;
      }
    }
    if (meta && !meta.key && items.t !== 'object') {
      for (const item of v) out.set(pathKey([...path, `v:${JSON.stringify(item)}`]), null);
      return;
    }
  }
  // scalars, atomic lists and anything the schema does not describe are leaves
  out.set(pathKey(path), JSON.stringify(v));
}

type FieldsNode = Record<string, unknown>;

/** FieldsV1 (nested form) of a set of paths. Path tokens may be client keys: own members only. */
export function toFieldsV1(paths: Iterable<PathKey>): FieldsNode {
  const root: FieldsNode = {};
  const members: FieldsNode[] = [];
  for (const k of paths) {
    let node = root;
    for (const t of pathTokens(k)) {
      const next = getOwn(node, t);
      if (isPlainObject(next)) node = next;
      else {
        const child: FieldsNode = {};
        setOwn(node, t, child);
        node = child;
      }
    }
    members.push(node);
  }
  // a member that also has children says so with "."
  for (const m of members) if (Object.keys(m).some((x) => x !== '.')) setOwn(m, '.', {});
  return ordered(root);
}

/** Keys sorted, "." first, as upstream serializes field sets. */
function ordered(node: FieldsNode): FieldsNode {
  const out: FieldsNode = {};
  for (const k of Object.keys(node).sort((a, b) => (a === '.' ? -1 : b === '.' ? 1 : a < b ? -1 : a > b ? 1 : 0))) {
    const child = getOwn(node, k);
    setOwn(out, k, isPlainObject(child) ? ordered(child) : {});
  }
  return out;
}

/** The paths a FieldsV1 object names. */
export function fromFieldsV1(f: unknown, prefix: string[] = [], out = new Set<PathKey>()): Set<PathKey> {
  if (!isPlainObject(f)) return out;
  for (const [t, child] of Object.entries(f)) {
    if (t === '.') {
      if (prefix.length) out.add(pathKey(prefix));
      continue;
    }
    const p = [...prefix, t];
    if (isPlainObject(child) && Object.keys(child).length) fromFieldsV1(child, p, out);
    else out.add(pathKey(p));
  }
  return out;
}

/** Whether path b lies at or below path a. */
export function isUnder(a: PathKey, b: PathKey): boolean {
  return b === a || b.startsWith(a.slice(0, -1) + ',');
}
