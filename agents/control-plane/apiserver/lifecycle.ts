// Pure pieces of the object lifecycle: continue tokens for paginated lists, and what a DELETE
// does to an object (remove it now, or mark it and wait for a grace period or finalizers).
import { badRequest } from './errors.ts';
import { isoNow, type Obj } from './strategies/types.ts';

export function encodeContinue(rev: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: rev, start: lastKey })).toString('base64url');
}

const INVALID_KEY = 'continue key is not valid';

/**
 * A continue token checked as upstream's storage.DecodeContinue checks it: strict unpadded
 * base64url, a JSON object of the known version, a positive start resourceVersion and a start key
 * that is already a clean path (no "..", so it cannot range outside the listed prefix). Any other
 * token is a 400 "invalid continue token".
 */
export function decodeContinue(token: string): { rv: number; start: string } {
  const fail = (why: string) => badRequest(`invalid continue token: ${why}`);
  if (!/^[A-Za-z0-9_-]*$/.test(token) || token.length % 4 === 1) throw fail(`${INVALID_KEY}: illegal base64 data`);
  let t: unknown;
  try {
    t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch (e) {
    throw fail(`${INVALID_KEY}: ${(e as Error).message}`);
  }
  if (typeof t !== 'object' || t === null || Array.isArray(t)) throw fail(`${INVALID_KEY}: json: cannot unmarshal into Go value of type storage.continueToken`);
  const { v, rv, start } = t as Record<string, unknown>;
  if (v !== 'meta.k8s.io/v1') throw fail(`${INVALID_KEY}: server does not recognize this encoded version ${typeof v === 'string' ? v : ''}`);
  if (typeof rv !== 'number' || !Number.isSafeInteger(rv) || rv <= 0)
    throw fail(`${INVALID_KEY}: incorrect encoded start resourceVersion (version meta.k8s.io/v1)`);
  if (typeof start !== 'string' || !start) throw fail(`${INVALID_KEY}: encoded start key empty (version meta.k8s.io/v1)`);
  const key = start.startsWith('/') ? start : `/${start}`;
  if (!isCleanPath(key)) throw fail(`${INVALID_KEY}: ${start}`);
  return { rv, start: key.slice(1) };
}

/** Whether Go's path.Clean would leave this absolute path as it is. */
function isCleanPath(p: string): boolean {
  if (p === '/') return true;
  if (p.endsWith('/')) return false;
  return p
    .slice(1)
    .split('/')
    .every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/** The latest time an RFC 3339 timestamp (and Go's time.MarshalJSON) can carry. */
const LAST_TIME = Date.parse('9999-12-31T23:59:59Z');

/**
 * now + grace seconds, held at year 9999: any int64 grace is a valid DeleteOption, but most of
 * them lie past what a Date holds ("Invalid time value" was a 500 for gracePeriodSeconds 1e300).
 */
function graceDeadline(now: Date, grace: number): Date {
  return new Date(Math.min(now.getTime() + grace * 1000, LAST_TIME));
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
    const sooner = graceDeadline(d.now, d.grace);
    if (sooner < new Date(m.deletionTimestamp)) m.deletionTimestamp = isoNow(sooner);
  } else if (d.grace > 0 || d.waiting) {
    m.deletionTimestamp = isoNow(graceDeadline(d.now, d.grace));
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
