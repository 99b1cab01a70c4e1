// Legacy (unaggregated) discovery documents built from the registry: /api, /api/v1, /apis,
// /apis/<group>, /apis/<group>/<version>. kubectl asks for aggregated discovery first and falls
// back to these when the answer is plain application/json.
import { apiVersionOf, type Registry, type ResourceInfo } from './registry.ts';

/** subresources whose kind is not the parent's: [group, version, kind] */
export const SUBRESOURCE_KIND: Record<string, [string, string, string]> = {
  binding: ['', 'v1', 'Binding'],
  exec: ['', 'v1', 'PodExecOptions'],
  attach: ['', 'v1', 'PodAttachOptions'],
  portforward: ['', 'v1', 'PodPortForwardOptions'],
  scale: ['autoscaling', 'v1', 'Scale'],
  eviction: ['policy', 'v1', 'Eviction'],
  'pods/proxy': ['', 'v1', 'PodProxyOptions'],
  'services/proxy': ['', 'v1', 'ServiceProxyOptions'],
  'nodes/proxy': ['', 'v1', 'NodeProxyOptions'],
  token: ['authentication.k8s.io', 'v1', 'TokenRequest'],
};
/** The kind a subresource answers with, when it is not its parent's. */
export const subresourceKind = (plural: string, sub: string): [string, string, string] | undefined =>
  SUBRESOURCE_KIND[`${plural}/${sub}`] ?? SUBRESOURCE_KIND[sub];
export const SUBRESOURCE_VERBS: Record<string, string[]> = {
  status: ['get', 'patch', 'update'],
  binding: ['create'],
  finalize: ['update'],
  scale: ['get', 'patch', 'update'],
  eviction: ['create'],
  token: ['create'],
  log: ['get'],
  exec: ['create', 'get'],
  attach: ['create', 'get'],
  portforward: ['create', 'get'],
  proxy: ['create', 'delete', 'get', 'patch', 'update'],
  ephemeralcontainers: ['get', 'patch', 'update'],
};

export const SERVER_VERSION = {
  major: '1',
  minor: '35',
  emulationMajor: '1',
  emulationMinor: '35',
  minCompatibilityMajor: '1',
  minCompatibilityMinor: '34',
  gitVersion: 'v1.35.0-hawser',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-12-01T00:00:00Z',
  goVersion: 'node' + process.versions.node,
  compiler: 'node',
  platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

export function apiVersions(serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDoc(name: string, versions: string[]) {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(reg: Registry) {
  const groups = [...reg.groups()].filter(([g]) => g !== '').map(([g, vs]) => groupDoc(g, vs));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroup(reg: Registry, group: string) {
  const vs = reg.groups().get(group);
  return vs && group ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(group, vs) } : undefined;
}

function resourceEntries(r: ResourceInfo) {
  const main: Record<string, unknown> = {
    name: r.plural,
    singularName: r.singular,
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: r.verbs,
  };
  if (r.shortNames) main.shortNames = r.shortNames;
  if (r.categories) main.categories = r.categories;
  const subs = r.subresources.map((s) => ({
    name: `${r.plural}/${s}`,
    singularName: '',
    namespaced: r.namespaced,
    ...(subresourceKind(r.plural, s) ? { group: subresourceKind(r.plural, s)![0], version: subresourceKind(r.plural, s)![1] } : {}),
    kind: subresourceKind(r.plural, s)?.[2] ?? r.kind,
    verbs: SUBRESOURCE_VERBS[s] ?? ['get'],
  }));
  return [main, ...subs];
}

export function apiResourceList(reg: Registry, group: string, version: string) {
  const rs = reg.inGroupVersion(group, version);
  if (!rs.length) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf({ group, version }),
    resources: rs.flatMap(resourceEntries),
  };
}
