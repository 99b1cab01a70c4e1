// The Node authorizer with the NodeRestriction admission rules folded in: a kubelet (user
// system:node:<name> in group system:nodes) may manage its own Node and Lease, the pods bound to
// it (status, graceful deletion, mirror pods), read the secrets, configmaps, service accounts and
// claims those pods use, post events, and read what every node needs (nodes, services,
// endpoints, endpointslices). Anything else about other nodes' objects is a 403 with upstream's
// wording. Relationships come from the in-memory graph; a miss is checked against the store
// before it is refused, so a pod bound a moment ago is never refused for lagging state.
import type { ApiError } from '../apiserver/errors.ts';
import { getOwn } from '../apiserver/safe-keys.ts';
import type { Attributes, UserInfo } from './attributes.ts';
import { ALLOW, type Authorizer, type Decision, forbiddenFor, NO_OPINION, type PolicyRule, type RuleSet } from './authorizer.ts';
import { type NodeGraph, podReferences, type RefKind } from './graph.ts';
import { nodeView } from './node-view.ts';
import { forbiddenNodeLabels } from './node-labels.ts';
import { canon } from '../apiserver/validation/pod.ts';
import { LOCAL_PATH_CLEANUP, localPathNode } from '../controllers/storage/local-path-rules.ts';

export const NODES_GROUP = 'system:nodes';
export const NODE_USER_PREFIX = 'system:node:';
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

const READ = ['get', 'list', 'watch'];
const REF_KINDS = new Set<string>(['secrets', 'configmaps', 'serviceaccounts', 'persistentvolumeclaims']);

/** The node a user is the kubelet of, if it is one. */
export function nodeNameOf(u: UserInfo): string | undefined {
  if (!u.groups.includes(NODES_GROUP) || !u.name.startsWith(NODE_USER_PREFIX)) return undefined;
  return u.name.slice(NODE_USER_PREFIX.length) || undefined;
}

/** A denial may carry the complete 403 (admission-style wording rather than "cannot verb ..."). */
type NodeDecision = Decision;

interface PodSource {
  /** a pod as stored now */
  pod(namespace: string, name: string): Promise<{ metadata: { name?: string; namespace?: string }; spec?: any } | undefined>;
  /** every pod of a namespace as stored now */
  podsIn(namespace: string): Promise<{ metadata: { name?: string; namespace?: string }; spec?: any }[]>;
}

const noRelation = (node: string) => `no relationship found between node '${node}' and this object`;

export class NodeAuthorizer implements Authorizer {
  constructor(
    private readonly graph: NodeGraph,
    private readonly pods: PodSource,
  ) {}

  async authorize(a: Attributes): Promise<NodeDecision> {
    const node = nodeNameOf(a.user);
    if (!node || !a.resourceRequest) return NO_OPINION;
    const g = a.apiGroup;
    if (g === '' && a.resource === 'nodes') return this.nodes(a, node);
    if (g === 'coordination.k8s.io' && a.resource === 'leases') return this.leases(a, node);
    if (g === '' && a.resource === 'pods') return this.podAccess(a, node);
    if ((g === '' || g === 'events.k8s.io') && a.resource === 'events') return ['create', 'update', 'patch'].includes(a.verb) ? ALLOW : NO_OPINION;
    if (READ.includes(a.verb) && !a.subresource) {
      if (g === '' && (a.resource === 'services' || a.resource === 'endpoints')) return ALLOW;
      if (g === 'discovery.k8s.io' && a.resource === 'endpointslices') return ALLOW;
    }
    if (g === '' && REF_KINDS.has(a.resource) && !a.subresource && READ.includes(a.verb)) return this.referenced(a, node, a.resource as RefKind);
    // the kubelet reads volumes to mount them and finishes the cleanup of its local-path volumes;
    // what it may change is checked against the stored volume (nodeWriteAdmission)
    if (g === '' && a.resource === 'persistentvolumes' && !a.subresource && [...READ, 'update', 'patch'].includes(a.verb)) return ALLOW;
    // tokens for the service accounts of its pods (token-request.ts checks the pod binding)
    if (g === '' && a.resource === 'serviceaccounts' && a.subresource === 'token' && a.verb === 'create') return this.referenced(a, node, 'serviceaccounts');
    return NO_OPINION;
  }

  private nodes(a: Attributes, node: string): NodeDecision {
    if (READ.includes(a.verb) && (a.subresource === '' || a.subresource === 'status')) return ALLOW;
    if (a.verb === 'create' && !a.subresource) return ALLOW; // the body's name is checked at admission
    if (['update', 'patch', 'delete'].includes(a.verb) && (a.subresource === '' || a.subresource === 'status')) {
      if (a.name === node) return ALLOW;
      return { decision: 'deny', error: forbiddenFor(a, `node "${node}" is not allowed to modify node "${a.name}"`) };
    }
    return NO_OPINION;
  }

  private leases(a: Attributes, node: string): NodeDecision {
    if (a.namespace !== NODE_LEASE_NAMESPACE || a.subresource) return NO_OPINION;
    if (a.verb === 'create') return ALLOW; // the body's name is checked at admission
    if (!['get', 'update', 'patch', 'delete'].includes(a.verb)) return NO_OPINION;
    if (a.name === node) return ALLOW;
    return { decision: 'deny', error: forbiddenFor(a, 'can only access node lease with the same name as the requesting node') };
  }

  private async podAccess(a: Attributes, node: string): Promise<NodeDecision> {
    const sub = a.subresource;
    if ((a.verb === 'list' || a.verb === 'watch') && !sub) {
      if (a.nodeNameSelector === node) return ALLOW;
      if (a.name && (await this.podOn(node, a.namespace, a.name))) return ALLOW;
      return { decision: 'noOpinion', reason: `node '${node}' can only list and watch pods with fieldSelector spec.nodeName=${node}` };
    }
    if (a.verb === 'create' && !sub) return ALLOW; // mirror pods only: checked at admission
    const allowed =
      (a.verb === 'get' && (sub === '' || sub === 'status')) ||
      (a.verb === 'delete' && sub === '') ||
      (['update', 'patch'].includes(a.verb) && sub === 'status') ||
      (a.verb === 'create' && sub === 'eviction');
    if (!allowed) {
      if (['update', 'patch'].includes(a.verb) && sub === '') return { decision: 'deny', error: forbiddenFor(a, `node "${node}" can only update pod status`) };
      return NO_OPINION;
    }
    if (await this.podOn(node, a.namespace, a.name)) return ALLOW;
    return { decision: 'deny', reason: noRelation(node) };
  }

  private async podOn(node: string, ns: string, name: string): Promise<boolean> {
    if (this.graph.nodeOfPod(ns, name) === node) return true;
    return (await this.pods.pod(ns, name))?.spec?.nodeName === node;
  }

  private async referenced(a: Attributes, node: string, kind: RefKind): Promise<NodeDecision> {
    // a collection read: only what this node's pods use is served (see node-view.ts)
    if (!a.name) return { decision: 'allow', view: nodeView(this.graph, node, kind) };
    if (!a.namespace) return { decision: 'deny', reason: noRelation(node) };
    if (this.graph.related(node, kind, a.namespace, a.name)) return ALLOW;
    const pods = await this.pods.podsIn(a.namespace);
    const used = pods.some((p) => p.spec?.nodeName === node && podReferences(p).some((r) => r.kind === kind && r.name === a.name));
    return used ? ALLOW : { decision: 'deny', reason: noRelation(node) };
  }

  rulesFor(user: UserInfo): RuleSet | undefined {
    if (!nodeNameOf(user)) return undefined;
    const node = nodeNameOf(user)!;
    const rules: PolicyRule[] = [
      { verbs: READ, apiGroups: [''], resources: ['nodes', 'nodes/status', 'services', 'endpoints'] },
      { verbs: READ, apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'] },
      { verbs: ['create'], apiGroups: [''], resources: ['nodes', 'pods'] },
      { verbs: ['update', 'patch', 'delete'], apiGroups: [''], resources: ['nodes', 'nodes/status'], resourceNames: [node] },
      { verbs: ['create', 'update', 'patch'], apiGroups: ['', 'events.k8s.io'], resources: ['events'] },
      { verbs: ['create'], apiGroups: ['coordination.k8s.io'], resources: ['leases'] },
      { verbs: ['get', 'update', 'patch', 'delete'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [node] },
    ];
    // pods, secrets, configmaps ... depend on what is bound to the node: not listable as rules
    return { rules, incomplete: true };
  }
}

interface AdmittedObject {
  metadata?: { name?: string; annotations?: Record<string, string>; labels?: Record<string, string>; finalizers?: string[] };
  spec?: any;
}

/**
 * NodeRestriction on create bodies: a kubelet creates only its own Node (without restricted
 * labels or a configSource), its Lease and mirror pods.
 */
export function nodeAdmission(a: Attributes, body: AdmittedObject): ApiError | undefined {
  const node = nodeNameOf(a.user);
  if (!node || a.verb !== 'create' || a.subresource) return undefined;
  const name = body.metadata?.name ?? '';
  const named = { ...a, name };
  if (a.apiGroup === '' && a.resource === 'nodes') {
    if (name !== node) return forbiddenFor(named, `node "${node}" is not allowed to modify node "${name}"`);
    if (body.spec?.configSource) return forbiddenFor(named, `node "${node}" is not allowed to create pods with a non-nil configSource`);
    const labels = forbiddenNodeLabels(body.metadata?.labels, undefined);
    if (labels.length) return forbiddenFor(named, `node "${node}" is not allowed to set the following labels: ${labels.join(', ')}`);
  }
  if (a.apiGroup === 'coordination.k8s.io' && a.resource === 'leases' && name !== node)
    return forbiddenFor(named, 'can only access node lease with the same name as the requesting node');
  if (a.apiGroup === '' && a.resource === 'pods') {
    const annotations = body.metadata?.annotations;
    if (!annotations || !getOwn(annotations, MIRROR_ANNOTATION))
      return forbiddenFor(named, `pod does not have "${MIRROR_ANNOTATION}" annotation, node "${node}" can only create mirror pods`);
    if (body.spec?.nodeName !== node) return forbiddenFor(named, `node "${node}" can only create pods with spec.nodeName set to itself`);
    for (const r of podReferences(body)) {
      if (r.kind === 'serviceaccounts') continue;
      const what = r.kind === 'persistentvolumeclaims' ? 'persistentvolumeclaims' : r.kind;
      return forbiddenFor(named, `node "${node}" can not create pods that reference ${what}`);
    }
  }
  return undefined;
}

/**
 * NodeRestriction on the object a write would store (update, every patch type, apply; `cur`
 * undefined when an apply creates): a kubelet may not touch restricted labels, its taints or a
 * set configSource of its own Node. A status write keeps the stored spec, so only labels count there.
 */
export function nodeWriteAdmission(a: Attributes, next: AdmittedObject, cur: AdmittedObject | undefined): ApiError | undefined {
  const node = nodeNameOf(a.user);
  if (node && a.apiGroup === '' && a.resource === 'persistentvolumes') return localPathCleanupOnly(a, node, next, cur);
  if (!node || a.apiGroup !== '' || a.resource !== 'nodes') return undefined;
  if (!cur) return nodeAdmission({ ...a, verb: 'create', subresource: '' }, next);
  if (a.subresource !== 'status') {
    if (next.spec?.configSource && !sameJSON(next.spec.configSource, cur.spec?.configSource))
      return forbiddenFor(a, `node "${node}" is not allowed to update configSource to a new non-nil configSource`);
    if (!sameJSON(next.spec?.taints ?? [], cur.spec?.taints ?? [])) return forbiddenFor(a, `node "${node}" is not allowed to modify taints`);
  }
  const labels = forbiddenNodeLabels(next.metadata?.labels, cur.metadata?.labels);
  if (labels.length) return forbiddenFor(a, `is not allowed to modify labels: ${labels.join(', ')}`);
  return undefined;
}

const sameJSON = (x: unknown, y: unknown): boolean => JSON.stringify(canon(x)) === JSON.stringify(canon(y));

/** A node may only drop the local-path cleanup finalizer of a volume on itself, and change nothing else. */
function localPathCleanupOnly(a: Attributes, node: string, next: AdmittedObject, cur: AdmittedObject | undefined): ApiError | undefined {
  const deny = forbiddenFor(a, `node "${node}" may only remove the ${LOCAL_PATH_CLEANUP} finalizer of its own local-path volumes`);
  if (!cur || localPathNode(cur) !== node) return deny;
  const strip = (o: AdmittedObject) => ({
    ...o,
    metadata: {
      ...o.metadata,
      resourceVersion: undefined,
      managedFields: undefined,
      finalizers: (o.metadata?.finalizers ?? []).filter((f) => f !== LOCAL_PATH_CLEANUP),
    },
  });
  return sameJSON(strip(next), strip(cur)) ? undefined : deny;
}
