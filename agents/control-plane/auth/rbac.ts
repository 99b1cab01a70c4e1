// The RBAC authorizer: allows what the Roles and ClusterRoles bound to the requester allow. Roles
// and bindings are mirrored in memory from the store (list, then watch; relist when history was
// compacted), as upstream resolves them from informers, so an authorization never reads the store.
import { getOwn } from '../apiserver/safe-keys.ts';
import type { Store } from '../storage/types.ts';
import { CompactedError } from '../storage/types.ts';
import type { Attributes, UserInfo } from './attributes.ts';
import { ALLOW, type Authorizer, type Decision, NO_OPINION, type PolicyRule, type RuleSet } from './authorizer.ts';
import { type Binding, type RbacSnapshot, rbacAllows, rbacRules, type Subject, subjectKey, userKeys } from './rbac-rules.ts';

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
  /** binding key ("<ns>/<name>", "/<name>" for cluster bindings) -> binding */
  private readonly bindings = new Map<string, Binding>();
  /** "<ns>|<subject key>" -> the bindings naming that subject, so a user's lookup is a few map reads */
  private readonly bySubject = new Map<string, Set<Binding>>();
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

  clusterBindings(user: UserInfo): Iterable<Binding> {
    return this.lookup('', user);
  }

  bindingsIn(namespace: string, user: UserInfo): Iterable<Binding> {
    return this.lookup(namespace, user);
  }

  private lookup(namespace: string, user: UserInfo): Set<Binding> {
    const out = new Set<Binding>();
    for (const k of userKeys(user)) for (const b of this.bySubject.get(`${namespace}|${k}`) ?? []) out.add(b);
    return out;
  }

  private setBinding(namespace: string, name: string, b: Binding | undefined): void {
    const key = `${namespace}/${name}`;
    const keysOf = (x: Binding) => x.subjects.map((s) => subjectKey(s, namespace)).filter((k): k is string => !!k);
    const old = this.bindings.get(key);
    if (old)
      for (const k of keysOf(old)) {
        const set = this.bySubject.get(`${namespace}|${k}`);
        if (set?.delete(old) && !set.size) this.bySubject.delete(`${namespace}|${k}`);
      }
    if (!b) {
      this.bindings.delete(key);
      return;
    }
    this.bindings.set(key, b);
    for (const k of keysOf(b)) {
      let set = this.bySubject.get(`${namespace}|${k}`);
      if (!set) this.bySubject.set(`${namespace}|${k}`, (set = new Set()));
      set.add(b);
    }
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
      case 'rolebindings':
        this.setBinding(ns, name, obj ? toBinding(ns, name, obj) : undefined);
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
