// Strategic-merge directives and the checks upstream makes of them (apimachinery strategicpatch
// and mergepatch errors): a $patch that is not replace, merge or delete, a $retainKeys that is
// not a list naming every patched key, a $setElementOrder/<list> or $deleteFromPrimitiveList/<list>
// that is not a list (or names no list) are refused with 400 BadRequest and upstream's message;
// nothing of such a patch is applied. Other "$..." keys are ordinary (unknown) fields, as upstream.
import { badRequest } from '../errors.ts';
import { getOwn, hasOwn } from '../safe-keys.ts';
import type { Json } from './merge.ts';

export const PATCH = '$patch';
export const RETAIN_KEYS = '$retainKeys';
export const SET_ORDER = '$setElementOrder/';
export const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

export type PatchDirective = 'replace' | 'merge' | 'delete';

type Obj = Record<string, Json>;

export function isDirective(k: string): boolean {
  return k === PATCH || k === RETAIN_KEYS || k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVE);
}

/** A value as Go's %v prints it: maps with sorted keys, lists space-separated. */
function goValue(v: Json): string {
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (typeof v === 'object')
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${goValue(getOwn(v, k)!)}`)
      .join(' ')}]`;
  return String(v);
}

/** A value as Go's %s prints it: strings as they are, anything else flagged. */
function goString(v: Json): string {
  if (typeof v === 'string') return v;
  const type =
    v === null ? '<nil>' : Array.isArray(v) ? '[]interface {}' : typeof v === 'object' ? 'map[string]interface {}' : typeof v === 'number' ? 'float64' : 'bool';
  return v === null ? '%!s(<nil>)' : `%!s(${type}=${goValue(v)})`;
}

/** The $patch directive of a map (a patch map or a list element), if any; refuses unknown ones. */
export function patchDirective(m: Obj): PatchDirective | undefined {
  if (!hasOwn(m, PATCH)) return undefined;
  const v = getOwn(m, PATCH)!;
  if (v === 'replace' || v === 'merge' || v === 'delete') return v;
  throw badRequest(`unknown patch type: ${goString(v)} in map: ${goValue(m)}`);
}

/** Checks the list directives and $retainKeys of one patch map (before any of it is applied). */
export function checkDirectives(patch: Obj): void {
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith(SET_ORDER) && (k === SET_ORDER || !Array.isArray(v))) throw badRequest('invalid patch format of setElementOrder list');
    if (k.startsWith(DELETE_PRIMITIVE) && (k === DELETE_PRIMITIVE || !Array.isArray(v))) throw badRequest('invalid patch format of primitive list');
  }
  const retain = retainedKeys(patch);
  if (!retain) return;
  // every field the patch sets must be one the directive keeps
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || isDirective(k)) continue;
    if (!retain.includes(k)) throw badRequest('invalid patch format of retainKeys');
  }
}

/** The keys a $retainKeys directive keeps (undefined: no directive); refuses a malformed one. */
export function retainedKeys(patch: Obj): string[] | undefined {
  if (!hasOwn(patch, RETAIN_KEYS)) return undefined;
  const v = getOwn(patch, RETAIN_KEYS);
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) throw badRequest('invalid patch format of retainKeys');
  return v;
}
