// JSON patch (RFC 6902) over JSON pointers (RFC 6901): add, remove, replace, move, copy, test.
import { deleteOwn, getOwn, hasOwn, setOwn } from '../safe-keys.ts';
import type { Json } from './merge.ts';

export class PatchError extends Error {}

interface Op {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw new PatchError(`invalid JSON pointer "${p}"`);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

const clone = <T>(v: T): T => structuredClone(v);

function parentOf(doc: Json, tokens: string[], path: string): { parent: Json; key: string } {
  let cur: Json = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) {
      const i = Number(t);
      if (!/^\d+$/.test(t) || i >= cur.length) throw new PatchError(`doc is missing path: "${path}"`);
      cur = cur[i];
    } else if (cur && typeof cur === 'object' && hasOwn(cur, t)) cur = getOwn(cur, t)!;
    else throw new PatchError(`doc is missing path: "${path}"`);
  }
  return { parent: cur, key: tokens[tokens.length - 1] };
}

function get(doc: Json, path: string): Json {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return doc;
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!/^\d+$/.test(key) || i >= parent.length) throw new PatchError(`doc is missing path: "${path}"`);
    return parent[i];
  }
  if (parent && typeof parent === 'object' && hasOwn(parent, key)) return getOwn(parent, key)!;
  throw new PatchError(`doc is missing path: "${path}"`);
}

function add(doc: Json, path: string, value: Json): Json {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : Number(key);
    if ((key !== '-' && !/^\d+$/.test(key)) || i > parent.length) throw new PatchError(`add operation does not apply: doc is missing path: "${path}"`);
    parent.splice(i, 0, value);
  } else if (parent && typeof parent === 'object') setOwn(parent, key, value);
  else throw new PatchError(`add operation does not apply: doc is missing path: "${path}"`);
  return doc;
}

function remove(doc: Json, path: string): Json {
  const tokens = parsePointer(path);
  if (tokens.length === 0) throw new PatchError('cannot remove the whole document');
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!/^\d+$/.test(key) || i >= parent.length) throw new PatchError(`remove operation does not apply: doc is missing path: "${path}"`);
    parent.splice(i, 1);
  } else if (parent && typeof parent === 'object' && hasOwn(parent, key)) deleteOwn(parent, key);
  else throw new PatchError(`remove operation does not apply: doc is missing path: "${path}"`);
  return doc;
}

function equal(a: Json, b: Json): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}
function canonical(v: Json): Json {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical(getOwn(v, k)!)]),
    );
  return v;
}

/** One operation as the client sent it, read from its own members only. */
function readOp(raw: unknown): Op & { hasValue: boolean } {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new PatchError('invalid JSON patch operation');
  const o = raw as Record<string, Json>;
  const path = getOwn(o, 'path');
  if (typeof path !== 'string') throw new PatchError('invalid JSON patch operation');
  const from = getOwn(o, 'from');
  return { op: String(getOwn(o, 'op')), path, from: typeof from === 'string' ? from : undefined, value: getOwn(o, 'value'), hasValue: hasOwn(o, 'value') };
}

export function jsonPatch(doc: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw new PatchError('json patch must be an array of operations');
  let out = clone(doc);
  for (const item of ops) {
    const raw = readOp(item);
    switch (raw.op) {
      case 'add':
        if (!raw.hasValue) throw new PatchError('missing value for add operation');
        out = add(out, raw.path, clone(raw.value!));
        break;
      case 'remove':
        out = remove(out, raw.path);
        break;
      case 'replace':
        if (!raw.hasValue) throw new PatchError('missing value for replace operation');
        get(out, raw.path);
        if (raw.path === '') out = clone(raw.value!);
        else {
          out = remove(out, raw.path);
          out = add(out, raw.path, clone(raw.value!));
        }
        break;
      case 'move': {
        const v = get(out, raw.from ?? '');
        out = remove(out, raw.from ?? '');
        out = add(out, raw.path, v);
        break;
      }
      case 'copy':
        out = add(out, raw.path, clone(get(out, raw.from ?? '')));
        break;
      case 'test':
        if (!equal(get(out, raw.path), raw.value ?? null)) throw new PatchError(`testing value ${raw.path} failed: test failed`);
        break;
      default:
        throw new PatchError(`Unexpected kind: ${raw.op}`);
    }
  }
  return out;
}
