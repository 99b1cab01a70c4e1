// Reconciles upstream's default roles and bindings at start, as kube-apiserver's RBAC post-start
// hook does: a missing one is created; an existing one annotated autoupdate (the default) gains
// the rules, aggregation selectors and subjects it lacks; nothing the user added is removed, and
// one annotated rbac.authorization.kubernetes.io/autoupdate: "false" is left alone.
import type { Obj } from '../apiserver/strategies/types.ts';
import type { LoopbackClient } from '../client/loopback.ts';
import { CLUSTER_ROLE_BINDINGS, CLUSTER_ROLES, NAMESPACED_ROLES } from './bootstrap-policy.ts';

const RBAC = 'rbac.authorization.k8s.io';
const API = `/apis/${RBAC}/v1`;
export const AUTOUPDATE = 'rbac.authorization.kubernetes.io/autoupdate';

function meta(name: string, labels?: Record<string, string>) {
  return { name, annotations: { [AUTOUPDATE]: 'true' }, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults', ...(labels ?? {}) } };
}

/** JSON with object keys sorted, so that stored and wanted members compare by content. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null)
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** The list with the wanted members it lacks appended. */
function union<T>(have: unknown, want: T[]): { list: T[]; changed: boolean } {
  const list = Array.isArray(have) ? [...(have as T[])] : [];
  const seen = new Set(list.map(canonical));
  let changed = false;
  for (const w of want)
    if (!seen.has(canonical(w))) {
      list.push(w);
      changed = true;
    }
  return { list, changed };
}

export function desiredObjects(): { path: string; obj: Obj; merge: (cur: Obj) => Obj | undefined }[] {
  const roles = CLUSTER_ROLES.map((r) => {
    const aggregationRule = r.aggregateFrom ? { clusterRoleSelectors: r.aggregateFrom.map((matchLabels) => ({ matchLabels })) } : undefined;
    const obj: Obj = {
      apiVersion: `${RBAC}/v1`,
      kind: 'ClusterRole',
      metadata: meta(r.name, r.labels),
      rules: r.rules,
      ...(aggregationRule ? { aggregationRule } : {}),
    };
    const merge = (cur: Obj): Obj | undefined => {
      if (aggregationRule) {
        const sel = union(cur.aggregationRule?.clusterRoleSelectors, aggregationRule.clusterRoleSelectors);
        return sel.changed ? { ...cur, aggregationRule: { clusterRoleSelectors: sel.list } } : undefined;
      }
      const rules = union(cur.rules, r.rules);
      return rules.changed ? { ...cur, rules: rules.list } : undefined;
    };
    return { path: `${API}/clusterroles`, obj, merge };
  });
  const bindings = CLUSTER_ROLE_BINDINGS.map((b) => {
    const subjects = b.subjects.map((s) => ({ apiGroup: RBAC, kind: s.kind, name: s.name }));
    const obj: Obj = {
      apiVersion: `${RBAC}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: meta(b.name),
      roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: b.role },
      subjects,
    };
    const merge = (cur: Obj): Obj | undefined => {
      const s = union(cur.subjects, subjects);
      return s.changed ? { ...cur, subjects: s.list } : undefined;
    };
    return { path: `${API}/clusterrolebindings`, obj, merge };
  });
  const namespaced = NAMESPACED_ROLES.map((r) => {
    const obj: Obj = { apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { ...meta(r.name), namespace: r.namespace }, rules: r.rules };
    const merge = (cur: Obj): Obj | undefined => {
      const rules = union(cur.rules, r.rules);
      return rules.changed ? { ...cur, rules: rules.list } : undefined;
    };
    return { path: `${API}/namespaces/${r.namespace}/roles`, obj, merge };
  });
  return [...roles, ...bindings, ...namespaced];
}

export async function reconcileBootstrapPolicy(client: LoopbackClient): Promise<void> {
  for (const d of desiredObjects()) {
    const name = d.obj.metadata.name;
    const cur = await client.get(`${d.path}/${name}`).catch((e: unknown) => {
      if ((e as { code?: number }).code === 404) return undefined;
      throw e;
    });
    if (!cur) {
      await client.create(d.path, d.obj);
      continue;
    }
    if (cur.metadata.annotations?.[AUTOUPDATE] === 'false') continue;
    const next = d.merge(cur);
    if (next) await client.update(`${d.path}/${name}`, next);
  }
}
