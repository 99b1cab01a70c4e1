// RBAC's decisions, pure: which bindings apply to a user (upstream's appliesTo), which rules they
// grant through the roles they reference (a binding to a missing role grants nothing), whether
// one set of rules covers another (escalation prevention, upstream's validation.Covers), and the
// message upstream refuses an escalation with.
import { hasOwn } from '../apiserver/safe-keys.ts';
import type { Attributes, UserInfo } from './attributes.ts';
import type { PolicyRule } from './authorizer.ts';
import { ruleAllows, ruleList } from './rules.ts';

export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

export interface Binding {
  /** '' for a ClusterRoleBinding */
  namespace: string;
  name: string;
  roleRef: { kind: string; name: string };
  subjects: Subject[];
}

/**
 * What the authorizer reads: roles by namespace ('' for cluster roles) and name, and the bindings
 * that may apply to a user (a superset is fine: each is checked with subjectMatches).
 */
export interface RbacSnapshot {
  role(namespace: string, name: string): PolicyRule[] | undefined;
  clusterBindings(user: UserInfo): Iterable<Binding>;
  bindingsIn(namespace: string, user: UserInfo): Iterable<Binding>;
}

/** The index keys a subject is found under ("u:<user name>" for users and service accounts, "g:<group>"). */
export function subjectKey(s: Subject, bindingNamespace: string): string | undefined {
  switch (str(s, 'kind')) {
    case 'User':
      return `u:${str(s, 'name')}`;
    case 'Group':
      return `g:${str(s, 'name')}`;
    case 'ServiceAccount':
      return `u:system:serviceaccount:${str(s, 'namespace') || bindingNamespace}:${str(s, 'name')}`;
  }
  return undefined;
}

/** The keys under which the bindings applying to a user are indexed. */
export function userKeys(user: UserInfo): string[] {
  return [`u:${user.name}`, ...user.groups.map((g) => `g:${g}`)];
}

const str = (o: object, k: string): string => {
  const v: unknown = hasOwn(o, k) ? (o as Record<string, unknown>)[k] : undefined;
  return typeof v === 'string' ? v : '';
};

/** upstream appliesToUser: a ServiceAccount subject without namespace is in the binding's namespace */
export function subjectMatches(s: Subject, user: UserInfo, bindingNamespace: string): boolean {
  switch (str(s, 'kind')) {
    case 'User':
      return user.name === str(s, 'name');
    case 'Group':
      return user.groups.includes(str(s, 'name'));
    case 'ServiceAccount':
      return user.name === `system:serviceaccount:${str(s, 'namespace') || bindingNamespace}:${str(s, 'name')}`;
  }
  return false;
}

function bindingRules(snap: RbacSnapshot, b: Binding): PolicyRule[] {
  return snap.role(b.roleRef.kind === 'Role' ? b.namespace : '', b.roleRef.name) ?? [];
}

/** Every binding applying to the user at cluster scope and (if given) in the namespace. */
function* applying(snap: RbacSnapshot, user: UserInfo, namespace: string): Iterable<Binding> {
  for (const b of snap.clusterBindings(user)) if (b.subjects.some((s) => subjectMatches(s, user, ''))) yield b;
  if (!namespace) return;
  for (const b of snap.bindingsIn(namespace, user)) if (b.subjects.some((s) => subjectMatches(s, user, namespace))) yield b;
}

/** The rules RBAC grants the user in a namespace ('' = cluster-scoped bindings only). */
export function rbacRules(snap: RbacSnapshot, user: UserInfo, namespace: string): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const b of applying(snap, user, namespace)) out.push(...bindingRules(snap, b));
  return out;
}

/** Whether some applicable binding's role allows the request (stops at the first that does). */
export function rbacAllows(snap: RbacSnapshot, a: Attributes): boolean {
  for (const b of applying(snap, a.user, a.namespace)) if (bindingRules(snap, b).some((r) => ruleAllows(r, a))) return true;
  return false;
}

/** One verb on one group/resource(/name), or one verb on one URL: upstream's BreakdownRule. */
function breakdown(r: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  const verbs = ruleList(r, 'verbs') ?? [];
  for (const verb of verbs) {
    for (const url of ruleList(r, 'nonResourceURLs') ?? []) out.push({ verbs: [verb], nonResourceURLs: [url] });
    for (const group of ruleList(r, 'apiGroups') ?? [])
      for (const resource of ruleList(r, 'resources') ?? []) {
        const names = ruleList(r, 'resourceNames') ?? [];
        if (!names.length) out.push({ verbs: [verb], apiGroups: [group], resources: [resource] });
        for (const name of names) out.push({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [name] });
      }
  }
  return out;
}

const has = (list: string[] | undefined, v: string) => !!list && (list.includes('*') || list.includes(v));

/** Whether owner covers one broken-down rule (upstream ruleCovers). */
function covers(owner: PolicyRule, atom: PolicyRule): boolean {
  const verb = atom.verbs[0];
  if (!has(ruleList(owner, 'verbs'), verb)) return false;
  if (atom.nonResourceURLs) {
    const url = atom.nonResourceURLs[0];
    return (ruleList(owner, 'nonResourceURLs') ?? []).some((p) => p === '*' || p === url || (p.endsWith('*') && url.startsWith(p.slice(0, -1))));
  }
  if (!has(ruleList(owner, 'apiGroups'), atom.apiGroups![0])) return false;
  const resource = atom.resources![0];
  const sub = resource.includes('/') ? resource.slice(resource.indexOf('/')) : '';
  const resources = ruleList(owner, 'resources') ?? [];
  if (!resources.some((x) => x === '*' || x === resource || (sub && x === `*${sub}`))) return false;
  const names = ruleList(owner, 'resourceNames') ?? [];
  return !names.length || (!!atom.resourceNames && names.includes(atom.resourceNames[0]));
}

/** The parts of `wanted` none of `owned` covers, merged per group/resource/name (empty: covered). */
export function uncovered(owned: PolicyRule[], wanted: PolicyRule[]): PolicyRule[] {
  const merged = new Map<string, PolicyRule>();
  for (const r of wanted)
    for (const atom of breakdown(r)) {
      if (owned.some((o) => covers(o, atom))) continue;
      const key = JSON.stringify([atom.apiGroups, atom.resources, atom.resourceNames, atom.nonResourceURLs]);
      const m = merged.get(key);
      if (m) {
        if (!m.verbs.includes(atom.verbs[0])) m.verbs.push(atom.verbs[0]);
      } else merged.set(key, { ...atom, verbs: [...atom.verbs] });
    }
  return [...merged.values()];
}

const goQuoted = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;

/** upstream PolicyRule CompactString: {APIGroups:["" ], Resources:["pods"], Verbs:["create"]} */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  const add = (label: string, v: string[] | undefined) => {
    if (v?.length) parts.push(`${label}:${goQuoted(v)}`);
  };
  if (r.apiGroups) parts.push(`APIGroups:${goQuoted(r.apiGroups)}`);
  add('Resources', r.resources);
  add('ResourceNames', r.resourceNames);
  add('NonResourceURLs', r.nonResourceURLs);
  add('Verbs', r.verbs);
  return `{${parts.join(', ')}}`;
}

/** upstream's escalation refusal text (after '<resource> "<name>" is forbidden: ') */
export function escalationMessage(user: UserInfo, missing: PolicyRule[]): string {
  const lines = missing.map(compactString).sort();
  return `user ${JSON.stringify(user.name)} (groups=${goQuoted(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${lines.join('\n')}`;
}
