// Request bodies: content types, decoding (JSON or YAML) and the malformed-body errors.
import YAML from 'yaml';
import { ApiError, badRequest, unsupportedMediaType } from './errors.ts';
import { decodeK8sProtobuf, ProtobufError } from './protobuf/decode.ts';
import { queryBool, queryInt } from './request.ts';

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
    const tooDeep = jsonDepthError(text);
    if (tooDeep) throw badRequest(`couldn't get version/kind; json parse error: ${tooDeep}`);
    try {
      return JSON.parse(text);
    } catch (e) {
      throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
    }
  }
  if (mt === 'application/yaml' || mt.endsWith('+yaml')) {
    // the composer recurses per level: refuse a deep document before it runs, since running it to
    // the stack's end can abort the process (V8 compiling a regexp there: "RegExpCompiler
    // Allocation failed - process out of memory", seen once in CI-like runs of apiserver-badinput)
    if (yamlDepthBound(text) > MAX_DEPTH) throw badRequest(`error converting YAML to JSON: yaml: exceeded max depth of ${MAX_DEPTH}`);
    let v: unknown;
    try {
      // repeated keys keep the last value, as Go's decoder; fieldValidation judges them (duplicates.ts)
      v = YAML.parse(text, { strict: true, uniqueKeys: false });
    } catch (e) {
      // the YAML composer recurses: a document nested past the stack is as deep as upstream refuses
      // (the library rewraps the RangeError with a position)
      if (e instanceof RangeError || /Maximum call stack size exceeded/.test((e as Error).message))
        throw badRequest(`error converting YAML to JSON: yaml: exceeded max depth of ${MAX_DEPTH}`);
      throw badRequest(`error converting YAML to JSON: ${(e as Error).message.split('\n')[0]}`);
    }
    if (deeperThan(v, MAX_DEPTH)) throw badRequest(`error converting YAML to JSON: yaml: exceeded max depth of ${MAX_DEPTH}`);
    return v;
  }
  throw unsupportedMediaType(mt);
}

/**
 * Request bodies may nest objects and arrays this deep. Upstream's decoders stop at 10000 (Go
 * encoding/json's maxNestingDepth; Go stacks grow), but here structuredClone and every recursive
 * walk of an object (patches, managed fields, validation) overflow V8's stack near 1900 levels, so
 * the limit sits well below that: 1000, far beyond any real object, with the same error upstream gives.
 */
export const MAX_DEPTH = 1_000;

/**
 * Go's scanner error for JSON text nested deeper than MAX_DEPTH, found in one pass without recursion
 * (before JSON.parse, and before any recursive code meets the value); undefined if within bounds.
 */
export function jsonDepthError(text: string): string | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_DEPTH) return `invalid character '${text[i]}' exceeded max depth`;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return undefined;
}

/**
 * An upper bound on how deep a YAML document nests, in one pass without recursion: at each point,
 * the line's indentation (a block level takes at least one column), its "- " sequence entries so
 * far (compact nested sequences share a line) and the open flow brackets. Brackets inside quoted
 * scalars do not count; a quote starts a scalar only where one may (after a space, a bracket, a
 * comma or a colon), so an apostrophe inside a plain scalar does not hide what follows.
 */
export function yamlDepthBound(text: string): number {
  let max = 0;
  let flow = 0;
  let indent = 0;
  let dashes = 0;
  let quote = 0; // the quote character of the scalar we are in, or 0
  let lineStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      lineStart = true;
      indent = 0;
      dashes = 0;
      continue;
    }
    if (quote) {
      if (quote === 0x22 && c === 0x5c) i++;
      else if (c === quote) quote = 0;
      continue;
    }
    if (lineStart && c === 0x20) {
      indent++;
      continue;
    }
    lineStart = false;
    const prev = i > 0 ? text.charCodeAt(i - 1) : 0x0a;
    const opens = prev === 0x20 || prev === 0x0a || prev === 0x5b || prev === 0x7b || prev === 0x2c || prev === 0x3a;
    if (c === 0x23 && (prev === 0x20 || prev === 0x0a)) {
      while (i + 1 < text.length && text.charCodeAt(i + 1) !== 0x0a) i++; // a comment, to the line's end
    } else if ((c === 0x22 || c === 0x27) && opens) quote = c;
    else if (c === 0x5b || c === 0x7b) flow++;
    else if ((c === 0x5d || c === 0x7d) && flow > 0) flow--;
    else if (c === 0x2d && opens && (i + 1 >= text.length || text.charCodeAt(i + 1) === 0x20)) dashes++;
    max = Math.max(max, indent + dashes + flow);
  }
  return max;
}

/** Whether a decoded value nests objects or arrays deeper than max, walked with an explicit stack. */
export function deeperThan(root: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[root, 0]];
  for (let n = stack.pop(); n; n = stack.pop()) {
    const [v, d] = n;
    if (typeof v !== 'object' || v === null) continue;
    if (d + 1 > max) return true;
    for (const child of Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, d + 1]);
  }
  return false;
}

export function requireObject(v: unknown): Record<string, any> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(v)?.slice(0, 200)}'`);
  return v as Record<string, any>;
}

const POLICIES = ['Orphan', 'Background', 'Foreground'] as const;

/** DeleteOptions from a request body and query (query parameters win, as upstream). */
export function parseDeleteOptions(
  body: Record<string, any>,
  query: URLSearchParams,
): {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: (typeof POLICIES)[number];
} {
  const grace = queryInt(query, 'gracePeriodSeconds') ?? body.gracePeriodSeconds;
  if (grace !== undefined && grace !== null && !Number.isInteger(grace)) throw badRequest(`invalid gracePeriodSeconds: ${grace}`);
  const policy = query.get('propagationPolicy') ?? body.propagationPolicy ?? undefined;
  const orphan = queryBool(query, 'orphanDependents') ?? body.orphanDependents;
  if (policy !== undefined && policy !== null && !POLICIES.includes(policy))
    throw new ApiError(
      422,
      'Invalid',
      `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`,
    );
  if (policy && orphan !== undefined && orphan !== null)
    throw new ApiError(
      422,
      'Invalid',
      'DeleteOptions.meta.k8s.io "" is invalid: orphanDependents: Invalid value: "": Cannot both set OrphanDependents and PropagationPolicy',
    );
  const propagationPolicy = policy ?? (orphan === true ? 'Orphan' : orphan === false ? 'Background' : undefined);
  return { gracePeriodSeconds: grace ?? undefined, preconditions: body.preconditions ?? undefined, propagationPolicy };
}
