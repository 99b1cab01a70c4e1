// How long a client may take, as kube-apiserver's http.Server and filters allow: 32 s to finish
// the TLS handshake and the request headers (ReadHeaderTimeout, "just shy of" the request
// timeout), 60 s for a non-long-running request's body to arrive (--request-timeout; then a 504
// Timeout Status), 90 s idle between requests on a kept-alive connection (IdleTimeout). Watches,
// exec/attach/port-forward upgrades and streamed lists are not bounded: their request is complete
// once its headers are in, and no limit here applies to a response.
import { ApiError } from './errors.ts';

export interface ServerTimeouts {
  /** TLS handshake plus request line and headers */
  readHeaderMs: number;
  /** a request body, from the end of its headers */
  requestMs: number;
  /** a kept-alive connection between requests */
  idleMs: number;
}

export const DEFAULT_TIMEOUTS: ServerTimeouts = { readHeaderMs: 32_000, requestMs: 60_000, idleMs: 90_000 };

/** How often Node checks connections against the header and request limits (its default is 30 s). */
export function checkInterval(t: ServerTimeouts): number {
  return Math.max(50, Math.min(1000, Math.floor(Math.min(t.readHeaderMs, t.requestMs) / 4)));
}

export const requestTimedOut = () => new ApiError(504, 'Timeout', 'Timeout: request did not complete within the allotted timeout', {});
export const headersTooLarge = () => new ApiError(431, 'RequestHeaderFieldsTooLarge', 'Request Header Fields Too Large', {});
