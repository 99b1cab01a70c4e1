// Where a webhook call goes, for admission and CRD conversion webhooks alike (upstream's one
// webhook ClientManager): the clientConfig's URL, or a ready endpoint of its Service (the API
// server cannot reach ClusterIPs) with the certificate checked as `<svc>.<ns>.svc`.
import { ApiError } from '../errors.ts';
import { serviceEndpoint } from '../proxy-target.ts';
import type { Obj } from '../strategies/types.ts';
import type { CallTarget } from './client.ts';
import type { ClientConfig } from './types.ts';

/** What a Service-backed call needs to read. */
export interface ServiceLookups {
  service(namespace: string, name: string): Promise<Obj | undefined>;
  slices(namespace: string, service: string): Promise<Obj[]>;
}

/** The Service has no usable endpoint (the message is upstream's, after `failed to call webhook: `). */
export class TargetError extends Error {}

/** The call target; `query` is appended to the URL (admission's ?timeout=10s). */
export async function webhookTarget(cc: ClientConfig, query: string, lookups: ServiceLookups): Promise<CallTarget> {
  if (cc.url) {
    const url = new URL(cc.url);
    url.search = query;
    return { url, caBundle: cc.caBundle };
  }
  const s = cc.service ?? {};
  const ns = s.namespace ?? '';
  const name = s.name ?? '';
  const port = s.port ?? 443;
  const host = `${name}.${ns}.svc`;
  const url = new URL(`https://${host}:${port}${s.path ?? ''}${query ? `?${query}` : ''}`);
  const where = `Post ${JSON.stringify(url.toString())}`;
  const svc = await lookups.service(ns, name);
  if (!svc) throw new TargetError(`${where}: service "${name}" not found`);
  let ep: { ip: string; port: number };
  try {
    ep = serviceEndpoint(svc, await lookups.slices(ns, name), String(port), name);
  } catch (e) {
    if (e instanceof ApiError) throw new TargetError(`${where}: ${e.message}`);
    throw e;
  }
  return { url, connect: { host: ep.ip, port: ep.port }, servername: host, caBundle: cc.caBundle };
}
