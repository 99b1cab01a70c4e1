// Object schemas come from the kept @kubernetes/client-node models (generated from the upstream
// OpenAPI spec): each model lists its JSON fields and their types. From them we decode bodies the
// way the typed Go decoder does: unknown fields are dropped (and reported for fieldValidation),
// wrong JSON types are a 400, quantities are checked and kept as strings.
import * as models from '@kubernetes/client-node/dist/gen/models/all.js';
import { fitsIntFormat, jsonValueDescription } from './validation/formats.ts';

export type TypeRef =
  | { t: 'string' | 'number' | 'boolean' | 'date' | 'any' | 'intstr' | 'quantity' | 'bytes' }
  | { t: 'integer'; format: string }
  | { t: 'array'; items: TypeRef }
  | { t: 'map'; values: TypeRef }
  | { t: 'object'; name: string };

export interface FieldInfo {
  name: string;
  type: TypeRef;
}

interface Attr {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

// Fields the generated models type as plain strings but that are resource.Quantity upstream
// (maps of quantities, or single ones): a Quantity also accepts a JSON number.
const QUANTITY_FIELDS = new Set([
  'V1ResourceRequirements.limits',
  'V1ResourceRequirements.requests',
  'V1VolumeResourceRequirements.limits',
  'V1VolumeResourceRequirements.requests',
  'V1NodeStatus.capacity',
  'V1NodeStatus.allocatable',
  'V1PodSpec.overhead',
  'V1EmptyDirVolumeSource.sizeLimit',
  'V1ContainerStatus.allocatedResources',
  'V1ResourceQuotaSpec.hard',
  'V1ResourceQuotaStatus.hard',
  'V1ResourceQuotaStatus.used',
  'V1LimitRangeItem.max',
  'V1LimitRangeItem.min',
  'V1LimitRangeItem._default',
  'V1LimitRangeItem.defaultRequest',
  'V1LimitRangeItem.maxLimitRequestRatio',
  'V1PersistentVolumeSpec.capacity',
  'V1PersistentVolumeClaimStatus.capacity',
  'V1PersistentVolumeClaimStatus.allocatedResources',
  'V1CSIStorageCapacity.capacity',
  'V1CSIStorageCapacity.maximumVolumeSize',
]);
// []byte fields: base64 in JSON
const BYTES_FIELDS = new Set(['V1Secret.data', 'V1ConfigMap.binaryData']);

export function parseTypeRef(type: string, format = ''): TypeRef {
  const s = type.trim();
  // a list's or map's format is its elements' (supplementalGroups: Array<number>, int64)
  if (s.startsWith('Array<') && s.endsWith('>')) return { t: 'array', items: parseTypeRef(s.slice(6, -1), format) };
  const m = /^\{ \[key: string\]: (.+); \}$/.exec(s);
  if (m) return { t: 'map', values: parseTypeRef(m[1], format) };
  switch (s) {
    case 'string':
      return { t: 'string' };
    case 'number':
      return format === 'int32' || format === 'int64' ? { t: 'integer', format } : { t: 'number' };
    case 'boolean':
      return { t: 'boolean' };
    case 'Date':
    case 'V1MicroTime':
      return { t: 'date' };
    case 'any':
    case 'object':
      return { t: 'any' };
    case 'IntOrString':
      return { t: 'intstr' };
    default:
      return { t: 'object', name: s };
  }
}

function withQuantities(owner: string, a: Attr, ref: TypeRef): TypeRef {
  const key = `${owner}.${a.name}`;
  if (QUANTITY_FIELDS.has(key)) return ref.t === 'map' ? { t: 'map', values: { t: 'quantity' } } : { t: 'quantity' };
  if (BYTES_FIELDS.has(key)) return { t: 'map', values: { t: 'bytes' } };
  return ref;
}

const cache = new Map<string, Map<string, FieldInfo> | undefined>();

/** The JSON fields of a model, keyed by JSON name; undefined if the model is unknown. */
export function modelFields(model: string): Map<string, FieldInfo> | undefined {
  if (cache.has(model)) return cache.get(model);
  const cls = (models as unknown as Record<string, { getAttributeTypeMap?: () => Attr[] }>)[model];
  const attrs = cls?.getAttributeTypeMap?.();
  let out: Map<string, FieldInfo> | undefined;
  if (attrs) {
    out = new Map();
    for (const a of attrs) out.set(a.baseName, { name: a.baseName, type: withQuantities(model, a, parseTypeRef(a.type, a.format)) });
  }
  cache.set(model, out);
  return out;
}

/** The type of the field at a dotted JSON path below a model (array/map levels are stepped through). */
export function fieldTypeAt(model: string, path: string[]): TypeRef | undefined {
  let cur: TypeRef = { t: 'object', name: model };
  for (const seg of path) {
    while (cur.t === 'array') cur = cur.items;
    if (cur.t === 'map') {
      cur = cur.values;
      continue;
    }
    if (cur.t !== 'object') return undefined;
    const f: FieldInfo | undefined = modelFields(cur.name)?.get(seg);
    if (!f) return undefined;
    cur = f.type;
  }
  return cur;
}

/** Go's name for a model: V1PodSpec -> PodSpec, CoreV1Event -> Event. */
export function goTypeName(model: string): string {
  return model.replace(/^[A-Z][a-z]+V\d+((alpha|beta)\d+)?(?=[A-Z])/, '').replace(/^V\d+((alpha|beta)\d+)?(?=[A-Z])/, '');
}

function goType(ref: TypeRef): string {
  switch (ref.t) {
    case 'array':
      return `[]${goType(ref.items)}`;
    case 'map':
      return `map[string]${goType(ref.values)}`;
    case 'object':
      return `v1.${goTypeName(ref.name)}`;
    case 'integer':
      return ref.format;
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    case 'date':
      return 'v1.Time';
    case 'string':
      return 'string';
    case 'intstr':
      return 'intstr.IntOrString';
    case 'quantity':
      return 'resource.Quantity';
    case 'bytes':
      return '[]uint8';
    default:
      return ref.t;
  }
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

export const QUANTITY_RE = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

export interface DecodeResult {
  unknown: string[];
  /** first type error, phrased as encoding/json would */
  typeError?: string;
}

interface Ctx {
  unknown: string[];
  typeError?: string;
}

/**
 * Conforms a decoded JSON value to a model in place: drops unknown fields (recorded as paths such as
 * "spec.containers[0].foo"), drops nulls, turns numeric quantities into strings, and records the
 * first JSON type mismatch.
 */
export function conform(obj: Record<string, unknown>, model: string): DecodeResult {
  const ctx: Ctx = { unknown: [] };
  conformObject(obj, model, '', '', ctx);
  return { unknown: ctx.unknown, typeError: ctx.typeError };
}

function join(path: string, seg: string): string {
  return path ? `${path}.${seg}` : seg;
}

function typeMismatch(ctx: Ctx, v: unknown, owner: string, goPath: string, ref: TypeRef, what = jsonType(v)): void {
  ctx.typeError ??= `json: cannot unmarshal ${what} into Go struct field ${goTypeName(owner)}.${goPath} of type ${goType(ref)}`;
}

function conformObject(obj: Record<string, unknown>, model: string, path: string, goPath: string, ctx: Ctx): void {
  const fields = modelFields(model);
  if (!fields) return;
  for (const key of Object.keys(obj)) {
    const f = fields.get(key);
    if (!f) {
      ctx.unknown.push(join(path, key));
      delete obj[key];
      continue;
    }
    if (obj[key] === null) {
      delete obj[key];
      continue;
    }
    const out = conformValue(obj[key], f.type, join(path, key), join(goPath, key), model, ctx);
    if (out !== obj[key]) obj[key] = out;
  }
}

/** What Go's decoder leaves for a JSON null in a slice element or map value of this type. */
function zeroValue(ref: TypeRef): unknown {
  switch (ref.t) {
    case 'object':
      return {};
    case 'string':
    case 'bytes':
      return '';
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'quantity':
      return '0';
    default:
      // nil slices, maps, times, interfaces and int-or-strings stay null
      return null;
  }
}

function conformValue(v: unknown, ref: TypeRef, path: string, goPath: string, owner: string, ctx: Ctx): unknown {
  switch (ref.t) {
    case 'object':
      if (typeof v !== 'object' || Array.isArray(v) || v === null) typeMismatch(ctx, v, owner, goPath, ref);
      else conformObject(v as Record<string, unknown>, ref.name, path, goPath, ctx);
      return v;
    case 'array':
      if (!Array.isArray(v)) typeMismatch(ctx, v, owner, goPath, ref);
      else
        v.forEach((item, i) => {
          if (item === null) {
            // Go decodes null into a slice element as the element's zero value ([null] -> [{}])
            v[i] = zeroValue(ref.items);
            return;
          }
          const out = conformValue(item, ref.items, `${path}[${i}]`, goPath, owner, ctx);
          if (out !== item) v[i] = out;
        });
      return v;
    case 'map':
      if (typeof v !== 'object' || Array.isArray(v) || v === null) typeMismatch(ctx, v, owner, goPath, ref);
      else {
        const m = v as Record<string, unknown>;
        for (const k of Object.keys(m)) {
          if (m[k] === null) {
            m[k] = zeroValue(ref.values);
            continue;
          }
          const out = conformValue(m[k], ref.values, `${path}.${k}`, goPath, owner, ctx);
          if (out !== m[k]) m[k] = out;
        }
      }
      return v;
    case 'string':
    case 'date':
    case 'bytes':
      if (typeof v !== 'string') typeMismatch(ctx, v, owner, goPath, ref);
      return v;
    case 'integer':
      // the schema's format bounds the value as the Go field type does: 1.5, 2147483648 and 1e20
      // are no int32
      if (!fitsIntFormat(v, ref.format)) typeMismatch(ctx, v, owner, goPath, ref, jsonValueDescription(v));
      return v;
    case 'number':
      if (typeof v !== 'number') typeMismatch(ctx, v, owner, goPath, ref);
      return v;
    case 'boolean':
      if (typeof v !== 'boolean') typeMismatch(ctx, v, owner, goPath, ref);
      return v;
    case 'intstr':
      if (typeof v !== 'string' && !(typeof v === 'number' && Number.isInteger(v))) typeMismatch(ctx, v, owner, goPath, ref);
      return v;
    case 'quantity': {
      const s = typeof v === 'number' ? String(v) : v;
      if (typeof s !== 'string') typeMismatch(ctx, v, owner, goPath, ref);
      else if (!QUANTITY_RE.test(s)) ctx.typeError ??= `quantities must match the regular expression '${QUANTITY_RE.source}'`;
      return s;
    }
    default:
      return v;
  }
}
