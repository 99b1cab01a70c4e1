// An API client for the in-process controllers (scheduler, IPAM, namespaces). Requests are
// encoded to bytes and go through ApiHandler.handle exactly like HTTPS requests do, under the
// controller's own user name; only the socket and TLS are skipped.
import { ApiError } from '../../api/errors.ts';
import type { ApiHandler, UserInfo } from '../apiserver/handler.ts';
import type { Obj } from '../apiserver/strategies/types.ts';

export type PatchKind = 'merge' | 'strategic' | 'json';
const PATCH_TYPES: Record<PatchKind, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};

export interface WatchEventOut {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Obj;
}

export interface ListResponse {
  metadata: { resourceVersion: string; continue?: string };
  items: Obj[];
}

export class LoopbackClient {
  constructor(
    private readonly handler: ApiHandler,
    readonly user: UserInfo,
  ) {}

  async request<T = Obj>(method: string, path: string, o: { body?: unknown; contentType?: string; query?: Record<string, string> } = {}): Promise<T> {
    const r = await this.handler.handle({
      method,
      path,
      query: new URLSearchParams(o.query ?? {}),
      headers: { 'content-type': o.contentType ?? 'application/json', accept: 'application/json' },
      body: o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body)),
      user: this.user,
    });
    if (r.kind !== 'object') throw new Error(`unexpected ${r.kind} response for ${method} ${path}`);
    if (r.status >= 400) throw ApiError.fromStatus(r.status, r.body);
    return r.body as T;
  }

  get(path: string): Promise<Obj> {
    return this.request('GET', path);
  }
  list(path: string, query: Record<string, string> = {}): Promise<ListResponse> {
    return this.request<ListResponse>('GET', path, { query });
  }
  create(path: string, obj: unknown): Promise<Obj> {
    return this.request('POST', path, { body: obj });
  }
  update(path: string, obj: unknown): Promise<Obj> {
    return this.request('PUT', path, { body: obj });
  }
  patch(path: string, patch: unknown, kind: PatchKind = 'merge'): Promise<Obj> {
    return this.request('PATCH', path, { body: patch, contentType: PATCH_TYPES[kind] });
  }
  delete(path: string, opts: { gracePeriodSeconds?: number } = {}): Promise<Obj> {
    return this.request('DELETE', path, { body: opts.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: opts.gracePeriodSeconds } : undefined });
  }

  /** A watch stream; ends when the server ends it or the signal fires. */
  async *watch(path: string, query: Record<string, string>, signal?: AbortSignal): AsyncGenerator<WatchEventOut> {
    const r = await this.handler.handle({
      method: 'GET',
      path,
      query: new URLSearchParams({ ...query, watch: 'true' }),
      headers: { accept: 'application/json' },
      user: this.user,
      signal,
    });
    if (r.kind === 'object') throw ApiError.fromStatus(r.status, r.body);
    if (r.kind !== 'watch') throw new Error(`unexpected ${r.kind} response for watch ${path}`);
    for await (const f of r.frames) {
      if (signal?.aborted) return;
      // frames cross a serialization boundary in real clients; copy so nobody shares state
      yield structuredClone(f) as WatchEventOut;
    }
  }
}
