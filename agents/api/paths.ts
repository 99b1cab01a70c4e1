// URL paths of the Kubernetes REST API: /api/v1/... for the core group, /apis/<group>/<version>/...
// for the others, namespaced or not, with an optional subresource.
export interface ResourceRef {
  group?: string; // '' or undefined for core
  version: string;
  plural: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export function resourcePath(r: ResourceRef): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const ns = r.namespace ? `/namespaces/${encodeURIComponent(r.namespace)}` : '';
  const name = r.name ? `/${encodeURIComponent(r.name)}` : '';
  const sub = r.name && r.subresource ? `/${r.subresource}` : '';
  return `${base}${ns}/${r.plural}${name}${sub}`;
}

export const core = (plural: string, namespace?: string, name?: string, subresource?: string): string =>
  resourcePath({ version: 'v1', plural, namespace, name, subresource });

export const leasePath = (namespace: string, name?: string): string =>
  resourcePath({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace, name });
