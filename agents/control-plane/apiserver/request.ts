// Request routing info from a URL path and method, as upstream's RequestInfoFactory derives it (pure).

export interface ResourceRequest {
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function parseResourcePath(method: string, path: string, query: URLSearchParams): ResourceRequest | undefined {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
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
  if (rest.length === 0 || rest.length > 3) return undefined;
  const [resource, name, subresource] = rest;
  const watchParam = query.get('watch');
  const isWatch = legacyWatch || watchParam === 'true' || watchParam === '1';
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
      return undefined;
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
    if (p.as === 'Table' && p.g === 'meta.k8s.io' && (p.v === 'v1' || p.v === 'v1beta1'))
      return { table: true, partial: false, acceptable: true };
    if ((p.as === 'PartialObjectMetadata' || p.as === 'PartialObjectMetadataList') && p.g === 'meta.k8s.io')
      return { table: false, partial: true, acceptable: true };
    if (!p.as) return { table: false, partial: false, acceptable: true };
  }
  return { table: false, partial: false, acceptable: false };
}
