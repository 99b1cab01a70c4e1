// Authorization for the API server, assembled: static rules (cluster admins, control-plane
// components, discovery for everyone), then the Node authorizer over the pod graph, then RBAC over
// the in-memory roles and bindings, then refusal. Admission: NodeRestriction, RBAC escalation and
// ServiceAccount (pods get their ServiceAccount and its token volume), DefaultIngressClass.
import { admitIngressClass } from '../apiserver/ingress-class-admission.ts';
import { RESOURCES, storageKey } from '../apiserver/registry.ts';
import type { Store } from '../storage/types.ts';
import type { Attributes } from './attributes.ts';
import type { ApiError } from '../apiserver/errors.ts';
import { type Authorizer, UnionAuthorizer } from './authorizer.ts';
import { NodeGraph } from './graph.ts';
import { NodeAuthorizer, nodeAdmission, nodeWriteAdmission } from './node.ts';
import { podnetWriteAdmission } from './agent-identities.ts';
import { RbacAuthorizer, RbacIndex } from './rbac.ts';
import { rbacAdmission } from './rbac-admission.ts';
import { StaticRuleAuthorizer } from './rules.ts';
import type { ObjectLookup } from './sa-tokens.ts';
import { serviceAccountAdmission } from './serviceaccount-admission.ts';

export { TokenAuthenticator } from './tokens.ts';

/** Objects as stored now, by plural of the core group (what token authentication checks against). */
export function storedObjects(store: Store): ObjectLookup {
  return async (plural, namespace, name) => {
    const r = RESOURCES.find((x) => x.group === '' && x.plural === plural)!;
    const kv = await store.get(storageKey(r, namespace, name));
    return kv ? JSON.parse(kv.value) : undefined;
  };
}

export interface Authorization {
  authorizer: Authorizer;
  admit(a: Attributes, body: Record<string, any>): Promise<ApiError | undefined>;
  /** the object a write would store against the current one (undefined: an apply creates) */
  admitWrite(a: Attributes, next: Record<string, any>, cur: Record<string, any> | undefined): ApiError | undefined;
  stop(): void;
}

/** Starts the pod graph (resolves once it holds every stored pod) and returns the chain. */
export async function startAuthorization(store: Store): Promise<Authorization> {
  const pods = RESOURCES.find((r) => r.group === '' && r.plural === 'pods')!;
  const prefix = storageKey(pods, undefined);
  const graph = new NodeGraph(store, prefix);
  await graph.start();
  const source = {
    pod: async (ns: string, name: string) => {
      const kv = await store.get(storageKey(pods, ns, name));
      return kv ? JSON.parse(kv.value) : undefined;
    },
    podsIn: async (ns: string) => (await store.list(storageKey(pods, ns))).items.map((kv) => JSON.parse(kv.value)),
  };
  const rbac = new RbacIndex(store);
  await rbac.start();
  const authorizer = new UnionAuthorizer([new StaticRuleAuthorizer(), new NodeAuthorizer(graph, source), new RbacAuthorizer(rbac)]);
  const objects = storedObjects(store);
  const ingressClasses = storageKey(RESOURCES.find((r) => r.plural === 'ingressclasses')!, undefined);
  const listIngressClasses = async () => (await store.list(ingressClasses)).items.map((kv) => JSON.parse(kv.value));
  const admit = async (a: Attributes, body: Record<string, any>) => {
    await admitIngressClass(a, body, listIngressClasses);
    return nodeAdmission(a, body) ?? (await rbacAdmission(authorizer, rbac, a, body)) ?? (await serviceAccountAdmission(a, body, objects));
  };
  return {
    authorizer,
    admit,
    admitWrite: (a, next, cur) => nodeWriteAdmission(a, next, cur) ?? podnetWriteAdmission(a, next, cur),
    stop: () => {
      graph.stop();
      rbac.stop();
    },
  };
}
