// What an upstream conformance test that the suite does not mirror yet is waiting for, by a declared
// rule table read top to bottom (the first rule whose patterns all match wins): a pattern on the
// test's name and/or its upstream file -> a capability. "needs X": hawser lacks X (an API group,
// a subresource, a kubelet feature); "test only: X": hawser's code has X as far as reading it
// shows, and what is missing is the mirrored test (unverified until it runs); "mirrored: X": every
// listed test of X has its mirror, so only a new or renamed upstream test lands there. Anything no rule
// matches is "unclassified": add a rule rather than let that grow.
import type { UpstreamTest } from './upstream.ts';

export interface CapabilityRule {
  capability: string;
  /** matched against the full test name */
  name?: RegExp;
  /** matched against the upstream file, e.g. test/e2e/apps/job.go */
  file?: RegExp;
}

export const UNCLASSIFIED = 'unclassified';

export const CAPABILITY_RULES: CapabilityRule[] = [
  // API groups and API features hawser does not serve
  { capability: 'mirrored: webhook matchConditions (CEL; test/e2e/api-machinery-webhook.test.ts)', name: /AdmissionWebhook .*(match conditions|'skip-me')/ },
  { capability: 'mirrored: CONNECT admission (webhooks on pods/attach)', name: /AdmissionWebhook .*deny attaching pod/ },
  {
    capability: "mirrored: admission webhooks (test/e2e/api-machinery-webhook.test.ts; agnhost's paths served by a process named by URL)",
    file: /\/apimachinery\/webhook\.go$/,
  },
  { capability: 'mirrored: ValidatingAdmissionPolicy (test/e2e/api-machinery-vap.test.ts)', name: /ValidatingAdmissionPolicy/ },
  { capability: 'mirrored: CRD conversion webhooks (test/e2e/api-machinery-crd-conversion.test.ts)', name: /CustomResourceConversionWebhook/ },
  {
    capability: 'test only: x-kubernetes-validations (CEL rules evaluated; test/integration/apiserver-crd-cel.test.ts)',
    name: /CustomResourceValidationRules/,
  },
  {
    capability: 'mirrored: FieldValidation (typed objects in test/e2e/api-machinery-api.test.ts, custom objects in api-machinery-field-validation.test.ts)',
    file: /\/apimachinery\/field_validation\.go$/,
  },
  {
    capability: 'mirrored: CustomResourcePublishOpenAPI (test/e2e/api-machinery-crd-openapi.test.ts with kubectl, api-machinery-crd.test.ts definitions only)',
    name: /CustomResourcePublishOpenAPI/,
  },
  {
    capability:
      'mirrored: AggregatedDiscovery (test/e2e/api-machinery-discovery.test.ts; its built-in list also needs certificates.k8s.io, node.k8s.io and scheduling.k8s.io served)',
    file: /\/apimachinery\/aggregated_discovery\.go$/,
  },
  { capability: 'test only: CRDs (apiextensions.k8s.io/v1 served)', name: /CustomResource|\bCRDs?\b|\bCRs?\b/ },
  {
    capability: 'mirrored: Aggregator (test/e2e/api-machinery-aggregator.test.ts; the sample API server is a process, not the sample-apiserver image)',
    file: /\/apimachinery\/aggregator\.go$/,
  },
  { capability: 'needs API priority and fairness (flowcontrol)', file: /\/apimachinery\/flowcontrol\.go$/ },
  { capability: 'needs ordered namespace deletion (pods first)', name: /OrderedNamespaceDeletion/ },
  { capability: 'needs certificates API (CSR)', name: /Certificates API/ },
  { capability: 'mirrored: Events API, events.k8s.io/v1 (test/e2e/instrumentation-events.test.ts)', name: /\] Events API / },
  { capability: 'mirrored: Ingress/IngressClass API operations (test/e2e/network-ingress-api.test.ts)', name: /\] Ingress(Class)? API / },
  { capability: 'needs ServiceCIDR/IPAddress (networking.k8s.io)', name: /ServiceCIDR and IPAddress API/ },
  { capability: 'needs RuntimeClass (node.k8s.io)', name: /RuntimeClass/ },
  { capability: 'needs DRA (resource.k8s.io)', name: /\[DRA\]/ },
  { capability: 'needs LimitRange', name: /LimitRange/ },
  { capability: 'mirrored: DisruptionController (test/e2e/apps-conformance-disruption.test.ts)', name: /DisruptionController/ },
  { capability: 'needs PriorityClass and preemption', name: /SchedulerPreemption/ },
  {
    capability: 'needs ControllerRevisions',
    name: /ControllerRevision|rollback without unnecessary restarts|rolling updates and roll backs|canary updates and phased rolling updates/,
  },
  // subresources and node features
  { capability: 'mirrored: Proxy (test/e2e/network-proxy.test.ts)', name: /\] Proxy version v1 / },
  { capability: 'test only: ephemeral containers are served and run (test/e2e/cli-debug-proxy.test.ts)', name: /Ephemeral Containers/ },
  { capability: 'needs in-place pod resize (pods/resize)', name: /InPlace Resize/ },
  { capability: 'needs pod generation and observedGeneration', name: /Pod Generation/ },
  { capability: 'needs hostPort conflicts in the scheduler', name: /hostPort/i },
  { capability: 'needs EndpointSlice mirroring', name: /EndpointSliceMirroring/ },
  { capability: 'needs Job failure and success policies', name: /pod failure policy|FailIndex|backoffLimitPerIndex|maxFailedIndexes|successPolicy/ },
  { capability: 'needs a UDP server in the test image', name: /: udp \[|same port and different protocols/ },
  // what hawser has, waiting only for a mirrored test
  { capability: 'test only: ResourceQuota', name: /ResourceQuota|exceeded quota/ },
  // upstream's DaemonSet RollingUpdate test also reads the DaemonSet's ControllerRevisions (history)
  { capability: 'needs ControllerRevisions', name: /Daemon set .*update strategy is RollingUpdate/ },
  // every sig-apps test these match is mirrored (test/e2e/apps-conformance-*.test.ts): they speak
  // only for a test upstream renames
  {
    capability: 'mirrored: workload controller API operations (status, scale, patch, DeleteCollection, lifecycle)',
    file: /\/apps\//,
    name: /lifecycle of a|Status endpoints|daemon set status|job status|scale subresource|ReplicationController scale|Replace and Patch|delete a collection|CronJob API operations/,
  },
  {
    capability: 'mirrored: workload controller behaviours (rollouts, adoption, daemons, jobs, cron concurrency)',
    file: /\/apps\//,
    name: /(RollingUpdate|Recreate)Deployment|delete old replica sets|serve a basic image|adopt matching|release no longer matching|run and stop|retry creating failed|locally restarted|should delete a job|schedule multiple jobs concurrently|replace jobs when ReplaceConcurrent/,
  },
  { capability: 'test only: workload controllers', file: /\/apps\// },
  { capability: 'test only: API machinery (discovery, chunking, GC, tables, namespaces)', file: /\/apimachinery\// },
  { capability: 'test only: ServiceAccounts', file: /\/auth\/service_accounts\.go$/ },
  { capability: 'test only: kubectl', file: /\/kubectl\// },
  { capability: 'mirrored: core Events (test/e2e/instrumentation-events.test.ts)', file: /\/instrumentation\/core_events\.go$/ },
  { capability: 'test only: Services, endpoints and DNS', file: /\/network\/(service|service_latency|endpointslice|endpoints|dns|apiserver)\.go$/ },
  { capability: 'test only: pod networking', file: /\/common\/network\// },
  // every v1.35 test these two match is mirrored (test/e2e/storage-*.test.ts): they speak only for a
  // test upstream adds or renames, whose code hawser has
  {
    capability: 'mirrored: pod volumes (configMap, secret, downwardAPI, projected, emptyDir, subPath)',
    file: /\/common\/storage\/|\/storage\/(subpath|empty_dir_wrapper)\.go$/,
  },
  { capability: 'mirrored: volume subpath expansion', name: /Variable Expansion .*subpath/ },
  // mirrored in test/e2e/storage-api.test.ts (the StorageClass lifecycle in storage-persistent.test.ts)
  {
    capability: 'mirrored: storage.k8s.io API operations (CSIDriver, CSINode, CSIStorageCapacity, StorageClass, VolumeAttachment, VolumeAttributesClass)',
    file: /\/storage\/(csi_inline|csi_node|csistoragecapacity|storageclass|volume_attachment|volumeattributesclass)\.go$/,
  },
  { capability: 'mirrored: PersistentVolumes API operations', name: /PersistentVolumes/ },
  { capability: 'test only: nodes and taint eviction', file: /\/node\/(taints|node_lifecycle)\.go$/ },
  { capability: 'test only: sysctls', name: /Sysctls/ },
  { capability: 'test only: pods and containers', file: /\/(common\/)?node\// },
  { capability: 'test only: scheduling', file: /\/scheduling\// },
  { capability: 'test only: cluster shape (two untainted nodes)', file: /\/architecture\/conformance\.go$/ },
];

export function capabilityOf(t: Pick<UpstreamTest, 'codename' | 'file'>, rules = CAPABILITY_RULES): string {
  const r = rules.find((x) => (!x.name || x.name.test(t.codename)) && (!x.file || x.file.test(t.file)));
  return r?.capability ?? UNCLASSIFIED;
}

export interface CapabilityCount {
  capability: string;
  count: number;
  sigs: string[];
}

/** Capability -> how many tests and which SIGs, most tests first (ties by name). */
export function byCapability(tests: Pick<UpstreamTest, 'codename' | 'file' | 'sig'>[], rules = CAPABILITY_RULES): CapabilityCount[] {
  const m = new Map<string, { count: number; sigs: Set<string> }>();
  for (const t of tests) {
    const c = capabilityOf(t, rules);
    const e = m.get(c) ?? { count: 0, sigs: new Set<string>() };
    e.count++;
    e.sigs.add(t.sig);
    m.set(c, e);
  }
  return [...m.entries()]
    .map(([capability, e]) => ({ capability, count: e.count, sigs: [...e.sigs].sort() }))
    .sort((a, b) => b.count - a.count || a.capability.localeCompare(b.capability));
}
