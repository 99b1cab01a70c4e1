// Applies a PATCH body of the given type to the current object, mapping patch failures to the
// API's errors: malformed patches are 400, patches that do not apply are 422.
import { ApiError, badRequest } from '../errors.ts';
import type { PatchType } from '../body.ts';
import { jsonPatch, PatchError } from './json.ts';
import { isObject, type Json, mergePatch } from './merge.ts';
import { strategicMergePatch } from './strategic.ts';

function unprocessable(msg: string): ApiError {
  return new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${msg}`, {
    causes: [{ reason: 'FieldValueInvalid', message: msg, field: 'patch' }],
  });
}

export function applyPatch(type: PatchType, current: unknown, patch: unknown, model: string): Json {
  const cur = structuredClone(current) as Json;
  try {
    switch (type) {
      case 'merge':
        if (!isObject(patch)) throw badRequest('merge patch must be a JSON object');
        return mergePatch(cur, patch);
      case 'json':
        if (!Array.isArray(patch)) throw badRequest('json patch must be a JSON array of operations');
        return jsonPatch(cur, patch);
      case 'strategic':
        if (!isObject(patch)) throw badRequest('strategic merge patch must be a JSON object');
        return strategicMergePatch(cur, patch, model);
      default:
        throw badRequest(`unsupported patch type ${type}`);
    }
  } catch (e) {
    if (e instanceof PatchError) throw unprocessable(e.message);
    throw e;
  }
}
