// Pure helpers every workload controller shares: owner references, selectors, pod states
// (active, ready, available) and the template hash that names ReplicaSets and revisions.
import { fromLabelSelector, matchLabels } from '../../apiserver/selectors.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import { canon } from '../../apiserver/validation/pod.ts';

export type Any = Record<string, any>;

export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** The ownerReference a controller puts on what it creates (controller=true, blocking). */
export function controllerRefTo(owner: Obj, apiVersion: string, kind: string): OwnerRef {
  return { apiVersion, kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

export function controllerOf(o: Obj): OwnerRef | undefined {
  return (o.metadata.ownerReferences as OwnerRef[] | undefined)?.find((r) => r.controller);
}

export function isControlledBy(o: Obj, owner: Obj): boolean {
  return controllerOf(o)?.uid === owner.metadata.uid;
}

/** A labelSelector as a predicate; an empty or missing selector matches nothing, as for controllers. */
export function selectorMatcher(sel: Any | undefined): (labels: Record<string, string> | undefined) => boolean {
  if (!sel || (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length)) return () => false;
  try {
    const reqs = fromLabelSelector(sel);
    return (labels) => matchLabels(reqs, labels ?? {});
  } catch {
    return () => false;
  }
}

const ms = (t: string | undefined) => (t ? Date.parse(t) || 0 : 0);

export const isTerminal = (p: Obj) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
/** Counted toward a controller's replicas: not finished and not being deleted. */
export const isActive = (p: Obj) => !isTerminal(p) && !p.metadata.deletionTimestamp;

export function readyCondition(p: Obj): Any | undefined {
  return (p.status?.conditions ?? []).find((c: Any) => c.type === 'Ready');
}

export const isReady = (p: Obj) => readyCondition(p)?.status === 'True';

/** Ready for at least minReadySeconds at `now` (epoch ms). */
export function isAvailable(p: Obj, minReadySeconds: number, now: number): boolean {
  if (!isReady(p)) return false;
  if (!minReadySeconds) return true;
  const since = ms(readyCondition(p)?.lastTransitionTime);
  return since > 0 && since + minReadySeconds * 1000 <= now;
}

export const creationMs = (o: Obj) => ms(o.metadata.creationTimestamp);
export const timeMs = ms;

/** Oldest first, then by name, as upstream sorts controllers by creation. */
export function byCreation(a: Obj, b: Obj): number {
  return creationMs(a) - creationMs(b) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-1a 32-bit. */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * A short, label-safe hash of a pod template (and collision count): upstream hashes the template
 * with FNV-32a and spells the decimal digits in a vowel-free alphabet; so does this.
 */
export function templateHash(template: unknown, collisionCount?: number): string {
  const text = JSON.stringify(canon(template ?? {})) + (collisionCount ? `/${collisionCount}` : '');
  return [...String(fnv32a(text))].map((d) => SAFE[d.charCodeAt(0) % SAFE.length]).join('');
}

/** Template equality that ignores the given label (pod-template-hash) and undefined fields. */
export function sameTemplate(a: Any | undefined, b: Any | undefined, ignoreLabel: string): boolean {
  const strip = (t: Any | undefined) => {
    const c = structuredClone(t ?? {});
    if (c.metadata?.labels) {
      delete c.metadata.labels[ignoreLabel];
      if (!Object.keys(c.metadata.labels).length) delete c.metadata.labels;
    }
    if (c.metadata && !Object.keys(c.metadata).length) delete c.metadata;
    return JSON.stringify(canon(c));
  };
  return strip(a) === strip(b);
}

/** An int-or-percent field against a total (upstream GetScaledValueFromIntOrPercent). */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean, dflt: number | string): number {
  const x = v ?? dflt;
  if (typeof x === 'number') return x;
  const m = /^(\d+)%$/.exec(x);
  if (!m) {
    const n = Number(x);
    if (Number.isInteger(n)) return n;
    throw new Error(`invalid value for IntOrString: ${x}`);
  }
  const f = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(f) : Math.floor(f);
}
