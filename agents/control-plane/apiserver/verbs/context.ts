// What every verb handler gets (verbs/*.ts, as upstream's registry/rest handlers): the request
// already routed to a registry entry and its store, and the API server's services it may call.
// handler.ts builds one VerbEnv and a VerbRequest per request and dispatches on the verb.
import type { Attributes } from '../../auth/attributes.ts';
import type { View } from '../../auth/authorizer.ts';
import type { Store } from '../../storage/types.ts';
import type { WebhookAdmission } from '../admission/dispatcher.ts';
import { PATCH_CONTENT_TYPES, decodeBody, parseDeleteOptions, requireObject } from '../body.ts';
import type { DeleteOptions, ListQuery, ResourceStore, WriteOptions } from '../crud.ts';
import { ApiError, badRequest } from '../errors.ts';
import type { ApiRequest, ApiResponse, HandlerOptions } from '../handler.ts';
import type { OutputCtx } from '../output.ts';
import type { Registry, ResourceInfo } from '../registry.ts';
import { type ListParams, parseListParams, type ResourceRequest } from '../request.ts';
import { parseFieldSelector, parseLabelSelector } from '../selectors.ts';
import type { WatchOptions } from '../watch.ts';
import type { WatchCache } from '../watch-cache.ts';

/** The API server's services a verb handler may use. */
export interface VerbEnv {
  store: Store;
  registry: Registry;
  watch?: WatchOptions;
  /** the watch cache of a storage prefix (started by its first watch) */
  cacheFor(prefix: string): WatchCache;
  storeFor(plural: string, group?: string): ResourceStore;
  /** checks of written bodies after authorization (HandlerOptions.admit) */
  admit: HandlerOptions['admit'];
  /** the request's validating admission of what a write would store, as crud.ts calls it */
  writeAdmission(attrs: Attributes): WriteOptions['admit'];
  /** the request's admission webhooks (their Warning headers go to `warnings`) */
  webhooksFor(req: ApiRequest, rr: ResourceRequest, res: ResourceInfo, dryRun: boolean, warnings: string[]): WebhookAdmission | undefined;
  now(): Date;
}

/** One request on a resource, routed and authorized. */
export interface VerbRequest {
  req: ApiRequest;
  rr: ResourceRequest;
  attrs: Attributes;
  view: View | undefined;
  res: ResourceInfo;
  rs: ResourceStore;
  out: OutputCtx;
  ns: string | undefined;
  dryRun: boolean;
}

export type VerbHandler = (env: VerbEnv, v: VerbRequest) => Promise<ApiResponse>;

export const ok = (body: unknown, status = 200, warnings?: string[]): ApiResponse => ({ kind: 'object', status, body, warnings });

export const unsupportedPatch = (types = Object.keys(PATCH_CONTENT_TYPES)) =>
  new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${types.join(', ')}`);

/** The field manager of a write: ?fieldManager=, else the client's user agent name, else the user. */
export function fieldManager(req: ApiRequest): string {
  const fm = req.query.get('fieldManager');
  if (fm !== null && fm !== '') {
    if (fm.length > 128) throw badRequest('fieldManager: Too long: must have at most 128 bytes');
    return fm;
  }
  const ua = req.headers['user-agent'];
  if (ua) return ua.split('/')[0].slice(0, 128);
  return req.user.name.replace(/^system:/, '');
}

export function listQuery(q: URLSearchParams, p: ListParams = parseListParams(q, false)): ListQuery {
  return {
    labels: parseLabelSelector(q.get('labelSelector') ?? undefined),
    fields: parseFieldSelector(q.get('fieldSelector') ?? undefined),
    limit: p.limit,
    continue: p.continue,
    resourceVersion: p.resourceVersion,
    resourceVersionMatch: p.resourceVersionMatch,
  };
}

export function deleteOptions(req: ApiRequest): DeleteOptions {
  let body: Record<string, any> = {};
  if (req.body?.length) body = requireObject(decodeBody(req.body, req.headers['content-type'], 'meta.DeleteOptions'));
  return parseDeleteOptions(body, req.query);
}
