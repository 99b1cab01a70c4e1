// JSON values as CEL sees them, typed by the structural schema as upstream's UnstructuredToVal:
// integer fields are CEL ints (bigint), number fields doubles, objects with properties are maps
// whose property names are escaped when they are CEL keywords or hold characters an identifier
// cannot (namespace -> __namespace__, a-b -> a__dash__b), maps (additionalProperties) keep their keys.
import type { CelInput } from '@bufbuild/cel';
import type { JSONSchemaProps } from '../crd/types.ts';

export type Json = unknown;

const RESERVED = new Set([
  'true',
  'false',
  'null',
  'in',
  'as',
  'break',
  'const',
  'continue',
  'else',
  'for',
  'function',
  'if',
  'import',
  'let',
  'loop',
  'package',
  'namespace',
  'return',
  'var',
  'void',
  'while',
]);

/** A property name as a CEL rule writes it; undefined if CEL cannot name it (upstream hides those). */
export function escapeProperty(name: string): string | undefined {
  if (RESERVED.has(name)) return `__${name}__`;
  if (!/^[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*$/.test(name)) return undefined;
  return name.replace(/__/g, '__underscores__').replace(/\./g, '__dot__').replace(/-/g, '__dash__').replace(/\//g, '__slash__');
}

const isObject = (v: Json): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** v typed by s (undefined: untyped, as under x-kubernetes-preserve-unknown-fields). */
export function toCel(v: Json, s: JSONSchemaProps | undefined): CelInput {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') {
    if (s?.type === 'number') return v;
    return Number.isInteger(v) ? BigInt(v) : v;
  }
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map((x) => toCel(x, s?.items));
  if (!isObject(v)) return null;
  const m = new Map<string, CelInput>();
  const extra = typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined;
  for (const [k, x] of Object.entries(v)) {
    const p = s?.properties?.[k];
    if (p) {
      const name = escapeProperty(k);
      if (name !== undefined) m.set(name, toCel(x, p));
    } else if (extra || !s?.properties) {
      m.set(k, toCel(x, extra));
    }
  }
  return m;
}

export interface Size {
  /** the largest list or map anywhere in the value */
  collection: number;
  /** the longest string */
  string: number;
}

/** The sizes the cost bound reads (bounded by the value's depth, itself bounded by the decoder). */
export function measure(v: Json, into: Size = { collection: 0, string: 0 }, depth = 0): Size {
  if (depth > 1000) return into;
  if (typeof v === 'string') into.string = Math.max(into.string, v.length);
  else if (Array.isArray(v)) {
    into.collection = Math.max(into.collection, v.length);
    for (const x of v) measure(x, into, depth + 1);
  } else if (isObject(v)) {
    const vs = Object.values(v);
    into.collection = Math.max(into.collection, vs.length);
    for (const x of vs) measure(x, into, depth + 1);
  }
  return into;
}
