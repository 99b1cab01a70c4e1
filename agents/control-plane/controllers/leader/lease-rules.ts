// Leader election decisions on a coordination.k8s.io Lease (pure), after client-go's
// leaderelection: a lease held by someone else counts as expired only when this candidate has seen
// it unchanged for leaseDurationSeconds on its own clock, so clock skew between processes does
// not matter.

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export type Action = 'acquire' | 'renew' | 'wait';

/**
 * What a candidate may do now. `observedAt` is when it last saw the lease record change (epoch
 * ms, local clock).
 */
export function decide(spec: LeaseSpec | undefined, identity: string, observedAt: number, now: number): Action {
  if (!spec) return 'acquire';
  if (spec.holderIdentity === identity) return 'renew';
  if (!spec.holderIdentity) return 'acquire';
  const duration = (spec.leaseDurationSeconds ?? 0) * 1000;
  return observedAt + duration > now ? 'wait' : 'acquire';
}

/** Lease times are MicroTime: RFC 3339 with six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function nextSpec(spec: LeaseSpec | undefined, action: 'acquire' | 'renew', identity: string, leaseSeconds: number, now: number): LeaseSpec {
  const t = microTime(now);
  if (action === 'renew' && spec) return { ...spec, leaseDurationSeconds: leaseSeconds, renewTime: t };
  const transitions = spec?.leaseTransitions ?? 0;
  return {
    holderIdentity: identity,
    leaseDurationSeconds: leaseSeconds,
    acquireTime: t,
    renewTime: t,
    leaseTransitions: spec?.holderIdentity && spec.holderIdentity !== identity ? transitions + 1 : transitions,
  };
}

/** What a leader leaves behind when it steps down: no holder, a one-second lease (upstream ReleaseOnCancel). */
export function releasedSpec(spec: LeaseSpec | undefined, now: number): LeaseSpec {
  const t = microTime(now);
  return { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: t, renewTime: t, leaseTransitions: spec?.leaseTransitions ?? 0 };
}
