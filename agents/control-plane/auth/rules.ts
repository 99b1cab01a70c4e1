// RBAC-style policy rules for the fixed identities of a hawser cluster: cluster admins
// (system:masters), every authenticated user's discovery and self-review rights, and the control
// plane's own components. Matching follows upstream's PolicyRule semantics (pure).
import { hasOwn } from '../apiserver/safe-keys.ts';
import type { Attributes, UserInfo } from './attributes.ts';
import { ALLOW, type Authorizer, type Decision, NO_OPINION, type PolicyRule, type RuleSet } from './authorizer.ts';

const READ = ['get', 'list', 'watch'];
const WRITE_EVENTS: PolicyRule[] = [{ verbs: ['create', 'patch', 'update'], apiGroups: ['', 'events.k8s.io'], resources: ['events'] }];

export const ADMIN_RULES: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

/** system:basic-user, system:discovery and system:public-info-viewer, for every authenticated user */
export const AUTHENTICATED_RULES: PolicyRule[] = [
  { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
  { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
  {
    verbs: ['get'],
    nonResourceURLs: [
      '/api',
      '/api/*',
      '/apis',
      '/apis/*',
      '/healthz',
      '/healthz/*',
      '/livez',
      '/livez/*',
      '/readyz',
      '/readyz/*',
      '/version',
      '/version/',
      '/openapi',
      '/openapi/*',
    ],
  },
];

/** upstream's system:kube-scheduler role, for the resources this server has */
export const SCHEDULER_RULES: PolicyRule[] = [
  ...WRITE_EVENTS,
  {
    verbs: READ,
    apiGroups: [''],
    resources: ['pods', 'nodes', 'namespaces', 'services', 'replicationcontrollers', 'persistentvolumeclaims', 'persistentvolumes'],
  },
  { verbs: READ, apiGroups: ['apps'], resources: ['replicasets', 'statefulsets'] },
  { verbs: ['delete'], apiGroups: [''], resources: ['pods'] },
  { verbs: ['create'], apiGroups: [''], resources: ['bindings', 'pods/binding'] },
  { verbs: ['patch', 'update'], apiGroups: [''], resources: ['pods/status'] },
  { verbs: ['create', 'get', 'update', 'list', 'watch'], apiGroups: ['coordination.k8s.io'], resources: ['leases'] },
  // upstream's system:volume-scheduler and the storage reads of system:kube-scheduler
  { verbs: ['patch', 'update'], apiGroups: [''], resources: ['persistentvolumeclaims', 'persistentvolumes'] },
  { verbs: READ, apiGroups: ['storage.k8s.io'], resources: ['storageclasses', 'csinodes', 'csidrivers', 'csistoragecapacities'] },
];

/** the controller manager runs every controller under one identity, so it may touch everything */
export const CONTROLLER_MANAGER_RULES: PolicyRule[] = [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }];

/** upstream's system:node-proxier role (kube-proxy) */
export const PROXIER_RULES: PolicyRule[] = [
  ...WRITE_EVENTS,
  { verbs: READ, apiGroups: [''], resources: ['services', 'endpoints', 'nodes'] },
  { verbs: READ, apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'] },
];

/** the API server's client identity towards kubelets (system:kubelet-api-admin) */
export const KUBELET_API_RULES: PolicyRule[] = [
  { verbs: READ, apiGroups: [''], resources: ['nodes'] },
  { verbs: ['*'], apiGroups: [''], resources: ['nodes/proxy', 'nodes/log', 'nodes/stats', 'nodes/metrics'] },
];

/** system:public-info-viewer: what even an anonymous client may read */
export const PUBLIC_RULES: PolicyRule[] = [
  { verbs: ['get'], nonResourceURLs: ['/healthz', '/healthz/*', '/livez', '/livez/*', '/readyz', '/readyz/*', '/version', '/version/'] },
];

export const MONITORING_RULES: PolicyRule[] = [{ verbs: ['get'], nonResourceURLs: ['/metrics', '/livez', '/readyz', '/healthz'] }];

/**
 * A rule's list if the rule itself defines it. Only own members count: a name inherited from
 * Object.prototype (should anything ever put one there) can never widen a rule.
 */
export function ruleList(r: PolicyRule, k: keyof PolicyRule): string[] | undefined {
  const v: unknown = hasOwn(r, k) ? r[k] : undefined;
  return Array.isArray(v) ? v : undefined;
}

/** An attribute of the request, own members only ('' when absent). */
export function attribute(a: Attributes, k: 'verb' | 'path' | 'apiGroup' | 'resource' | 'subresource' | 'name'): string {
  const v: unknown = hasOwn(a, k) ? a[k] : undefined;
  return typeof v === 'string' ? v : '';
}

function has(list: string[] | undefined, v: string): boolean {
  return !!list && (list.includes('*') || list.includes(v));
}

function urlMatches(patterns: string[], path: string): boolean {
  return patterns.some((p) => p === '*' || p === path || (p.endsWith('*') && path.startsWith(p.slice(0, -1))));
}

/** Whether one rule covers the request (upstream's RuleAllows). */
export function ruleAllows(r: PolicyRule, a: Attributes): boolean {
  if (!has(ruleList(r, 'verbs'), attribute(a, 'verb'))) return false;
  if (!(hasOwn(a, 'resourceRequest') && a.resourceRequest === true)) {
    const urls = ruleList(r, 'nonResourceURLs');
    return !!urls && urlMatches(urls, attribute(a, 'path'));
  }
  const resources = ruleList(r, 'resources');
  if (!resources || !has(ruleList(r, 'apiGroups'), attribute(a, 'apiGroup'))) return false;
  const resource = attribute(a, 'resource');
  const sub = attribute(a, 'subresource');
  const combined = sub ? `${resource}/${sub}` : resource;
  const resourceOk = resources.some((x) => x === '*' || x === combined || (sub && x === `*/${sub}`));
  if (!resourceOk) return false;
  const names = ruleList(r, 'resourceNames');
  const name = attribute(a, 'name');
  return !names?.length || (!!name && names.includes(name));
}

/** The static rules an identity has (not counting what the Node authorizer adds). */
export function staticRules(u: UserInfo): PolicyRule[] {
  const out: PolicyRule[] = [];
  if (u.groups.includes('system:masters')) out.push(...ADMIN_RULES);
  if (u.groups.includes('system:authenticated')) out.push(...AUTHENTICATED_RULES);
  if (u.groups.includes('system:monitoring')) out.push(...MONITORING_RULES);
  if (u.groups.includes('system:unauthenticated')) out.push(...PUBLIC_RULES);
  switch (u.name) {
    case 'system:kube-scheduler':
      out.push(...SCHEDULER_RULES);
      break;
    case 'system:kube-controller-manager':
      out.push(...CONTROLLER_MANAGER_RULES);
      break;
    case 'system:kube-proxy':
      out.push(...PROXIER_RULES);
      break;
    case 'kube-apiserver-kubelet-client':
      out.push(...KUBELET_API_RULES);
      break;
  }
  return out;
}

/** Allows what the static rules allow; no opinion otherwise (the next authorizer decides). */
export class StaticRuleAuthorizer implements Authorizer {
  constructor(private readonly rules: (u: UserInfo) => PolicyRule[] = staticRules) {}

  authorize(a: Attributes): Decision {
    return this.rules(a.user).some((r) => ruleAllows(r, a)) ? ALLOW : NO_OPINION;
  }

  rulesFor(user: UserInfo): RuleSet {
    return { rules: this.rules(user), incomplete: false };
  }
}
