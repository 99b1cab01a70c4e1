// Request routing info from a URL path and method, as upstream's RequestInfoFactory derives it, and
// every query parameter parsed the way upstream's parameter codec and storage parse it (pure): one
// place, so that a junk value is a 400 here instead of a NaN or a 500 deeper down.
import { badRequest, invalid } from './errors.ts';
import { forbidden, notSupported, type FieldError } from './validation/field.ts';
import type { IncludeObject } from './tables/table.ts';

export interface ResourceRequest {
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
  /** '' for a method without a verb (OPTIONS through a proxy subresource), as upstream's RequestInfo */
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | '';
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function parseResourcePath(method: string, path: string, query: URLSearchParams): ResourceRequest | undefined {
  const parts = path.split('/').filter(Boolean).map(unescapePath);
  let rest: string[];
  let group = '';
  let version: string;
  if (parts[0] === 'api' && parts.length >= 3) {
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else return undefined;
  let legacyWatch = false;
  if (rest[0] === 'watch') {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 2) {
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2])) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
  }
  // a proxy subresource carries the backend's path after it (pods/x/proxy/some/path)
  if (rest.length === 0 || (rest.length > 3 && rest[2] !== 'proxy')) return undefined;
  const [resource, name, subresource] = rest;
  const isWatch = legacyWatch || queryBool(query, 'watch') === true;
  let verb: ResourceRequest['verb'];
  switch (method) {
    case 'GET':
    case 'HEAD':
      verb = isWatch ? 'watch' : name ? 'get' : 'list';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = name ? 'delete' : 'deletecollection';
      break;
    default:
      if (subresource !== 'proxy') return undefined;
      verb = '';
  }
  return { group, version, namespace, resource, name, subresource, verb };
}

export interface Accept {
  /** as=Table */
  table: boolean;
  /** as=PartialObjectMetadata / PartialObjectMetadataList */
  partial: boolean;
  /** something we can serve at all (JSON-compatible) */
  acceptable: boolean;
}

/** Content negotiation: the first media range we can satisfy wins, in the client's order. */
export function parseAccept(header: string | undefined): Accept {
  if (!header) return { table: false, partial: false, acceptable: true };
  for (const range of header.split(',')) {
    const [type, ...params] = range.split(';').map((s) => s.trim());
    const p = Object.fromEntries(params.map((x) => x.split('=').map((s) => s.trim())));
    if (type !== 'application/json' && type !== '*/*' && type !== 'application/*') continue;
    if (p.as === 'Table' && p.g === 'meta.k8s.io' && (p.v === 'v1' || p.v === 'v1beta1')) return { table: true, partial: false, acceptable: true };
    if ((p.as === 'PartialObjectMetadata' || p.as === 'PartialObjectMetadataList') && p.g === 'meta.k8s.io')
      return { table: false, partial: true, acceptable: true };
    if (!p.as) return { table: false, partial: false, acceptable: true };
  }
  return { table: false, partial: false, acceptable: false };
}

/**
 * The path and query of a request's target, read as a path the way Go's server reads it: resolving
 * it against a base would take "//host/x" for an authority, and "//%zz" threw an uncaught
 * "Invalid URL" that stopped the whole server. Appended to a fixed origin, any target parses.
 */
export function requestURL(target: string | undefined): URL {
  const t = target ?? '/';
  return new URL(`https://localhost${t.startsWith('/') ? t : `/${t}`}`);
}

/**
 * A path segment unescaped as Go's url.PathUnescape does: "%" must be followed by two hex digits
 * (else 400 `invalid URL escape "%zz"`, which Go's server answers before routing), and the bytes
 * need not be UTF-8 (decodeURIComponent would throw on "%ff").
 */
export function unescapePath(seg: string): string {
  if (!seg.includes('%')) return seg;
  const bytes: number[] = [];
  for (let i = 0; i < seg.length; i++) {
    const c = seg.charCodeAt(i);
    if (c === 0x25) {
      const hex = seg.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw badRequest(`invalid URL escape ${JSON.stringify(seg.slice(i, i + 3))}`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(seg[i], 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Go's strconv.ParseInt(s, 10, 64) (sign allowed, digits only), with its error text. */
export function parseGoInt(s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n > INT64_MAX || n < -INT64_MAX - 1n) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
  return Number(n);
}

/** Go's strconv.ParseUint(s, 10, 64): digits only, no sign, no "0x"; the error as upstream's storage words it. */
export function parseResourceVersion(s: string): number {
  if (s === '' || s === '0') return 0;
  let why: string | undefined;
  if (!/^[0-9]+$/.test(s)) why = 'invalid syntax';
  else if (BigInt(s) > UINT64_MAX) why = 'value out of range';
  if (why)
    throw badRequest(`invalid resource version: resourceVersion: Invalid value: ${JSON.stringify(s)}: strconv.ParseUint: parsing ${JSON.stringify(s)}: ${why}`);
  return Number(s);
}

/** An integer query parameter (limit, timeoutSeconds, gracePeriodSeconds): absent is undefined. */
export function queryInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  return v === null ? undefined : parseGoInt(v);
}

/**
 * A boolean query parameter as upstream's parameter codec converts it (Convert_Slice_string_To_bool):
 * absent is undefined, "0" and "false" (any case) are false, anything else, even "", is true.
 */
export function queryBool(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  return !(v === '0' || v.toLowerCase() === 'false');
}

export interface ListParams {
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  timeoutSeconds?: number;
  allowWatchBookmarks: boolean;
  sendInitialEvents: boolean;
}

const MATCHES = ['Exact', 'NotOlderThan'] as const;
type Match = (typeof MATCHES)[number];

/**
 * The list and watch parameters, decoded (400 on a value the codec cannot convert) and checked as
 * upstream's ValidateListOptions does (422 ListOptions.meta.k8s.io), with resourceVersion parsed as
 * its storage parses it.
 */
export function parseListParams(q: URLSearchParams, watch: boolean): ListParams {
  const limit = queryInt(q, 'limit');
  const timeoutSeconds = queryInt(q, 'timeoutSeconds');
  const allowWatchBookmarks = queryBool(q, 'allowWatchBookmarks') ?? false;
  const sendInitialEvents = queryBool(q, 'sendInitialEvents');
  const cont = q.get('continue') || undefined;
  const rv = q.get('resourceVersion') || undefined;
  const match = q.get('resourceVersionMatch') || undefined;
  const errs: FieldError[] = [];
  if (match && !watch) {
    if (!rv) errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided'));
    if (cont) errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    if (match === 'Exact' && rv === '0') errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
    else if (!MATCHES.includes(match as Match)) errs.push(notSupported('resourceVersionMatch', match, [...MATCHES, '']));
  }
  if (match && watch && match !== 'NotOlderThan') errs.push(notSupported('resourceVersionMatch', match, ['NotOlderThan']));
  if (errs.length) throw invalid('ListOptions', 'meta.k8s.io', '', errs);
  if (cont && rv && rv !== '0') throw badRequest('specifying resource version is not allowed when using continue');
  if (rv) parseResourceVersion(rv);
  return {
    limit,
    continue: cont,
    resourceVersion: rv,
    resourceVersionMatch: match as Match | undefined,
    timeoutSeconds,
    allowWatchBookmarks,
    sendInitialEvents: sendInitialEvents ?? false,
  };
}

const INCLUDE: readonly string[] = ['None', 'Metadata', 'Object'];

/**
 * includeObject of a Table request: absent or "" is Metadata; another value than None, Metadata or
 * Object is a 400 where upstream builds a Table (and unused elsewhere).
 */
export function parseIncludeObject(q: URLSearchParams, table: boolean): IncludeObject {
  const v = q.get('includeObject') || 'Metadata';
  if (INCLUDE.includes(v)) return v as IncludeObject;
  if (table) throw badRequest(`unrecognized includeObject value: ${JSON.stringify(v)}`);
  return 'Metadata';
}
