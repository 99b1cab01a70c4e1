// Custom objects against their version's structural schema, as the apiextensions server does:
// pruning of fields the schema does not name (unless x-kubernetes-preserve-unknown-fields),
// defaulting, and validation with kube-openapi's wording ("spec.replicas in body must be of type
// integer: \"string\"") under the field path it names.
import { duplicate, type FieldError, invalid, notSupported, required, tooLong } from '../validation/field.ts';
import type { JSONSchemaProps } from './types.ts';
import { modelFields } from '../schema.ts';

type Json = unknown;
type JsonObject = Record<string, unknown>;

const isObject = (v: Json): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/** the fields every object and embedded resource keeps whatever its schema says */
const TYPE_META = ['apiVersion', 'kind', 'metadata'];

/** Drops what the schema does not name; returns the dropped paths (for fieldValidation). */
export function prune(v: Json, s: JSONSchemaProps, root = true, path = ''): string[] {
  const out: string[] = [];
  walkPrune(v, s, root, path, out);
  return out;
}

function walkPrune(v: Json, s: JSONSchemaProps | undefined, resource: boolean, path: string, out: string[]): void {
  if (!s) return;
  if (Array.isArray(v)) {
    v.forEach((x, i) => walkPrune(x, s.items, false, `${path}[${i}]`, out));
    return;
  }
  if (!isObject(v)) return;
  const embedded = resource || s['x-kubernetes-embedded-resource'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const props = s.properties;
  for (const k of Object.keys(v)) {
    // apiVersion, kind and ObjectMeta of a resource are the generic store's, whatever the schema says;
    // ObjectMeta's own unknown fields are dropped and reported (upstream's objectmeta pruning)
    if (embedded && TYPE_META.includes(k)) {
      if (k === 'metadata' && isObject(v[k])) pruneObjectMeta(v[k], join(path, k), out);
      continue;
    }
    const p = props?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
    if (p) walkPrune(v[k], p, false, join(path, k), out);
    else if (!preserve && s.additionalProperties !== true) {
      delete v[k];
      out.push(join(path, k));
    }
  }
}

function pruneObjectMeta(meta: JsonObject, path: string, out: string[]): void {
  const known = modelFields('V1ObjectMeta');
  if (!known) return;
  for (const k of Object.keys(meta)) {
    if (known.has(k)) continue;
    delete meta[k];
    out.push(join(path, k));
  }
}

/** Fills absent (and non-nullable null) fields with their schema defaults, in place. */
export function applyDefaults(v: Json, s: JSONSchemaProps | undefined, root = true): void {
  if (!s) return;
  if (Array.isArray(v)) {
    for (const x of v) applyDefaults(x, s.items, false);
    return;
  }
  if (!isObject(v)) return;
  for (const [k, p] of Object.entries(s.properties ?? {})) {
    if (root && k === 'metadata') continue;
    if (p.default !== undefined && (v[k] === undefined || (v[k] === null && !p.nullable))) v[k] = structuredClone(p.default);
    applyDefaults(v[k], p, false);
  }
  if (typeof s.additionalProperties === 'object') for (const k of Object.keys(v)) if (!s.properties?.[k]) applyDefaults(v[k], s.additionalProperties, false);
}

function jsonTypeOf(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(v: Json, t: string): boolean {
  const actual = jsonTypeOf(v);
  if (t === 'number') return actual === 'number' || actual === 'integer';
  return actual === t;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const FORMATS: Record<string, (v: string) => boolean> = {
  'date-time': (v) => DATE_TIME.test(v) && !Number.isNaN(Date.parse(v.replace(' ', 'T'))),
  datetime: (v) => FORMATS['date-time'](v),
  date: (v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)),
  uuid: (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
  ipv4: (v) => /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(v),
  hostname: (v) => v.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i.test(v),
  byte: (v) => /^[A-Za-z0-9+/]*={0,2}$/.test(v) && v.length % 4 === 0,
  email: (v) => /^[^@\s]+@[^@\s]+$/.test(v),
  duration: (v) => /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/.test(v),
};
const INT_BOUNDS: Record<string, [number, number]> = {
  int32: [-2147483648, 2147483647],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

function canonical(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObject(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/**
 * A Go (RE2) pattern as a JavaScript RegExp: inline flag groups such as (?i) or (?s) become
 * flags; undefined if JavaScript cannot read it.
 */
export function goRegExp(pattern: string): RegExp | undefined {
  let flags = 'u';
  // Go allows flag groups anywhere (^(?i)(abort|warn)?$); they are applied to the whole pattern
  const p = pattern.replace(/\(\?([imsU]+)\)/g, (_all, fs: string) => {
    for (const f of fs) if ('ims'.includes(f) && !flags.includes(f)) flags += f;
    return '';
  });
  try {
    return new RegExp(p, flags);
  } catch {
    return undefined;
  }
}

/** Every schema violation of v at path (empty path: the object root). */
export function validateValue(v: Json, s: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const where = path || '<root>';
  if (v === null) {
    if (s.nullable || (s['x-kubernetes-preserve-unknown-fields'] && !s.type)) return errs;
    if (s.type) return [invalid(path, 'null', `${where} in body must be of type ${s.type}: "null"`)];
    return errs;
  }
  if (s['x-kubernetes-int-or-string']) {
    if (!(typeof v === 'string' || jsonTypeOf(v) === 'integer'))
      errs.push(invalid(path, jsonTypeOf(v), `${where} in body must be of type integer,string: "${jsonTypeOf(v)}"`));
  } else if (s.type && !typeMatches(v, s.type)) {
    return [invalid(path, jsonTypeOf(v), `${where} in body must be of type ${s.type}: "${jsonTypeOf(v)}"`)];
  }
  if (s.enum && !s.enum.some((e) => canonical(e) === canonical(v)))
    errs.push(
      notSupported(
        path,
        v,
        s.enum.map((e) => (typeof e === 'string' ? e : canonical(e))),
      ),
    );
  if (typeof v === 'string') errs.push(...validateString(v, s, path, where));
  if (typeof v === 'number') errs.push(...validateNumber(v, s, path, where));
  if (Array.isArray(v)) errs.push(...validateArray(v, s, path, where));
  if (isObject(v)) errs.push(...validateObject(v, s, path));
  errs.push(...validateJunctors(v, s, path, where));
  return errs;
}

function validateString(v: string, s: JSONSchemaProps, path: string, where: string): FieldError[] {
  const errs: FieldError[] = [];
  const len = [...v].length;
  if (s.maxLength !== undefined && len > s.maxLength) errs.push(tooLong(path, s.maxLength));
  if (s.minLength !== undefined && len < s.minLength) errs.push(invalid(path, v, `${where} in body should be at least ${s.minLength} chars long`));
  if (s.pattern !== undefined) {
    const re = goRegExp(s.pattern);
    if (re && !re.test(v)) errs.push(invalid(path, v, `${where} in body should match '${s.pattern}'`));
  }
  const check = s.format ? FORMATS[s.format] : undefined;
  if (check && !check(v)) errs.push(invalid(path, v, `${where} in body must be of type ${s.format}: ${JSON.stringify(v)}`));
  return errs;
}

function validateNumber(v: number, s: JSONSchemaProps, path: string, where: string): FieldError[] {
  const errs: FieldError[] = [];
  const bounds = s.format ? INT_BOUNDS[s.format] : undefined;
  if (bounds && (v < bounds[0] || v > bounds[1])) errs.push(invalid(path, v, `${where} in body must be of type ${s.format}: "${v}"`));
  if (s.maximum !== undefined) {
    if (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)
      errs.push(invalid(path, v, `${where} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`));
  }
  if (s.minimum !== undefined) {
    if (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)
      errs.push(invalid(path, v, `${where} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`));
  }
  if (s.multipleOf !== undefined && s.multipleOf > 0 && Math.abs(v / s.multipleOf - Math.round(v / s.multipleOf)) > 1e-9)
    errs.push(invalid(path, v, `${where} in body should be a multiple of ${s.multipleOf}`));
  return errs;
}

function validateArray(v: unknown[], s: JSONSchemaProps, path: string, where: string): FieldError[] {
  const errs: FieldError[] = [];
  if (s.maxItems !== undefined && v.length > s.maxItems)
    errs.push({ type: 'TooMany', field: path, value: v.length, detail: `must have at most ${s.maxItems} items` });
  if (s.minItems !== undefined && v.length < s.minItems) errs.push(invalid(path, v.length, `${where} in body should have at least ${s.minItems} items`));
  const listType = s['x-kubernetes-list-type'];
  if (s.uniqueItems || listType === 'set') {
    const seen = new Set<string>();
    v.forEach((x, i) => {
      const c = canonical(x);
      if (seen.has(c)) errs.push(duplicate(`${path}[${i}]`, x));
      seen.add(c);
    });
  }
  if (listType === 'map') {
    const keys = s['x-kubernetes-list-map-keys'] ?? [];
    const seen = new Set<string>();
    v.forEach((x, i) => {
      if (!isObject(x)) return;
      const k = canonical(keys.map((key) => x[key] ?? s.items?.properties?.[key]?.default ?? null));
      if (seen.has(k)) errs.push(duplicate(`${path}[${i}]`, Object.fromEntries(keys.map((key) => [key, x[key]]))));
      seen.add(k);
    });
  }
  if (s.items) v.forEach((x, i) => errs.push(...validateValue(x, s.items!, `${path}[${i}]`)));
  return errs;
}

function validateObject(v: JsonObject, s: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const r of s.required ?? []) if (v[r] === undefined) errs.push(required(join(path, r), ''));
  const nProps = Object.keys(v).length;
  if (s.maxProperties !== undefined && nProps > s.maxProperties)
    errs.push({ type: 'TooMany', field: path, value: nProps, detail: `must have at most ${s.maxProperties} items` });
  if (s.minProperties !== undefined && nProps < s.minProperties)
    errs.push(invalid(path, nProps, `${path || '<root>'} in body should have at least ${s.minProperties} properties`));
  if (s['x-kubernetes-embedded-resource']) {
    if (!v.apiVersion) errs.push(required(join(path, 'apiVersion'), 'must not be empty'));
    if (!v.kind) errs.push(required(join(path, 'kind'), 'must not be empty'));
  }
  for (const k of Object.keys(v)) {
    const p = s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
    // the root's metadata is ObjectMeta, validated by the generic store
    if (p && !(path === '' && k === 'metadata')) errs.push(...validateValue(v[k], p, join(path, k)));
  }
  return errs;
}

function validateJunctors(v: Json, s: JSONSchemaProps, path: string, where: string): FieldError[] {
  const errs: FieldError[] = [];
  // a junctor's branches validate values only; they never prune or default
  const passes = (b: JSONSchemaProps) => validateValue(v, b, path).length === 0;
  if (s.allOf) for (const b of s.allOf) errs.push(...validateValue(v, b, path));
  if (s.anyOf && !s.anyOf.some(passes)) {
    errs.push(invalid(path, jsonTypeOf(v), `${where} in body must validate at least one schema (anyOf)`));
    for (const b of s.anyOf) errs.push(...validateValue(v, b, path));
  }
  if (s.oneOf) {
    const n = s.oneOf.filter(passes).length;
    if (n !== 1) {
      errs.push(invalid(path, jsonTypeOf(v), `${where} in body must validate one and only one schema (oneOf)`));
      if (n === 0) for (const b of s.oneOf) errs.push(...validateValue(v, b, path));
    }
  }
  if (s.not && passes(s.not)) errs.push(invalid(path, jsonTypeOf(v), `${where} in body should not validate the schema (not)`));
  return errs;
}
