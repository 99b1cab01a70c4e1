// Where a pods/proxy, services/proxy or nodes/proxy request goes (pure), as upstream's
// ResourceLocation functions decide it: the URL name is `[scheme:]name[:port]`, a pod is reached at
// its IP (port: the one asked for, else its first declared container port), a Service through a
// ready endpoint of the named port in its EndpointSlices, a node at its kubelet (the API server's
// kubelet-client certificate) or, for another port, plainly. Loopback and link-local addresses are
// refused as upstream's IsProxyableIP does, so a proxy cannot reach the API server's own host.
import { isIP } from 'node:net';
import { BackendError, badRequest } from './errors.ts';
import { preferredNodeAddress } from './kubelet-target.ts';
import type { Obj } from './strategies/types.ts';

export const PROXY_KINDS = ['pods', 'services', 'nodes'] as const;
export type ProxyKind = (typeof PROXY_KINDS)[number];

export interface ProxyTarget {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  /** path (from the URL after /proxy) and query on the backend */
  path: string;
  /** dial with the kubelet-client certificate and verify the kubelet's (nodes/proxy to its port) */
  kubelet: boolean;
  /** the API server path that reaches the backend's "/": HTML links are rewritten under it */
  prefix?: string;
}

export interface ProxyName {
  scheme: '' | 'http' | 'https';
  name: string;
  port: string;
}

/** utilnet.SplitSchemeNamePort: "name", "name:port" or "scheme:name:port". */
export function splitSchemeNamePort(id: string): ProxyName | undefined {
  const parts = id.split(':');
  let scheme = '';
  let name: string;
  let port = '';
  if (parts.length === 1) name = parts[0];
  else if (parts.length === 2) [name, port] = parts;
  else if (parts.length === 3) [scheme, name, port] = parts;
  else return undefined;
  if (!name || (scheme !== '' && scheme !== 'http' && scheme !== 'https')) return undefined;
  return { scheme: scheme as ProxyName['scheme'], name, port };
}

/** The URL name of a proxy request, or upstream's 400 `invalid <kind> request "<id>"`. */
export function proxyName(kind: ProxyKind, id: string): ProxyName {
  const n = splitSchemeNamePort(id);
  if (!n) throw badRequest(`invalid ${kind.slice(0, -1)} request ${JSON.stringify(id)}`);
  return n;
}

/** proxyutil.IsProxyableIP: no address, loopback, link-local and local-multicast ones are refused. */
export function checkProxyable(host: string): void {
  const v = isIP(host);
  const bad =
    v === 0 ||
    (v === 4 && /^(127\.|169\.254\.|224\.0\.0\.)/.test(host)) ||
    (v === 6 && (host === '::1' || /^fe[89ab][0-9a-f]:/i.test(host) || /^ff0[12]:/i.test(host)));
  if (bad) throw badRequest('address not allowed');
}

const portNumber = (p: string): number | undefined => (/^\d+$/.test(p) ? Number(p) : undefined);

/** The path after ".../proxy" in the request path ("" for none, "/x/" kept as it came). */
export function proxySubpath(rawPath: string, id: string): string {
  const marker = `/${id}/proxy`;
  const i = rawPath.indexOf(marker);
  return i < 0 ? '' : rawPath.slice(i + marker.length);
}

function join(path: string, query: URLSearchParams): string {
  const q = query.toString();
  return `${path || '/'}${q ? `?${q}` : ''}`;
}

function podIP(pod: Obj): string {
  return pod.status?.podIP ?? pod.status?.podIPs?.[0]?.ip ?? '';
}

export function podProxyTarget(pod: Obj, n: ProxyName, subpath: string, query: URLSearchParams, prefix: string): ProxyTarget {
  let port = n.port;
  if (!port) {
    const withPorts = (pod.spec?.containers ?? []).find((c: { ports?: unknown[] }) => c.ports?.length);
    if (withPorts) port = String(withPorts.ports[0].containerPort);
  }
  const ip = podIP(pod);
  checkProxyable(ip);
  const num = port ? portNumber(port) : 80;
  if (num === undefined) throw badRequest(`invalid port ${JSON.stringify(port)}`);
  return { scheme: n.scheme || 'http', host: ip, port: num, path: join(subpath, query), kubelet: false, prefix };
}

const noEndpoints = (svc: string) => new BackendError(503, 'ServiceUnavailable', `no endpoints available for service ${JSON.stringify(svc)}`);

/**
 * A ready endpoint of a Service: a numeric port names the Service port that carries it; then a
 * ready endpoint whose slice serves that port name, picked at random as upstream does.
 */
export function serviceEndpoint(svc: Obj, slices: Obj[], port: string, service: string, rand = Math.random): { ip: string; port: number } {
  let portName = port;
  const num = portNumber(port);
  if (num !== undefined) {
    const sp = (svc.spec?.ports ?? []).find((p: { port?: number }) => p.port === num);
    if (!sp) throw new BackendError(503, 'ServiceUnavailable', `no service port ${num} found for service ${JSON.stringify(service)}`);
    portName = sp.name ?? '';
  }
  const candidates: { ip: string; port: number }[] = [];
  for (const s of slices) {
    const p = (s.ports ?? []).find((x: { name?: string }) => (x.name ?? '') === portName);
    if (!p?.port) continue;
    for (const e of (s.endpoints ?? []) as { addresses?: string[]; conditions?: { ready?: boolean } }[]) {
      if (e.conditions?.ready === false) continue;
      for (const ip of (e.addresses ?? []).slice(0, 1)) candidates.push({ ip, port: p.port });
    }
  }
  if (!candidates.length) throw noEndpoints(service);
  return candidates[Math.floor(rand() * candidates.length)];
}

/** A Service's backend for services/proxy: one of its ready endpoints, if proxyable. */
export function serviceProxyTarget(svc: Obj, slices: Obj[], n: ProxyName, subpath: string, query: URLSearchParams, rand = Math.random): ProxyTarget {
  const c = serviceEndpoint(svc, slices, n.port, n.name, rand);
  checkProxyable(c.ip);
  return { scheme: n.scheme || 'http', host: c.ip, port: c.port, path: join(subpath, query), kubelet: false };
}

export function nodeProxyTarget(node: Obj, n: ProxyName, subpath: string, query: URLSearchParams): ProxyTarget {
  const host = preferredNodeAddress(node);
  checkProxyable(host);
  const kubeletPort = Number(node.status?.daemonEndpoints?.kubeletEndpoint?.Port) || 10250;
  const path = join(subpath, query);
  if (!n.port || Number(n.port) === kubeletPort) return { scheme: 'https', host, port: kubeletPort, path, kubelet: true };
  const num = portNumber(n.port);
  if (num === undefined) throw badRequest(`invalid port ${JSON.stringify(n.port)}`);
  return { scheme: n.scheme || 'http', host, port: num, path, kubelet: false };
}
