// Resolves a pods/proxy, services/proxy or nodes/proxy request into a backend (proxy-target.ts)
// from the stored objects, or into upstream's 301 to "<path>/" for a GET or HEAD without a path
// after /proxy (https://issue.k8s.io/4958: relative links then resolve under the proxy).
import { notFound } from './errors.ts';
import { nodeProxyTarget, podProxyTarget, type ProxyKind, proxyName, type ProxyTarget, serviceProxyTarget } from './proxy-target.ts';
import type { ResourceRequest } from './request.ts';
import type { Obj } from './strategies/types.ts';

export type ProxyResolution = { kind: 'backend'; target: ProxyTarget } | { kind: 'redirect'; location: string };

export interface ProxyLookups {
  get(plural: 'pods' | 'services' | 'nodes', ns: string | undefined, name: string): Promise<Obj>;
  /** the EndpointSlices of a Service (label kubernetes.io/service-name) */
  slicesOf(ns: string, service: string): Promise<Obj[]>;
}

/** The raw path split at the proxy subresource: the API path through "/proxy", and what follows. */
export function splitAtProxy(rawPath: string, namespaced: boolean): { prefix: string; subpath: string } {
  const segs = rawPath.split('/');
  // ['', 'api', 'v1', ('namespaces', ns,) plural, name, 'proxy', ...]
  const at = namespaced ? 7 : 5;
  return { prefix: segs.slice(0, at + 1).join('/'), subpath: segs.length > at + 1 ? `/${segs.slice(at + 1).join('/')}` : '' };
}

export async function resolveProxy(method: string, rawPath: string, query: URLSearchParams, rr: ResourceRequest, look: ProxyLookups): Promise<ProxyResolution> {
  const kind = rr.resource as ProxyKind;
  const ns = rr.namespace;
  const { prefix, subpath } = splitAtProxy(rawPath, !!ns);
  if (!subpath && (method === 'GET' || method === 'HEAD')) {
    const q = query.toString();
    return { kind: 'redirect', location: `${rawPath}/${q ? `?${q}` : ''}` };
  }
  const n = proxyName(kind, rr.name!);
  switch (kind) {
    case 'pods':
      return { kind: 'backend', target: podProxyTarget(await look.get('pods', ns, n.name), n, subpath, query, prefix) };
    case 'services': {
      const svc = await look.get('services', ns, n.name);
      return { kind: 'backend', target: { ...serviceProxyTarget(svc, await look.slicesOf(ns!, n.name), n, subpath, query), prefix } };
    }
    case 'nodes':
      return { kind: 'backend', target: { ...nodeProxyTarget(await look.get('nodes', undefined, n.name), n, subpath, query), prefix } };
    default:
      throw notFound({ group: '', plural: rr.resource }, rr.name ?? '');
  }
}
