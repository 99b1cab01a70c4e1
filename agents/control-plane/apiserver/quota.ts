// ResourceQuota arithmetic (pure): what an object uses of the quota-tracked resources, a
// namespace's total, the refusal of a create that would pass spec.hard, and canonical quantities.
// The quota admission (quota-admission.ts) and the resource quota controller both use it.
import { parseQuantity } from '../../api/pod-defaults.ts';
import type { Obj } from './strategies/types.ts';
import { getOwn, setOwn } from './safe-keys.ts';
import { formatQuantity } from '../../api/quantity-format.ts';

export { canonicalQuantity, formatQuantity } from '../../api/quantity-format.ts';

export type Usage = Record<string, number>;

/** The tracked resource (plural) of each counted kind: "pods" is also "count/pods". */
export const COUNTED = ['pods', 'services', 'configmaps', 'secrets', 'replicationcontrollers', 'resourcequotas'];

const isTerminal = (p: Obj) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/** What one pod takes: its count and the sums of its containers' requests and limits. */
export function podUsage(pod: Obj): Usage {
  if (isTerminal(pod)) return {};
  const u: Usage = { pods: 1, 'count/pods': 1 };
  for (const c of pod.spec?.containers ?? []) {
    const r = c.resources ?? {};
    for (const res of ['cpu', 'memory']) {
      const req = parseQuantity(r.requests?.[res] ?? r.limits?.[res]);
      if (req !== undefined) {
        u[`requests.${res}`] = (u[`requests.${res}`] ?? 0) + req;
        u[res] = (u[res] ?? 0) + req;
      }
      const lim = parseQuantity(r.limits?.[res]);
      if (lim !== undefined) u[`limits.${res}`] = (u[`limits.${res}`] ?? 0) + lim;
    }
  }
  return u;
}

/** Usage of one object of the given plural. */
export function usageOf(plural: string, o: Obj): Usage {
  if (plural === 'pods') return podUsage(o);
  if (!COUNTED.includes(plural)) return {};
  const u: Usage = { [plural]: 1, [`count/${plural}`]: 1 };
  if (plural === 'services') {
    if (o.spec?.type === 'NodePort') u['services.nodeports'] = (o.spec.ports ?? []).length;
    if (o.spec?.type === 'LoadBalancer') u['services.loadbalancers'] = 1;
  }
  return u;
}

export function addUsage(a: Usage, b: Usage): Usage {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) setOwn(out, k, (getOwn(out, k) ?? 0) + v);
  return out;
}

/** status.used for a quota: every resource named in hard, zero when nothing uses it. */
export function usedFor(hard: Record<string, unknown>, total: Usage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(hard)) setOwn(out, k, formatQuantity(getOwn(total, k) ?? 0, k.endsWith('memory')));
  return out;
}

/** Upstream's refusal text when adding `delta` to `used` passes the quota's hard limits. */
export function exceeded(quota: Obj, used: Usage, delta: Usage): string | undefined {
  const hard: Record<string, unknown> = quota.spec?.hard ?? {};
  const d = (k: string) => getOwn(delta, k) ?? 0;
  const u = (k: string) => getOwn(used, k) ?? 0;
  const over = Object.keys(hard)
    .filter((k) => d(k) && u(k) + d(k) > (parseQuantity(hard[k]) ?? Infinity))
    .sort();
  if (!over.length) return undefined;
  const list = (f: (k: string) => string) => over.map((k) => `${k}=${f(k)}`).join(',');
  const fmt = (k: string, v: number) => formatQuantity(v, k.endsWith('memory'));
  return `exceeded quota: ${quota.metadata.name}, requested: ${list((k) => fmt(k, d(k)))}, used: ${list((k) => fmt(k, u(k)))}, limited: ${list((k) => String(hard[k]))}`;
}

const CONSTRAINED: Record<string, [string, 'requests' | 'limits']> = {
  cpu: ['cpu', 'requests'],
  memory: ['memory', 'requests'],
  'requests.cpu': ['cpu', 'requests'],
  'requests.memory': ['memory', 'requests'],
  'limits.cpu': ['cpu', 'limits'],
  'limits.memory': ['memory', 'limits'],
};

/**
 * A quota on compute resources needs every container of a new pod to state them (a request may
 * come from its limit): upstream's "must specify requests.cpu for: c1,c2; ..." refusal.
 */
export function missingCompute(quota: Obj, pod: Obj): string | undefined {
  const parts: string[] = [];
  for (const k of Object.keys(quota.spec?.hard ?? {}).sort()) {
    const c = getOwn(CONSTRAINED, k);
    if (!c) continue;
    const [res, kind] = c;
    const missing = (pod.spec?.containers ?? [])
      .filter((ct: Obj) => (kind === 'limits' ? ct.resources?.limits?.[res] : (ct.resources?.requests?.[res] ?? ct.resources?.limits?.[res])) === undefined)
      .map((ct: Obj) => ct.name);
    if (missing.length) parts.push(`${k} for: ${missing.join(',')}`);
  }
  return parts.length ? `failed quota: ${quota.metadata.name}: must specify ${parts.join('; ')}` : undefined;
}

const SIMPLE_SCOPES = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort'];

/**
 * The scopes a quota is limited to ([] for none), from spec.scopes and spec.scopeSelector; undefined
 * when it names one this server does not evaluate (PriorityClass, CrossNamespacePodAffinity, or an
 * operator other than Exists): such a quota is left alone rather than applied to the wrong objects.
 */
export function quotaScopes(q: Obj): string[] | undefined {
  const scopes: string[] = [...(q.spec?.scopes ?? [])];
  for (const e of q.spec?.scopeSelector?.matchExpressions ?? []) {
    if (e.operator !== 'Exists') return undefined;
    scopes.push(e.scopeName);
  }
  return scopes.every((s) => SIMPLE_SCOPES.includes(s)) ? scopes : undefined;
}

const bestEffort = (pod: Obj): boolean =>
  [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].every(
    (c: Obj) => !Object.keys(c.resources?.requests ?? {}).length && !Object.keys(c.resources?.limits ?? {}).length,
  );

/** Whether an object counts against a quota with these scopes: scoped quotas count pods only, as upstream. */
export function inScope(scopes: string[], plural: string, o: Obj): boolean {
  if (!scopes.length) return true;
  if (plural !== 'pods') return false;
  const terminating = typeof o.spec?.activeDeadlineSeconds === 'number';
  return scopes.every((s) => ({ Terminating: terminating, NotTerminating: !terminating, BestEffort: bestEffort(o), NotBestEffort: !bestEffort(o) })[s]);
}
