// Refused join credentials per source address, as a token bucket: a burst of mistakes is free, then
// one try per second. While an address is over its budget every join from it is refused with 429
// before its token is looked at (else the answer to a right guess would still come through). The
// token comparison itself stays constant-time (store.ts); this bounds how fast one can guess.
import { ApiError } from '../apiserver/errors.ts';

export interface ThrottleOptions {
  /** refusals an address may have in a row */
  burst: number;
  /** refusals per second it earns back */
  perSecond: number;
  /** addresses remembered at most (the oldest is forgotten first) */
  maxAddresses: number;
}

export const JOIN_THROTTLE: ThrottleOptions = { burst: 10, perSecond: 1, maxAddresses: 10_000 };

interface Bucket {
  tokens: number;
  at: number;
}

export class FailureThrottle {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly o: ThrottleOptions = JOIN_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {}

  private current(addr: string): Bucket {
    const b = this.buckets.get(addr);
    const t = this.now();
    if (!b) return { tokens: this.o.burst, at: t };
    return { tokens: Math.min(this.o.burst, b.tokens + ((t - b.at) / 1000) * this.o.perSecond), at: t };
  }

  /** Whole seconds until `addr` may try again; 0: now. */
  retryAfter(addr: string): number {
    const b = this.current(addr);
    return b.tokens >= 1 ? 0 : Math.ceil((1 - b.tokens) / this.o.perSecond);
  }

  /** `addr` presented a credential that was refused. */
  fail(addr: string): void {
    const b = this.current(addr);
    b.tokens = Math.max(0, b.tokens - 1);
    this.buckets.delete(addr);
    this.buckets.set(addr, b);
    for (const k of this.buckets.keys()) {
      if (this.buckets.size <= this.o.maxAddresses) break;
      this.buckets.delete(k);
    }
  }

  /** The 429 Status for an address over its budget, or undefined when it may go ahead. */
  check(addr: string): ApiError | undefined {
    const secs = this.retryAfter(addr);
    if (!secs) return undefined;
    return new ApiError(429, 'TooManyRequests', `too many refused join attempts from ${addr}: try again in ${secs} seconds`, { retryAfterSeconds: secs });
  }
}
