// Pure pieces of the object lifecycle: continue tokens for paginated lists, and what a DELETE
// does to an object (remove it now, or mark it and wait for a grace period or finalizers).
import { badRequest } from './errors.ts';
import { isoNow, type Obj } from './strategies/types.ts';

export function encodeContinue(rev: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: rev, start: lastKey })).toString('base64url');
}

export function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof t.rv === 'number' && typeof t.start === 'string') return t;
  } catch {
    /* fall through */
  }
  throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}

export type DeletionPlan = { action: 'none' } | { action: 'remove' } | { action: 'mark'; next: Obj };

export interface DeletionInput {
  /** seconds the type wants to wait for this object (0: no wait) */
  grace: number;
  /** finalizers are still pending */
  waiting: boolean;
  now: Date;
  /** the type tracks metadata.generation */
  generation: boolean;
  prepare?: (o: Obj) => void;
}

/**
 * A first DELETE with a grace period or pending finalizers sets deletionTimestamp (now + grace)
 * and deletionGracePeriodSeconds; a later DELETE may only shorten the grace period; the object is
 * removed once the grace period is 0 and no finalizer is left.
 */
export function planDeletion(cur: Obj, d: DeletionInput): DeletionPlan {
  const next = structuredClone(cur);
  const m = next.metadata;
  if (m.deletionTimestamp) {
    const curGrace = m.deletionGracePeriodSeconds ?? 0;
    if (d.grace >= curGrace && !(curGrace === 0 && !d.waiting)) return { action: 'none' };
    m.deletionGracePeriodSeconds = d.grace;
    const sooner = new Date(d.now.getTime() + d.grace * 1000);
    if (sooner < new Date(m.deletionTimestamp)) m.deletionTimestamp = isoNow(sooner);
  } else if (d.grace > 0 || d.waiting) {
    m.deletionTimestamp = isoNow(new Date(d.now.getTime() + d.grace * 1000));
    m.deletionGracePeriodSeconds = d.grace;
    if (d.generation && m.generation) m.generation += 1;
    d.prepare?.(next);
  }
  if ((m.deletionGracePeriodSeconds ?? 0) === 0 && !d.waiting) return { action: 'remove' };
  return { action: 'mark', next };
}

export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

/**
 * The object's finalizers as a delete with this propagation policy leaves them: Orphan adds
 * "orphan", Foreground adds "foregroundDeletion", Background drops both; no policy keeps what the
 * object already asks for (upstream's default for every type served here is Background).
 */
export function withPropagationFinalizers(o: Obj, policy: 'Orphan' | 'Background' | 'Foreground' | undefined): Obj {
  if (!policy) return o;
  const kept = (o.metadata.finalizers ?? []).filter((f) => f !== ORPHAN_FINALIZER && f !== FOREGROUND_FINALIZER);
  if (policy === 'Orphan') kept.push(ORPHAN_FINALIZER);
  if (policy === 'Foreground') kept.push(FOREGROUND_FINALIZER);
  const before = o.metadata.finalizers ?? [];
  if (kept.length === before.length && kept.every((f, i) => f === before[i])) return o;
  const next = structuredClone(o);
  if (kept.length) next.metadata.finalizers = kept;
  else delete next.metadata.finalizers;
  return next;
}
