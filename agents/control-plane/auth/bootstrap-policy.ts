// Upstream's default cluster roles and bindings (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/
// policy.go), as data, for the resources hawser serves. Reconciled at every start by
// reconcile-policy.ts: missing ones are added, user changes are kept.
import type { PolicyRule } from './authorizer.ts';
import { PROXIER_RULES, SCHEDULER_RULES } from './rules.ts';
import { DNS_USER, INGRESS_USER, PODNET_GROUP } from './agent-identities.ts';

const RBAC = 'rbac.authorization.k8s.io';
const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const READ_WRITE = [...READ, ...WRITE];
const AGG = (to: string) => ({ [`${RBAC}/aggregate-to-${to}`]: 'true' });

export interface ClusterRoleSpec {
  name: string;
  labels?: Record<string, string>;
  rules: PolicyRule[];
  /** label selectors whose ClusterRoles' rules this one aggregates */
  aggregateFrom?: Record<string, string>[];
}

export interface ClusterRoleBindingSpec {
  name: string;
  role: string;
  subjects: { kind: 'User' | 'Group'; name: string }[];
}

const r = (verbs: string[], apiGroups: string[], resources: string[]): PolicyRule => ({ verbs, apiGroups, resources });

const VIEW_RULES: PolicyRule[] = [
  r(
    READ,
    [''],
    [
      'pods',
      'replicationcontrollers',
      'replicationcontrollers/scale',
      'serviceaccounts',
      'services',
      'services/status',
      'endpoints',
      'persistentvolumeclaims',
      'persistentvolumeclaims/status',
      'configmaps',
    ],
  ),
  r(
    READ,
    [''],
    [
      'bindings',
      'events',
      'limitranges',
      'namespaces/status',
      'pods/log',
      'pods/status',
      'replicationcontrollers/status',
      'resourcequotas',
      'resourcequotas/status',
    ],
  ),
  r(READ, [''], ['namespaces']),
  r(READ, ['discovery.k8s.io'], ['endpointslices']),
  r(
    READ,
    ['apps'],
    [
      'controllerrevisions',
      'daemonsets',
      'daemonsets/status',
      'deployments',
      'deployments/scale',
      'deployments/status',
      'replicasets',
      'replicasets/scale',
      'replicasets/status',
      'statefulsets',
      'statefulsets/scale',
      'statefulsets/status',
    ],
  ),
  r(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
  r(READ, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
  r(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
  r(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
];

const EDIT_RULES: PolicyRule[] = [
  r(['impersonate'], [''], ['serviceaccounts']),
  r(WRITE, [''], ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
  r(['create'], [''], ['pods/eviction']),
  r(
    WRITE,
    [''],
    [
      'replicationcontrollers',
      'replicationcontrollers/scale',
      'serviceaccounts',
      'services',
      'services/proxy',
      'persistentvolumeclaims',
      'configmaps',
      'secrets',
      'events',
    ],
  ),
  r(['create'], [''], ['serviceaccounts/token']),
  r(
    WRITE,
    ['apps'],
    ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale'],
  ),
  r(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
  r(WRITE, ['batch'], ['cronjobs', 'jobs']),
  r(WRITE, ['policy'], ['poddisruptionbudgets']),
  r(WRITE, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
  r(WRITE, ['coordination.k8s.io'], ['leases']),
  r(READ, [''], ['pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward', 'secrets', 'services/proxy']),
  r(READ, ['coordination.k8s.io'], ['leases']),
];

const ADMIN_RULES: PolicyRule[] = [r(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']), r(READ_WRITE, [RBAC], ['rolebindings', 'roles'])];

const DISCOVERY_URLS = ['/healthz', '/livez', '/readyz', '/version', '/version/', '/openapi', '/openapi/*', '/api', '/api/*', '/apis', '/apis/*'];
const PUBLIC_URLS = ['/healthz', '/livez', '/readyz', '/version', '/version/'];
const ISSUER_DISCOVERY_URLS = ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'];

export const CLUSTER_ROLES: ClusterRoleSpec[] = [
  { name: 'cluster-admin', rules: [r(['*'], ['*'], ['*']), { verbs: ['*'], nonResourceURLs: ['*'] }] },
  { name: 'system:discovery', rules: [{ verbs: ['get'], nonResourceURLs: DISCOVERY_URLS }] },
  {
    name: 'system:basic-user',
    rules: [
      r(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      r(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ],
  },
  { name: 'system:public-info-viewer', rules: [{ verbs: ['get'], nonResourceURLs: PUBLIC_URLS }] },
  // apiserver auth delegation: what an aggregated API server binds its ServiceAccount to
  {
    name: 'system:auth-delegator',
    rules: [r(['create'], ['authentication.k8s.io'], ['tokenreviews']), r(['create'], ['authorization.k8s.io'], ['subjectaccessreviews'])],
  },
  { name: 'system:service-account-issuer-discovery', rules: [{ verbs: ['get'], nonResourceURLs: ISSUER_DISCOVERY_URLS }] },
  { name: 'admin', rules: [], aggregateFrom: [AGG('admin')] },
  { name: 'edit', labels: AGG('admin'), rules: [], aggregateFrom: [AGG('edit')] },
  { name: 'view', labels: { ...AGG('admin'), ...AGG('edit') }, rules: [], aggregateFrom: [AGG('view')] },
  { name: 'system:aggregate-to-admin', labels: AGG('admin'), rules: ADMIN_RULES },
  { name: 'system:aggregate-to-edit', labels: AGG('edit'), rules: EDIT_RULES },
  { name: 'system:aggregate-to-view', labels: AGG('view'), rules: VIEW_RULES },
  { name: 'system:node-proxier', rules: PROXIER_RULES },
  { name: 'system:kube-scheduler', rules: SCHEDULER_RULES },
  {
    name: 'system:kube-controller-manager',
    rules: [
      r(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
      r(['create'], ['coordination.k8s.io'], ['leases']),
      { verbs: ['get', 'update'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['kube-controller-manager'] },
      r(['create'], [''], ['secrets', 'serviceaccounts']),
      r(['delete'], [''], ['secrets']),
      r(['get'], [''], ['configmaps', 'namespaces', 'secrets', 'serviceaccounts']),
      r(['update'], [''], ['secrets', 'serviceaccounts']),
      r(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      r(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      r(['list', 'watch'], ['*'], ['*']),
      r(['create'], [''], ['serviceaccounts/token']),
    ],
  },
  {
    name: 'system:node',
    rules: [
      r(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      r(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews', 'subjectaccessreviews']),
      r(READ, [''], ['services']),
      r(['create', 'get', 'list', 'watch'], [''], ['nodes']),
      r(['patch', 'update'], [''], ['nodes/status']),
      r(['patch', 'update'], [''], ['nodes']),
      r(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
      r(['get', 'list', 'watch'], [''], ['pods']),
      r(['create', 'delete'], [''], ['pods']),
      r(['patch', 'update'], [''], ['pods/status']),
      r(['create'], [''], ['pods/eviction']),
      r(['get'], [''], ['configmaps', 'secrets']),
      r(['get'], [''], ['persistentvolumeclaims', 'persistentvolumes']),
      r(['get'], [''], ['endpoints']),
      r(['create', 'delete', 'get', 'patch', 'update'], ['coordination.k8s.io'], ['leases']),
      r(['create'], [''], ['serviceaccounts/token']),
    ],
  },
  {
    name: 'system:kubelet-api-admin',
    rules: [r(['get', 'list', 'watch', 'proxy'], [''], ['nodes']), r(['*'], [''], ['nodes/log', 'nodes/metrics', 'nodes/proxy', 'nodes/stats'])],
  },
  // metrics-server's reader role, aggregated into view, edit and admin, for the built-in metrics.k8s.io
  {
    name: 'system:aggregated-metrics-reader',
    labels: { ...AGG('view'), ...AGG('edit'), ...AGG('admin') },
    rules: [r(['get', 'list', 'watch'], ['metrics.k8s.io'], ['pods', 'nodes'])],
  },
  // hawser's podnet, as flannel's ClusterRole: read nodes, publish its VTEP annotation (its own node
  // only: agent-identities.ts); cluster DNS as CoreDNS's system:coredns
  // and, for NetworkPolicy enforcement (agents/netpol), kube-router's reads: peers are cluster-wide
  {
    name: 'system:podnet',
    rules: [
      r(READ, [''], ['nodes']),
      r(['patch'], [''], ['nodes']),
      r(READ, [''], ['pods', 'namespaces']),
      r(READ, ['networking.k8s.io'], ['networkpolicies']),
    ],
  },
  {
    name: 'system:coredns',
    rules: [r(['list', 'watch'], [''], ['endpoints', 'services', 'pods', 'namespaces']), r(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices'])],
  },
  // the built-in ingress controller (agents/ingress), as ingress-nginx's ClusterRole without writes
  // beyond ingresses/status; nodes for the addresses it publishes
  {
    name: 'system:hawser-ingress',
    rules: [
      r(READ, [''], ['services', 'secrets', 'nodes']),
      r(READ, ['discovery.k8s.io'], ['endpointslices']),
      r(READ, ['networking.k8s.io'], ['ingresses', 'ingressclasses']),
      r(['get', 'update', 'patch'], ['networking.k8s.io'], ['ingresses/status']),
      r(['create', 'patch'], ['', 'events.k8s.io'], ['events']),
    ],
  },
];

export const CLUSTER_ROLE_BINDINGS: ClusterRoleBindingSpec[] = [
  { name: 'cluster-admin', role: 'cluster-admin', subjects: [{ kind: 'Group', name: 'system:masters' }] },
  { name: 'system:discovery', role: 'system:discovery', subjects: [{ kind: 'Group', name: 'system:authenticated' }] },
  { name: 'system:basic-user', role: 'system:basic-user', subjects: [{ kind: 'Group', name: 'system:authenticated' }] },
  {
    name: 'system:public-info-viewer',
    role: 'system:public-info-viewer',
    subjects: [
      { kind: 'Group', name: 'system:authenticated' },
      { kind: 'Group', name: 'system:unauthenticated' },
    ],
  },
  {
    name: 'system:service-account-issuer-discovery',
    role: 'system:service-account-issuer-discovery',
    subjects: [{ kind: 'Group', name: 'system:serviceaccounts' }],
  },
  { name: 'system:node-proxier', role: 'system:node-proxier', subjects: [{ kind: 'User', name: 'system:kube-proxy' }] },
  { name: 'system:kube-scheduler', role: 'system:kube-scheduler', subjects: [{ kind: 'User', name: 'system:kube-scheduler' }] },
  { name: 'system:kube-controller-manager', role: 'system:kube-controller-manager', subjects: [{ kind: 'User', name: 'system:kube-controller-manager' }] },
  // upstream binds system:node to nobody (the Node authorizer decides for kubelets)
  { name: 'system:node', role: 'system:node', subjects: [] },
  { name: 'system:podnet', role: 'system:podnet', subjects: [{ kind: 'Group', name: PODNET_GROUP }] },
  { name: 'system:coredns', role: 'system:coredns', subjects: [{ kind: 'User', name: DNS_USER }] },
  { name: 'system:hawser-ingress', role: 'system:hawser-ingress', subjects: [{ kind: 'User', name: INGRESS_USER }] },
];

export interface NamespacedRoleSpec {
  namespace: string;
  name: string;
  rules: PolicyRule[];
}

/** upstream's addNamespaceRole ones hawser needs */
export const NAMESPACED_ROLES: NamespacedRoleSpec[] = [
  // an aggregated API server reads the front-proxy trust it publishes (front-proxy.ts)
  {
    namespace: 'kube-system',
    name: 'extension-apiserver-authentication-reader',
    rules: [{ ...r(READ, [''], ['configmaps']), resourceNames: ['extension-apiserver-authentication'] }],
  },
];
