// The ingress controller's decisions, pure: which Ingresses are ours (class), the route table
// their rules make (hosts, wildcard hosts, paths by pathType, default backend, TLS hosts -> Secret),
// which route a request takes (exact host, then a one-label wildcard, then rules without a host;
// within a host the longest matching path, Exact before Prefix; ImplementationSpecific is Prefix),
// which endpoints a backend resolves to through its Service and EndpointSlices, and the status
// every Ingress of ours should carry. Conflicting rules: the older Ingress wins, as ingress-nginx.

import { CLASS_NAME, CONTROLLER_NAME } from '../api/ingress-class.ts';

export { CLASS_NAME, CONTROLLER_NAME };

export interface Meta {
  namespace?: string;
  name?: string;
  creationTimestamp?: string;
  annotations?: Record<string, string>;
}
export interface BackendRef {
  service?: { name?: string; port?: { name?: string; number?: number } };
}
export interface IngressObj {
  metadata: Meta;
  spec?: {
    ingressClassName?: string;
    defaultBackend?: BackendRef;
    rules?: { host?: string; http?: { paths?: { path?: string; pathType?: string; backend?: BackendRef }[] } }[];
    tls?: { hosts?: string[]; secretName?: string }[];
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}
export interface IngressClassObj {
  metadata: Meta;
  spec?: { controller?: string };
}
export interface ServiceObj {
  metadata: Meta;
  spec?: { ports?: { name?: string; port?: number; targetPort?: number | string }[] };
}
export interface EndpointSliceObj {
  metadata: Meta & { labels?: Record<string, string> };
  addressType?: string;
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean; terminating?: boolean } }[];
  ports?: { name?: string; port?: number; protocol?: string }[];
}

/** A backend as a route names it: the Service in the Ingress's namespace and its port. */
export interface Backend {
  namespace: string;
  service: string;
  port: number | string;
}
export interface Route {
  path: string;
  exact: boolean;
  backend: Backend;
  ingress: string;
}
export interface RouteTable {
  /** host ('' for rules without one; '*.example.com' for wildcards) -> routes, longest path first */
  hosts: Map<string, Route[]>;
  defaultBackend?: Backend;
  /** TLS host (or wildcard) -> "<namespace>/<secret>" */
  tls: Map<string, string>;
  /** what was refused and why (conflicts), for events and logs */
  problems: string[];
}

const LEGACY_CLASS = 'kubernetes.io/ingress.class';

/** Ours: the class names our controller, or the legacy annotation says "hawser". */
export function isOurs(ing: IngressObj, classes: IngressClassObj[]): boolean {
  const name = ing.spec?.ingressClassName;
  if (name === undefined) return ing.metadata.annotations?.[LEGACY_CLASS] === CLASS_NAME;
  return classes.some((c) => c.metadata.name === name && c.spec?.controller === CONTROLLER_NAME);
}

const key = (m: Meta) => `${m.namespace ?? ''}/${m.name ?? ''}`;
const byAge = (a: IngressObj, b: IngressObj) =>
  (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || key(a.metadata).localeCompare(key(b.metadata));

/** "/foo/" is "/foo"; "" is "/" */
const normalize = (p: string | undefined) => (p && p !== '/' ? p.replace(/\/+$/, '') || '/' : '/');

function backendOf(ns: string, b: BackendRef | undefined): Backend | undefined {
  const s = b?.service;
  if (!s?.name) return undefined;
  const port = s.port?.number || s.port?.name;
  return port ? { namespace: ns, service: s.name, port } : undefined;
}

/** The route table of the given Ingresses (all of them ours). */
export function buildRoutes(ingresses: IngressObj[]): RouteTable {
  const t: RouteTable = { hosts: new Map(), tls: new Map(), problems: [] };
  for (const ing of [...ingresses].sort(byAge)) {
    const ns = ing.metadata.namespace ?? 'default';
    const who = key(ing.metadata);
    const def = backendOf(ns, ing.spec?.defaultBackend);
    if (def) {
      if (t.defaultBackend) t.problems.push(`${who}: the default backend of an older Ingress is kept`);
      else t.defaultBackend = def;
    }
    for (const rule of ing.spec?.rules ?? []) {
      const host = (rule.host ?? '').toLowerCase();
      const routes = t.hosts.get(host) ?? [];
      for (const p of rule.http?.paths ?? []) {
        const backend = backendOf(ns, p.backend);
        if (!backend) continue;
        const route = { path: normalize(p.path), exact: p.pathType === 'Exact', backend, ingress: who };
        if (routes.some((r) => r.path === route.path && r.exact === route.exact)) {
          t.problems.push(`${who}: ${host || '*'}${route.path} is already routed by an older Ingress`);
          continue;
        }
        routes.push(route);
      }
      t.hosts.set(host, routes);
    }
    for (const tls of ing.spec?.tls ?? []) {
      if (!tls.secretName) continue;
      for (const h of tls.hosts ?? []) if (!t.tls.has(h.toLowerCase())) t.tls.set(h.toLowerCase(), `${ns}/${tls.secretName}`);
    }
  }
  for (const routes of t.hosts.values()) routes.sort((a, b) => b.path.length - a.path.length || Number(b.exact) - Number(a.exact));
  return t;
}

/** Prefix matching by path elements: "/foo" matches "/foo", "/foo/" and "/foo/bar", not "/foobar". */
export function pathMatches(route: Pick<Route, 'path' | 'exact'>, path: string): boolean {
  if (route.exact) return path === route.path;
  if (route.path === '/') return true;
  return path === route.path || path.startsWith(`${route.path}/`);
}

/** The entries of `m` that apply to `host`: its own, then a wildcard one label up. */
function hostKeys(host: string): string[] {
  const dot = host.indexOf('.');
  return dot > 0 ? [host, `*${host.slice(dot)}`] : [host];
}

/** The host a request names (Host header or SNI), without a port, lower case. */
export const requestHost = (h: string | undefined): string =>
  (h ?? '')
    .replace(/:\d+$/, '')
    .replace(/^\[|\]$/g, '')
    .toLowerCase();

/** The backend a request goes to, or undefined (404). `path` is the URL path without the query. */
export function match(t: RouteTable, host: string, path: string): Backend | undefined {
  for (const h of [...hostKeys(requestHost(host)), '']) {
    const r = t.hosts.get(h)?.find((x) => pathMatches(x, path));
    if (r) return r.backend;
  }
  return t.defaultBackend;
}

/** The Secret ("ns/name") serving a TLS host (SNI): its own, then a wildcard entry. */
export function certFor(t: RouteTable, servername: string): string | undefined {
  for (const h of hostKeys(requestHost(servername))) {
    const s = t.tls.get(h);
    if (s) return s;
  }
  return undefined;
}

/** Ready endpoint addresses and the port a backend resolves to (Service port -> EndpointSlice port by name). */
export function endpointsFor(b: Backend, services: ServiceObj[], slices: EndpointSliceObj[]): { ip: string; port: number }[] {
  const svc = services.find((s) => s.metadata.namespace === b.namespace && s.metadata.name === b.service);
  const sp = svc?.spec?.ports?.find((p) => (typeof b.port === 'number' ? p.port === b.port : p.name === b.port));
  if (!sp) return [];
  const portName = sp.name ?? '';
  const out: { ip: string; port: number }[] = [];
  for (const s of slices) {
    if (s.metadata.namespace !== b.namespace || s.metadata.labels?.['kubernetes.io/service-name'] !== b.service) continue;
    if (s.addressType && s.addressType !== 'IPv4') continue;
    const port = (s.ports ?? []).find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === 'TCP')?.port;
    if (!port) continue;
    for (const e of s.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      for (const ip of e.addresses ?? []) out.push({ ip, port });
    }
  }
  return out;
}

/** status.loadBalancer every Ingress of ours should show: the nodes' addresses, sorted. */
export function desiredStatus(nodeIPs: string[]): { ingress?: { ip: string }[] } {
  const ips = [...new Set(nodeIPs)].sort();
  return ips.length ? { ingress: ips.map((ip) => ({ ip })) } : {};
}

export const statusDiffers = (ing: IngressObj, want: { ingress?: { ip: string }[] }): boolean =>
  JSON.stringify(ing.status?.loadBalancer ?? {}) !== JSON.stringify(want);

export interface Problem {
  ingress: Meta & { uid?: string };
  reason: 'ServiceNotFound' | 'SecretNotFound';
  message: string;
}

/** What an Ingress of ours names that does not exist: its other rules keep working (pure). */
export function missingReferences(ours: (IngressObj & { metadata: { uid?: string } })[], services: Set<string>, secrets: Set<string>): Problem[] {
  const out: Problem[] = [];
  for (const ing of ours) {
    const ns = ing.metadata.namespace ?? 'default';
    const names = new Set<string>();
    const backends = [ing.spec?.defaultBackend, ...(ing.spec?.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend))];
    for (const b of backends) if (b?.service?.name) names.add(b.service.name);
    for (const n of [...names].sort()) {
      if (!services.has(`${ns}/${n}`))
        out.push({ ingress: ing.metadata, reason: 'ServiceNotFound', message: `service "${ns}/${n}" not found: requests routed to it are answered 503` });
    }
    for (const t of ing.spec?.tls ?? []) {
      if (t.secretName && !secrets.has(`${ns}/${t.secretName}`))
        out.push({
          ingress: ing.metadata,
          reason: 'SecretNotFound',
          message: `TLS secret "${ns}/${t.secretName}" not found: its hosts are served the default certificate`,
        });
    }
  }
  return out;
}
