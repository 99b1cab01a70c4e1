// The RBAC authorizer: allows what the Roles and ClusterRoles bound to the requester allow. Roles
// and bindings are mirrored in memory from the store (list, then watch; relist when history was
// compacted), as upstream resolves them from informers, so an authorization never reads the store.
import { getOwn } from '../apiserver/safe-keys.ts';
import type { Store } from '../storage/types.ts';
import { CompactedError } from '../storage/types.ts';
import type { Attributes, UserInfo } from './attributes.ts';
import { ALLOW, type Authorizer, type Decision, NO_OPINION, type PolicyRule, type RuleSet } from './authorizer.ts';
import { type Binding, type RbacSnapshot, rbacAllows, rbacRules, type Subject } from './rbac-rules.ts';

export const RBAC_PREFIX = '/registry/rbac.authorization.k8s.io/';

type Stored = Record<string, unknown>;

const array = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (o: unknown, k: string): string => {
  const v = typeof o === 'object' && o !== null ? getOwn(o as Record<string, unknown>, k) : undefined;
  return typeof v === 'string' ? v : '';
};
const strings = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);

/** A stored rule as a PolicyRule of own, string-only members. */
function toRule(r: unknown): PolicyRule {
  const o = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
  const out: PolicyRule = { verbs: strings(getOwn(o, 'verbs')) ?? [] };
  for (const k of ['apiGroups', 'resources', 'resourceNames', 'nonResourceURLs'] as const) {
    const v = strings(getOwn(o, k));
    if (v) out[k] = v;
  }
  return out;
}

function toBinding(namespace: string, name: string, o: Stored): Binding {
  const ref = getOwn(o, 'roleRef');
  const subjects: Subject[] = array(getOwn(o, 'subjects')).map((s) => ({ kind: text(s, 'kind'), name: text(s, 'name'), namespace: text(s, 'namespace') }));
  return { namespace, name, roleRef: { kind: text(ref, 'kind'), name: text(ref, 'name') }, subjects };
}

/** The in-memory roles and bindings, kept from the store's rbac history. */
export class RbacIndex implements RbacSnapshot {
  private readonly roles = new Map<string, PolicyRule[]>();
  private readonly clusterBinds = new Map<string, Binding>();
  private readonly nsBinds = new Map<string, Map<string, Binding>>();
  private readonly keys = new Set<string>();
  private revision = 0;
  private stopped = false;
  private watch: { close(): void } | undefined;

  constructor(private readonly store: Store) {}

  async start(): Promise<void> {
    await this.relist();
    void this.follow();
  }

  stop(): void {
    this.stopped = true;
    this.watch?.close();
  }

  role(namespace: string, name: string): PolicyRule[] | undefined {
    return this.roles.get(`${namespace}/${name}`);
  }

  clusterBindings(): Iterable<Binding> {
    return this.clusterBinds.values();
  }

  bindingsIn(namespace: string): Iterable<Binding> {
    return this.nsBinds.get(namespace)?.values() ?? [];
  }

  private async relist(): Promise<void> {
    const l = await this.store.list(RBAC_PREFIX);
    for (const k of [...this.keys]) this.set(k, undefined);
    for (const kv of l.items) this.set(kv.key, JSON.parse(kv.value) as Stored);
    if (l.revision > this.revision) this.revision = l.revision;
  }

  private async follow(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const w = this.store.watch(RBAC_PREFIX, this.revision);
        this.watch = w;
        for await (const ev of w) {
          this.set(ev.kv.key, ev.type === 'delete' ? undefined : (JSON.parse(ev.kv.value) as Stored));
          if (ev.revision > this.revision) this.revision = ev.revision;
        }
      } catch (e) {
        if (!(e instanceof CompactedError) && attempt > 0) await new Promise((r) => setTimeout(r, Math.min(5000, 100 * attempt)));
      }
      if (this.stopped) return;
      await this.relist().catch(() => undefined);
    }
  }

  /** key: <prefix><plural>/[<ns>/]<name> */
  private set(key: string, obj: Stored | undefined): void {
    const [plural, ...rest] = key.slice(RBAC_PREFIX.length).split('/');
    const name = rest.pop() ?? '';
    const ns = rest[0] ?? '';
    if (obj) this.keys.add(key);
    else this.keys.delete(key);
    switch (plural) {
      case 'roles':
      case 'clusterroles':
        if (obj) this.roles.set(`${ns}/${name}`, array(getOwn(obj, 'rules')).map(toRule));
        else this.roles.delete(`${ns}/${name}`);
        return;
      case 'clusterrolebindings':
        if (obj) this.clusterBinds.set(name, toBinding('', name, obj));
        else this.clusterBinds.delete(name);
        return;
      case 'rolebindings': {
        let m = this.nsBinds.get(ns);
        if (!m) this.nsBinds.set(ns, (m = new Map()));
        if (obj) m.set(name, toBinding(ns, name, obj));
        else if (m.delete(name) && !m.size) this.nsBinds.delete(ns);
      }
    }
  }
}

export class RbacAuthorizer implements Authorizer {
  constructor(private readonly snap: RbacSnapshot) {}

  authorize(a: Attributes): Decision {
    return rbacAllows(this.snap, a) ? ALLOW : NO_OPINION;
  }

  rulesFor(user: UserInfo, namespace: string): RuleSet {
    return { rules: rbacRules(this.snap, user, namespace), incomplete: false };
  }
}
