// CRD conversion through a webhook (spec.conversion.strategy Webhook), as the apiextensions
// server's webhook converter and its safe wrapper: the objects not yet in the desired version go in
// one ConversionReview (v1 or v1beta1, the first of conversionReviewVersions this server speaks)
// over the admission webhooks' HTTPS client and target resolution; the answer is checked (review
// kind, uid, result, object count, apiVersion, kind, name, namespace, uid) and each converted
// object keeps its original metadata but for labels and annotations. Any failure is a 500 whose
// message is upstream's `conversion webhook for <gvk> failed: ...` (kubectl prints it as
// `Error from server: ...`: upstream's Status has no reason).
import { randomUUID } from 'node:crypto';
import { post } from '../admission/client.ts';
import { type ServiceLookups, webhookTarget } from '../admission/target.ts';
import { unknownError } from '../errors.ts';
import type { Obj } from '../strategies/types.ts';
import { fieldErrorString } from '../validation/field.ts';
import { validateLabels } from '../validation/meta.ts';
import type { CRD } from './types.ts';

/** Converts objects (each in the version it was stored or sent in) to an apiVersion. */
export type Convert = (objs: Obj[], apiVersion: string) => Promise<Obj[]>;

const REVIEW_GROUP = 'apiextensions.k8s.io';
/** upstream's webhook rest client timeout (conversion webhooks have no timeoutSeconds) */
const TIMEOUT_MS = 30_000;

const gvk = (o: Obj) => `${o.apiVersion}, Kind=${o.kind}`;
const failure = unknownError;

interface ReviewAnswer {
  apiVersion?: string;
  kind?: string;
  response?: { uid?: string; convertedObjects?: unknown[]; result?: { status?: string; message?: string } };
}

/** upstream's getConvertedObjectsFromResponse: the converted objects, or why the answer is unusable. */
function convertedObjects(text: string, version: string, uid: string): unknown[] {
  let a: ReviewAnswer;
  try {
    a = JSON.parse(text) as ReviewAnswer;
  } catch (e) {
    throw new Error(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
  if (typeof a !== 'object' || a === null) throw new Error("Object 'Kind' is missing in response");
  if (version === 'v1') {
    const want = `${REVIEW_GROUP}/v1, Kind=ConversionReview`;
    const got = `${a.apiVersion ?? ''}, Kind=${a.kind ?? ''}`;
    if (got !== want) throw new Error(`expected webhook response of ${want}, got ${got}`);
  }
  const r = a.response;
  if (!r || typeof r !== 'object') throw new Error('no response provided');
  // v1beta1 answers were never checked for their uid upstream
  if (version === 'v1' && r.uid !== uid) throw new Error(`expected response.uid=${JSON.stringify(uid)}, got ${JSON.stringify(r.uid ?? '')}`);
  if (r.result?.status !== 'Success') {
    if (r.result?.message) throw new Error(r.result.message);
    throw new Error(`response.result.status was '${r.result?.status ?? ''}', not 'Success'`);
  }
  return Array.isArray(r.convertedObjects) ? r.convertedObjects : [];
}

/** upstream's validateConvertedObject: why the converted object is not the original's, if it is not. */
function sameObject(original: Obj, converted: Obj): string | undefined {
  for (const f of ['kind', 'name', 'namespace', 'uid'] as const) {
    const a = f === 'kind' ? original.kind : original.metadata?.[f];
    const b = f === 'kind' ? converted.kind : converted.metadata?.[f];
    if ((a ?? '') !== (b ?? '')) return `must have the same ${f === 'uid' ? 'UID' : f}: ${a ?? ''} != ${b ?? ''}`;
  }
  return undefined;
}

/** upstream's restoreObjectMeta: the original's metadata with the converted labels and annotations. */
function restored(original: Obj, converted: Obj): Obj {
  const cm = converted.metadata as Record<string, unknown> | undefined;
  if (cm === undefined) throw new Error('missing metadata in converted object');
  const meta: Record<string, unknown> = { ...original.metadata };
  for (const f of ['labels', 'annotations'] as const) {
    const v = cm[f];
    delete meta[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'object' || Array.isArray(v))
      throw new Error(`invalid metadata.${f} of type ${Array.isArray(v) ? '[]interface {}' : typeof v} in converted object`);
    for (const [k, x] of Object.entries(v))
      if (typeof x !== 'string') throw new Error(`metadata.${f}[${k}] must be a string, but is ${typeof x} in converted object`);
    if (f === 'labels') {
      const errs = validateLabels(v as Record<string, string>, 'metadata.labels');
      if (errs.length) throw new Error(errs.length === 1 ? fieldErrorString(errs[0]) : `[${errs.map(fieldErrorString).join(', ')}]`);
    }
    meta[f] = v;
  }
  return { ...converted, metadata: meta };
}

/** The converter of a CRD whose conversion strategy is Webhook. */
export function webhookConverter(crd: CRD, lookups: ServiceLookups): Convert {
  const hook = crd.spec.conversion?.webhook ?? {};
  const version = (hook.conversionReviewVersions ?? []).find((v) => v === 'v1' || v === 'v1beta1');
  return async (objs, apiVersion) => {
    const todo = objs.filter((o) => o.apiVersion !== apiVersion);
    if (!todo.length) return objs;
    const what = gvk(todo[0]);
    if (!version) throw failure(`conversion webhook for ${what} failed: no supported conversion review versions`);
    const uid = randomUUID();
    const review = { apiVersion: `${REVIEW_GROUP}/${version}`, kind: 'ConversionReview', request: { uid, desiredAPIVersion: apiVersion, objects: todo } };
    let out: unknown[];
    try {
      const target = await webhookTarget(hook.clientConfig ?? {}, '', lookups);
      out = convertedObjects(await post(target, JSON.stringify(review), TIMEOUT_MS), version, uid);
    } catch (e) {
      // no answer (CallError), no endpoint (TargetError) or an unusable one
      throw failure(`conversion webhook for ${what} failed: ${(e as Error).message}`);
    }
    if (out.length !== todo.length) throw failure(`conversion webhook for ${what} returned ${out.length} objects, expected ${todo.length}`);
    let i = 0;
    return objs.map((original) => {
      if (original.apiVersion === apiVersion) return original;
      const index = i++;
      const bad = (why: string) => failure(`conversion webhook for ${what} returned invalid converted object at index ${index}: ${why}`);
      const c = out[index];
      if (typeof c !== 'object' || c === null || Array.isArray(c)) throw bad("Object 'Kind' is missing");
      const converted = c as Obj;
      if (converted.apiVersion !== apiVersion) throw bad(`invalid groupVersion (expected ${apiVersion}, received ${converted.apiVersion ?? ''})`);
      if (converted.kind !== original.kind) throw bad(`invalid kind (expected ${original.kind}, received ${converted.kind ?? ''})`);
      const why = sameObject(original, converted);
      if (why) throw bad(why);
      try {
        return restored(original, converted);
      } catch (e) {
        throw failure(`conversion webhook for ${what} returned invalid metadata in object at index ${index}: ${(e as Error).message}`);
      }
    });
  };
}
