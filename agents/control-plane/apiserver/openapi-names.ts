// The OpenAPI component names of the built-in models, as upstream names them after their Go
// packages (io.k8s.api.apps.v1.Deployment, io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta, ...).
// The kept client-node models drop the package, so it is derived: apimachinery's meta types are a
// fixed set; every other type reached from a core/v1 kind is core/v1 (core imports no other API
// package); the rest belong to the group and version of the first kind that reaches them.
import { goTypeName, modelFields, type TypeRef } from './schema.ts';
import { RESOURCES } from './registry.ts';

const META_TYPES = new Set([
  'V1ObjectMeta',
  'V1ListMeta',
  'V1LabelSelector',
  'V1LabelSelectorRequirement',
  'V1ManagedFieldsEntry',
  'V1OwnerReference',
  'V1Status',
  'V1StatusDetails',
  'V1StatusCause',
  'V1Condition',
  'V1DeleteOptions',
  'V1Preconditions',
  'V1APIGroup',
  'V1APIGroupList',
  'V1APIResource',
  'V1APIResourceList',
  'V1APIVersions',
  'V1GroupVersionForDiscovery',
  'V1ServerAddressByClientCIDR',
  'V1WatchEvent',
  'V1FieldSelectorRequirement',
]);

/** the Go package prefix of an API group's types */
const GROUP_PACKAGE: Readonly<Record<string, string>> = {
  '': 'io.k8s.api.core',
  'apiextensions.k8s.io': 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions',
  'apiregistration.k8s.io': 'io.k8s.kube-aggregator.pkg.apis.apiregistration',
  'metrics.k8s.io': 'io.k8s.metrics.pkg.apis.metrics',
};
const packageOf = (group: string) => GROUP_PACKAGE[group] ?? `io.k8s.api.${group.split('.')[0]}`;

function refsOf(t: TypeRef): string[] {
  if (t.t === 'object') return [t.name];
  if (t.t === 'array') return refsOf(t.items);
  if (t.t === 'map') return refsOf(t.values);
  return [];
}

/** model -> component name for every model the built-in kinds reach (pure over the kept models) */
function builtInNames(): Map<string, string> {
  const names = new Map<string, string>();
  for (const m of META_TYPES) names.set(m, `io.k8s.apimachinery.pkg.apis.meta.v1.${goTypeName(m)}`);
  const claim = (root: string, prefix: string) => {
    const todo = [root];
    for (let guard = 0; todo.length && guard < 10_000; guard++) {
      const model = todo.pop()!;
      if (names.has(model)) continue;
      names.set(model, `${prefix}.${goTypeName(model)}`);
      for (const f of modelFields(model)?.values() ?? []) todo.push(...refsOf(f.type));
    }
  };
  const kinds = RESOURCES.filter((r) => !r.custom);
  // core first, so that a core type reached from another group's kind keeps its package
  for (const r of kinds.filter((x) => x.group === '')) claim(r.model, `${packageOf('')}.${r.version}`);
  for (const r of kinds.filter((x) => x.group !== '')) claim(r.model, `${packageOf(r.group)}.${r.version}`);
  // subresource bodies no kind reaches
  claim('V1Eviction', `${packageOf('policy')}.v1`);
  claim('V1Scale', `${packageOf('autoscaling')}.v1`);
  return names;
}

let cached: Map<string, string> | undefined;

/** The built-in model's upstream component name, or undefined for a model no built-in kind reaches. */
export function builtInComponentName(model: string): string | undefined {
  cached ??= builtInNames();
  return cached.get(model);
}
