// JSON merge patch (RFC 7386): objects merge recursively, null deletes, anything else replaces.
// Keys are the client's: read and written as own properties only (safe-keys.ts).
import { deleteOwn, getOwn, setOwn } from '../safe-keys.ts';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) deleteOwn(out, k);
    else setOwn(out, k, mergePatch(getOwn(out, k), v));
  }
  return out;
}
