// Request bodies: content types, decoding (JSON or YAML) and the malformed-body errors.
import YAML from 'yaml';
import { ApiError, badRequest, unsupportedMediaType } from './errors.ts';
import { decodeK8sProtobuf, ProtobufError } from './protobuf/decode.ts';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export const PATCH_CONTENT_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';

/** Decodes an object body (create/update) as JSON, YAML or (given its message) Kubernetes protobuf. */
export function decodeBody(buf: Buffer | undefined, contentType: string | undefined, protoMessage?: string): unknown {
  const mt = mediaType(contentType) || 'application/json';
  if (mt === PROTOBUF && protoMessage) {
    try {
      return decodeK8sProtobuf(buf ?? Buffer.alloc(0), protoMessage);
    } catch (e) {
      if (e instanceof ProtobufError) throw badRequest(`unable to decode protobuf body: ${e.message}`);
      throw e;
    }
  }
  const text = (buf ?? Buffer.alloc(0)).toString('utf8');
  if (mt === 'application/json' || mt.endsWith('+json')) {
    if (!text.trim()) throw badRequest('the body of the request was empty');
    try {
      return JSON.parse(text);
    } catch (e) {
      throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
    }
  }
  if (mt === 'application/yaml' || mt.endsWith('+yaml')) {
    try {
      // repeated keys keep the last value, as Go's decoder; fieldValidation judges them (duplicates.ts)
      return YAML.parse(text, { strict: true, uniqueKeys: false });
    } catch (e) {
      throw badRequest(`error converting YAML to JSON: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw unsupportedMediaType(mt);
}

export function requireObject(v: unknown): Record<string, any> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(v)?.slice(0, 200)}'`);
  return v as Record<string, any>;
}

const POLICIES = ['Orphan', 'Background', 'Foreground'] as const;

/** DeleteOptions from a request body and query (query parameters win, as upstream). */
export function parseDeleteOptions(body: Record<string, any>, query: URLSearchParams): {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: (typeof POLICIES)[number];
} {
  const qg = query.get('gracePeriodSeconds');
  const grace = qg !== null ? Number(qg) : body.gracePeriodSeconds;
  if (grace !== undefined && grace !== null && !Number.isInteger(grace)) throw badRequest(`invalid gracePeriodSeconds: ${grace}`);
  const policy = query.get('propagationPolicy') ?? body.propagationPolicy ?? undefined;
  const qo = query.get('orphanDependents');
  const orphan = qo !== null ? qo === 'true' : body.orphanDependents;
  if (policy !== undefined && policy !== null && !POLICIES.includes(policy))
    throw new ApiError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`);
  if (policy && orphan !== undefined && orphan !== null)
    throw new ApiError(422, 'Invalid', 'DeleteOptions.meta.k8s.io "" is invalid: orphanDependents: Invalid value: "": Cannot both set OrphanDependents and PropagationPolicy');
  const propagationPolicy = policy ?? (orphan === true ? 'Orphan' : orphan === false ? 'Background' : undefined);
  return { gracePeriodSeconds: grace ?? undefined, preconditions: body.preconditions ?? undefined, propagationPolicy };
}
