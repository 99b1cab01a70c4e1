// Aggregated discovery (apidiscovery.k8s.io v2 and v2beta1 APIGroupDiscoveryList): every group,
// version, resource and subresource in one answer on /api (the core group) or /apis (the rest),
// which kubectl v1.35 asks for first. Other Accepts keep the legacy documents of discovery.ts.
import type { Registry, ResourceInfo } from './registry.ts';
import { subresourceKind, SUBRESOURCE_VERBS } from './discovery.ts';

const VERSIONS = ['v2', 'v2beta1'];

/** The discovery version the Accept header asks for first (v2 or v2beta1), if any (pure). */
export function aggregatedVersion(accept: string | undefined): string | undefined {
  for (const clause of (accept ?? '').split(',')) {
    const [type, ...params] = clause.split(';').map((x) => x.trim());
    if (type !== 'application/json' && type !== '*/*') continue;
    const p = Object.fromEntries(params.map((kv) => kv.split('=').map((x) => x.trim()) as [string, string]));
    if (!p.g && !p.as) return undefined; // plain JSON ranks before any aggregated form
    if (p.g === 'apidiscovery.k8s.io' && p.as === 'APIGroupDiscoveryList' && VERSIONS.includes(p.v)) return p.v;
  }
  return undefined;
}

export function aggregatedContentType(version: string): string {
  return `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
}

function resourceEntry(r: ResourceInfo) {
  return {
    resource: r.plural,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: r.verbs,
    ...(r.shortNames ? { shortNames: r.shortNames } : {}),
    ...(r.categories ? { categories: r.categories } : {}),
    ...(r.subresources.length
      ? {
          subresources: r.subresources.map((s) => {
            const k = subresourceKind(r.plural, s);
            return {
              subresource: s,
              responseKind: k ? { group: k[0], version: k[1], kind: k[2] } : { group: r.group, version: r.version, kind: r.kind },
              verbs: SUBRESOURCE_VERBS[s] ?? ['get'],
            };
          }),
        }
      : {}),
  };
}

/** /api (core: true) or /apis (core: false) as an APIGroupDiscoveryList. */
export function aggregatedDiscovery(reg: Registry, core: boolean, version: string) {
  const items = [...reg.groups()]
    .filter(([g]) => (g === '') === core)
    .map(([group, versions]) => ({
      metadata: { name: group, creationTimestamp: null },
      versions: versions.map((v) => ({ version: v, resources: reg.inGroupVersion(group, v).map(resourceEntry), freshness: 'Current' })),
    }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}
