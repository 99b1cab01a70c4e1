// How long a requested service-account token lives, as kube-apiserver decides it:
// --service-account-max-token-expiration caps every request (with a warning saying so), and
// --service-account-extend-token-expiration (default on) gives the kubelet's 3607 s request for a
// pod-bound token of the API server's own audience a year-long token that warns after 3607 s, so
// that clients which never reload their token keep working. A request capped below 3607 s is not
// extended. Pure.
import { parseDuration } from '../../kubelet/options.ts';

export const WARN_ONLY_EXPIRATION_SECONDS = 3607;
export const EXTENDED_EXPIRATION_SECONDS = 365 * 24 * 3600;

const HOUR = 3600;
const MAX_SECONDS = 2 ** 32;

export interface ExpirationPolicy {
  /** 0: no cap */
  maxSeconds: number;
  extend: boolean;
}

export const DEFAULT_EXPIRATION_POLICY: ExpirationPolicy = { maxSeconds: 0, extend: true };

/** --service-account-max-token-expiration as a Go duration ('' or '0': no cap); upstream's bounds. */
export function parseMaxExpiration(v: string | undefined): number {
  if (!v || v === '0') return 0;
  const seconds = Math.floor(parseDuration(v) / 1000);
  if (seconds < HOUR || seconds > MAX_SECONDS) throw new Error('the service-account-max-token-expiration must be between 1 hour and 2^32 seconds');
  return seconds;
}

export interface Lifetime {
  /** what the response's spec.expirationSeconds says (after the cap) */
  expirationSeconds: number;
  /** how long the token itself lives */
  lifetimeSeconds: number;
  warnAfterSeconds?: number;
  warnings: string[];
}

export function tokenLifetime(p: ExpirationPolicy, requested: number, o: { podBound: boolean; ownAudiences: boolean }): Lifetime {
  const warnings: string[] = [];
  let exp = requested;
  if (p.maxSeconds > 0 && exp > p.maxSeconds) {
    warnings.push(`requested expiration of ${exp} seconds shortened to ${p.maxSeconds} seconds`);
    exp = p.maxSeconds;
  }
  if (p.extend && o.podBound && o.ownAudiences && exp === WARN_ONLY_EXPIRATION_SECONDS)
    return { expirationSeconds: exp, lifetimeSeconds: EXTENDED_EXPIRATION_SECONDS, warnAfterSeconds: exp, warnings };
  return { expirationSeconds: exp, lifetimeSeconds: exp, warnings };
}
