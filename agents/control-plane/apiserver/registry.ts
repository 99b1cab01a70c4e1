// The resource table: everything the generic machinery (routing, storage keys, discovery, OpenAPI,
// schema pruning) needs to know about a type. Adding a type is one entry here (plus, optionally, a
// strategy in strategies/ for defaulting, validation and printing).

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

import type { Strategy } from './strategies/types.ts';
import type { JSONSchemaProps } from './crd/types.ts';

export type NameRule = 'subdomain' | 'label' | 'label1035' | 'path';

export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs: Verb[];
  /** subresources served besides the main resource, e.g. status, binding */
  subresources: string[];
  /** the @kubernetes/client-node model describing the schema (field names and types) */
  model: string;
  nameRule: NameRule;
  /** PUT of a missing object creates it (upstream AllowCreateOnUpdate) */
  allowCreateOnUpdate?: boolean;
  /** metadata.generation tracks spec changes */
  generation?: boolean;
  /** create-only and never stored: the review APIs, answered by auth/reviews.ts and auth/authn.ts */
  virtual?: boolean;
  /** get/list only and never stored: metrics.k8s.io, answered from the kubelets' metrics (control-plane/metrics/) */
  metrics?: boolean;
  /** the strategy of a type defined at run time (a custom resource); built-ins use strategies/ */
  strategy?: Strategy;
  /** where the scale subresource reads and writes (absent: spec.replicas, status.replicas, spec.selector) */
  scale?: ScalePaths;
  /** served from a CustomResourceDefinition */
  custom?: CustomInfo;
  /**
   * the objects are those of this group's resource of the same plural (one storage: keys, watch
   * cache), converted by the strategy (events.k8s.io Events are the core Events)
   */
  storageGroup?: string;
}

export interface ScalePaths {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface CustomInfo {
  /** the CRD's name (<plural>.<group>) */
  crd: string;
  /** the Warning header of a deprecated version */
  deprecationWarning?: string;
  /** the CRD is being deleted: creates are refused */
  terminating?: boolean;
  /** the version's structural schema, published in OpenAPI */
  schema?: JSONSchemaProps;
}

const ALL: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCES: ResourceInfo[] = [
  {
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    singular: 'namespace',
    namespaced: false,
    shortNames: ['ns'],
    verbs: ALL.filter((v) => v !== 'deletecollection'),
    subresources: ['status', 'finalize'],
    model: 'V1Namespace',
    nameRule: 'label',
  },
  {
    group: '',
    version: 'v1',
    kind: 'Node',
    plural: 'nodes',
    singular: 'node',
    namespaced: false,
    shortNames: ['no'],
    verbs: ALL,
    subresources: ['status', 'proxy'],
    model: 'V1Node',
    nameRule: 'subdomain',
  },
  {
    group: '',
    version: 'v1',
    kind: 'Pod',
    plural: 'pods',
    singular: 'pod',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    verbs: ALL,
    subresources: ['status', 'binding', 'eviction', 'log', 'exec', 'attach', 'portforward', 'proxy', 'ephemeralcontainers'],
    model: 'V1Pod',
    nameRule: 'subdomain',
    generation: true,
  },
  // core v1 Events, and events.k8s.io/v1 Events: the same objects, converted (strategies/events-convert.ts)
  ...(['', 'events.k8s.io'] as const).map(
    (group): ResourceInfo => ({
      group,
      version: 'v1',
      kind: 'Event',
      plural: 'events',
      singular: 'event',
      namespaced: true,
      shortNames: ['ev'],
      verbs: ALL,
      subresources: [],
      model: group ? 'EventsV1Event' : 'CoreV1Event',
      nameRule: 'subdomain',
      allowCreateOnUpdate: true,
      ...(group ? { storageGroup: '' } : {}),
    }),
  ),
  {
    group: '',
    version: 'v1',
    kind: 'ConfigMap',
    plural: 'configmaps',
    singular: 'configmap',
    namespaced: true,
    shortNames: ['cm'],
    verbs: ALL,
    subresources: [],
    model: 'V1ConfigMap',
    nameRule: 'subdomain',
  },
  {
    group: '',
    version: 'v1',
    kind: 'Secret',
    plural: 'secrets',
    singular: 'secret',
    namespaced: true,
    verbs: ALL,
    subresources: [],
    model: 'V1Secret',
    nameRule: 'subdomain',
  },
  {
    group: '',
    version: 'v1',
    kind: 'Service',
    plural: 'services',
    singular: 'service',
    namespaced: true,
    shortNames: ['svc'],
    categories: ['all'],
    verbs: ALL,
    subresources: ['status', 'proxy'],
    model: 'V1Service',
    nameRule: 'label1035',
    allowCreateOnUpdate: true,
  },
  {
    group: '',
    version: 'v1',
    kind: 'Endpoints',
    plural: 'endpoints',
    singular: 'endpoints',
    namespaced: true,
    shortNames: ['ep'],
    verbs: ALL,
    subresources: [],
    model: 'V1Endpoints',
    nameRule: 'subdomain',
    allowCreateOnUpdate: true,
  },
  {
    group: '',
    version: 'v1',
    kind: 'ServiceAccount',
    plural: 'serviceaccounts',
    singular: 'serviceaccount',
    namespaced: true,
    shortNames: ['sa'],
    verbs: ALL,
    subresources: ['token'],
    model: 'V1ServiceAccount',
    nameRule: 'subdomain',
  },
  {
    group: '',
    version: 'v1',
    kind: 'ReplicationController',
    plural: 'replicationcontrollers',
    singular: 'replicationcontroller',
    namespaced: true,
    shortNames: ['rc'],
    categories: ['all'],
    verbs: ALL,
    subresources: ['status', 'scale'],
    model: 'V1ReplicationController',
    nameRule: 'subdomain',
    generation: true,
  },
  {
    group: '',
    version: 'v1',
    kind: 'PodTemplate',
    plural: 'podtemplates',
    singular: 'podtemplate',
    namespaced: true,
    verbs: ALL,
    subresources: [],
    model: 'V1PodTemplate',
    nameRule: 'subdomain',
  },
  {
    group: '',
    version: 'v1',
    kind: 'ResourceQuota',
    plural: 'resourcequotas',
    singular: 'resourcequota',
    namespaced: true,
    shortNames: ['quota'],
    verbs: ALL,
    subresources: ['status'],
    model: 'V1ResourceQuota',
    nameRule: 'subdomain',
  },
  {
    group: '',
    version: 'v1',
    kind: 'PersistentVolume',
    plural: 'persistentvolumes',
    singular: 'persistentvolume',
    namespaced: false,
    shortNames: ['pv'],
    verbs: ALL,
    subresources: ['status'],
    model: 'V1PersistentVolume',
    nameRule: 'subdomain',
  },
  {
    group: '',
    version: 'v1',
    kind: 'PersistentVolumeClaim',
    plural: 'persistentvolumeclaims',
    singular: 'persistentvolumeclaim',
    namespaced: true,
    shortNames: ['pvc'],
    verbs: ALL,
    subresources: ['status'],
    model: 'V1PersistentVolumeClaim',
    nameRule: 'subdomain',
  },
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    kind: 'Lease',
    plural: 'leases',
    singular: 'lease',
    namespaced: true,
    verbs: ALL,
    subresources: [],
    model: 'V1Lease',
    nameRule: 'subdomain',
    allowCreateOnUpdate: true,
  },
  {
    group: 'discovery.k8s.io',
    version: 'v1',
    kind: 'EndpointSlice',
    plural: 'endpointslices',
    singular: 'endpointslice',
    namespaced: true,
    verbs: ALL,
    subresources: [],
    model: 'V1EndpointSlice',
    nameRule: 'subdomain',
    allowCreateOnUpdate: true,
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    singular: 'networkpolicy',
    namespaced: true,
    shortNames: ['netpol'],
    verbs: ALL,
    subresources: [],
    model: 'V1NetworkPolicy',
    nameRule: 'subdomain',
    generation: true,
  },
  {
    group: 'policy',
    version: 'v1',
    kind: 'PodDisruptionBudget',
    plural: 'poddisruptionbudgets',
    singular: 'poddisruptionbudget',
    namespaced: true,
    shortNames: ['pdb'],
    verbs: ALL,
    subresources: ['status'],
    model: 'V1PodDisruptionBudget',
    nameRule: 'subdomain',
    generation: true,
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'Ingress',
    plural: 'ingresses',
    singular: 'ingress',
    namespaced: true,
    shortNames: ['ing'],
    verbs: ALL,
    subresources: ['status'],
    model: 'V1Ingress',
    nameRule: 'subdomain',
    generation: true,
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'IngressClass',
    plural: 'ingressclasses',
    singular: 'ingressclass',
    namespaced: false,
    verbs: ALL,
    subresources: [],
    model: 'V1IngressClass',
    nameRule: 'subdomain',
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    singular: 'deployment',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    verbs: ALL,
    subresources: ['status', 'scale'],
    model: 'V1Deployment',
    nameRule: 'subdomain',
    generation: true,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    singular: 'replicaset',
    namespaced: true,
    shortNames: ['rs'],
    categories: ['all'],
    verbs: ALL,
    subresources: ['status', 'scale'],
    model: 'V1ReplicaSet',
    nameRule: 'subdomain',
    generation: true,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'DaemonSet',
    plural: 'daemonsets',
    singular: 'daemonset',
    namespaced: true,
    shortNames: ['ds'],
    categories: ['all'],
    verbs: ALL,
    subresources: ['status'],
    model: 'V1DaemonSet',
    nameRule: 'subdomain',
    generation: true,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'StatefulSet',
    plural: 'statefulsets',
    singular: 'statefulset',
    namespaced: true,
    shortNames: ['sts'],
    categories: ['all'],
    verbs: ALL,
    subresources: ['status', 'scale'],
    model: 'V1StatefulSet',
    nameRule: 'subdomain',
    generation: true,
  },
  {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    kind: 'CustomResourceDefinition',
    plural: 'customresourcedefinitions',
    singular: 'customresourcedefinition',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    verbs: ALL,
    subresources: ['status'],
    model: 'V1CustomResourceDefinition',
    nameRule: 'subdomain',
    generation: true,
  },
  ...(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'] as const).map(
    (kind): ResourceInfo => ({
      group: 'admissionregistration.k8s.io',
      version: 'v1',
      kind,
      plural: `${kind.toLowerCase()}s`,
      singular: kind.toLowerCase(),
      namespaced: false,
      categories: ['api-extensions'],
      verbs: ALL,
      subresources: [],
      model: `V1${kind}`,
      nameRule: 'subdomain',
    }),
  ),
  {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    kind: 'ValidatingAdmissionPolicy',
    plural: 'validatingadmissionpolicies',
    singular: 'validatingadmissionpolicy',
    namespaced: false,
    categories: ['api-extensions'],
    verbs: ALL,
    subresources: ['status'],
    model: 'V1ValidatingAdmissionPolicy',
    nameRule: 'subdomain',
    generation: true,
  },
  {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    plural: 'validatingadmissionpolicybindings',
    singular: 'validatingadmissionpolicybinding',
    namespaced: false,
    categories: ['api-extensions'],
    verbs: ALL,
    subresources: [],
    model: 'V1ValidatingAdmissionPolicyBinding',
    nameRule: 'subdomain',
    generation: true,
  },
  {
    group: 'batch',
    version: 'v1',
    kind: 'Job',
    plural: 'jobs',
    singular: 'job',
    namespaced: true,
    categories: ['all'],
    verbs: ALL,
    subresources: ['status'],
    model: 'V1Job',
    nameRule: 'subdomain',
    generation: true,
  },
  {
    group: 'batch',
    version: 'v1',
    kind: 'CronJob',
    plural: 'cronjobs',
    singular: 'cronjob',
    namespaced: true,
    shortNames: ['cj'],
    categories: ['all'],
    verbs: ALL,
    subresources: ['status'],
    model: 'V1CronJob',
    nameRule: 'subdomain',
    generation: true,
  },
  // autoscaling/v2 first (the preferred version), v1 served from the same storage (strategies/autoscaling-convert.ts)
  ...(['v2', 'v1'] as const).map(
    (version): ResourceInfo => ({
      group: 'autoscaling',
      version,
      kind: 'HorizontalPodAutoscaler',
      plural: 'horizontalpodautoscalers',
      singular: 'horizontalpodautoscaler',
      namespaced: true,
      shortNames: ['hpa'],
      categories: ['all'],
      verbs: ALL,
      subresources: ['status'],
      model: `${version.toUpperCase()}HorizontalPodAutoscaler`,
      nameRule: 'subdomain',
    }),
  ),
  ...(
    [
      ['StorageClass', 'storageclasses', false, ['sc'], []],
      ['CSIDriver', 'csidrivers', false, [], []],
      ['CSINode', 'csinodes', false, [], []],
      ['VolumeAttachment', 'volumeattachments', false, [], ['status']],
      ['CSIStorageCapacity', 'csistoragecapacities', true, [], []],
      ['VolumeAttributesClass', 'volumeattributesclasses', false, ['vac'], []],
    ] as const
  ).map(
    ([kind, plural, namespaced, shortNames, subresources]): ResourceInfo => ({
      group: 'storage.k8s.io',
      version: 'v1',
      kind,
      plural,
      singular: kind.toLowerCase(),
      namespaced,
      verbs: ALL,
      ...(shortNames.length ? { shortNames: [...shortNames] } : {}),
      subresources: [...subresources],
      model: `V1${kind}`,
      nameRule: 'subdomain',
    }),
  ),
  ...(
    [
      ['Role', 'roles', true],
      ['ClusterRole', 'clusterroles', false],
      ['RoleBinding', 'rolebindings', true],
      ['ClusterRoleBinding', 'clusterrolebindings', false],
    ] as const
  ).map(
    ([kind, plural, namespaced]): ResourceInfo => ({
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      kind,
      plural,
      singular: kind.toLowerCase(),
      namespaced,
      verbs: ALL,
      subresources: [],
      model: `V1${kind}`,
      nameRule: 'path',
      allowCreateOnUpdate: true,
    }),
  ),
  ...(
    [
      ['authorization.k8s.io', 'SelfSubjectAccessReview', false],
      ['authorization.k8s.io', 'SelfSubjectRulesReview', false],
      ['authorization.k8s.io', 'SubjectAccessReview', false],
      ['authorization.k8s.io', 'LocalSubjectAccessReview', true],
      ['authentication.k8s.io', 'SelfSubjectReview', false],
      ['authentication.k8s.io', 'TokenReview', false],
    ] as const
  ).map(
    ([group, kind, namespaced]): ResourceInfo => ({
      group,
      version: 'v1',
      kind,
      plural: `${kind.toLowerCase()}s`,
      singular: '',
      namespaced,
      verbs: ['create'],
      subresources: [],
      model: `V1${kind}`,
      nameRule: 'subdomain',
      virtual: true,
    }),
  ),
  {
    group: 'apiregistration.k8s.io',
    version: 'v1',
    kind: 'APIService',
    plural: 'apiservices',
    singular: 'apiservice',
    namespaced: false,
    categories: ['api-extensions'],
    verbs: ALL,
    subresources: ['status'],
    model: 'V1APIService',
    nameRule: 'path',
  },
  // metrics.k8s.io/v1beta1 as metrics-server registers it (no singular, no short names)
  {
    group: 'metrics.k8s.io',
    version: 'v1beta1',
    kind: 'NodeMetrics',
    plural: 'nodes',
    singular: '',
    namespaced: false,
    verbs: ['get', 'list'],
    subresources: [],
    model: 'V1beta1NodeMetrics',
    nameRule: 'subdomain',
    metrics: true,
  },
  {
    group: 'metrics.k8s.io',
    version: 'v1beta1',
    kind: 'PodMetrics',
    plural: 'pods',
    singular: '',
    namespaced: true,
    verbs: ['get', 'list'],
    subresources: [],
    model: 'V1beta1PodMetrics',
    nameRule: 'subdomain',
    metrics: true,
  },
];

export function apiVersionOf(r: { group: string; version: string }): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

export class Registry {
  private readonly byPath = new Map<string, ResourceInfo>();
  /** built-ins first, then custom resources in the order their CRDs were established */
  readonly resources: ResourceInfo[];
  private readonly changed: (() => void)[] = [];
  /** group/version/plural -> aborted when that custom resource stops being served */
  private readonly served = new Map<string, AbortController>();
  constructor(resources: ResourceInfo[] = RESOURCES) {
    this.resources = [...resources];
    this.index();
  }

  private index(): void {
    this.byPath.clear();
    for (const r of this.resources) this.byPath.set(`${r.group}/${r.version}/${r.plural}`, r);
  }

  /** Serves exactly `infos` for the CRD `crd` from now on (none: stop serving it). */
  setCustom(crd: string, infos: ResourceInfo[]): void {
    const kept = this.resources.filter((r) => r.custom?.crd !== crd);
    this.resources.splice(0, this.resources.length, ...kept, ...infos);
    this.index();
    for (const [k, c] of this.served) {
      if (this.byPath.has(k)) continue;
      this.served.delete(k);
      c.abort();
    }
    for (const fn of this.changed) fn();
  }

  /**
   * Aborted once group/version/plural is no longer served (its CRD deleted, the version no longer
   * served): open watches on it end then, as upstream tears down a removed CRD's storage.
   */
  servedSignal(r: Pick<ResourceInfo, 'group' | 'version' | 'plural'>): AbortSignal {
    const k = `${r.group}/${r.version}/${r.plural}`;
    let c = this.served.get(k);
    if (!c) this.served.set(k, (c = new AbortController()));
    if (!this.byPath.has(k)) c.abort();
    return c.signal;
  }

  /** Runs fn after every change of the served custom resources (OpenAPI rebuilds). */
  onChange(fn: () => void): void {
    this.changed.push(fn);
  }

  lookup(group: string, version: string, plural: string): ResourceInfo | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  byKind(group: string, kind: string): ResourceInfo | undefined {
    return this.resources.find((r) => r.group === group && r.kind === kind);
  }

  /** group -> versions, in table order */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const r of this.resources) {
      const vs = out.get(r.group) ?? [];
      if (!vs.includes(r.version)) vs.push(r.version);
      out.set(r.group, vs);
    }
    return out;
  }

  inGroupVersion(group: string, version: string): ResourceInfo[] {
    return this.resources.filter((r) => r.group === group && r.version === version);
  }
}

/** Storage key: /registry/<storage group|group|core>/<plural>/[<namespace>/]<name> */
export function storageKey(r: ResourceInfo, namespace: string | undefined, name?: string): string {
  let k = `/registry/${(r.storageGroup ?? r.group) || 'core'}/${r.plural}/`;
  if (r.namespaced && namespace) k += `${namespace}/`;
  if (name !== undefined) k += name;
  return k;
}
