// NodeRestriction's label rules (pure): a kubelet may not add, change or remove labels under
// node-restriction.kubernetes.io/, nor kubernetes.io / k8s.io labels other than the ones kubelets
// set themselves (hostname, topology, instance type, os, arch, and the kubelet.kubernetes.io/ and
// node.kubernetes.io/ prefixes), so that it cannot steer restricted workloads onto itself.
type Labels = Record<string, string> | undefined;

const KUBELET_LABELS = new Set([
  'kubernetes.io/hostname',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
]);
const KUBELET_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];
const NODE_RESTRICTION = 'node-restriction.kubernetes.io';

const labelNamespace = (key: string): string => (key.includes('/') ? key.slice(0, key.indexOf('/')) : '');
const within = (ns: string, domain: string): boolean => ns === domain || ns.endsWith(`.${domain}`);

function isKubeletLabel(key: string): boolean {
  return KUBELET_LABELS.has(key) || KUBELET_NAMESPACES.some((d) => within(labelNamespace(key), d));
}

function isForbidden(key: string): boolean {
  const ns = labelNamespace(key);
  if (within(ns, NODE_RESTRICTION)) return true;
  return (within(ns, 'kubernetes.io') || within(ns, 'k8s.io')) && !isKubeletLabel(key);
}

/** Keys added, changed or removed between `old` and `now` that a node may not touch, sorted as upstream lists them. */
export function forbiddenNodeLabels(now: Labels, old: Labels): string[] {
  const a = now ?? {};
  const b = old ?? {};
  const changed = new Set<string>();
  for (const k of Object.keys(a)) if (!Object.hasOwn(b, k) || a[k] !== b[k]) changed.add(k);
  for (const k of Object.keys(b)) if (!Object.hasOwn(a, k)) changed.add(k);
  return [...changed].filter(isForbidden).sort();
}
