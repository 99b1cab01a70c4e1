// Compact JWS with RS256 only (pure): what service-account tokens are. Verification accepts
// nothing but RS256 under our key, so "alg": "none", HS256 keyed with the public key and tokens
// of another key all fail the same way, as upstream's go-jose verification does.
import { createSign, createVerify, type KeyObject } from 'node:crypto';

export type Claims = Record<string, unknown>;

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

export function signJws(claims: Claims, key: KeyObject, kid: string): string {
  const input = `${b64({ alg: 'RS256', kid })}.${b64(claims)}`;
  const sig = createSign('RSA-SHA256').update(input).sign(key).toString('base64url');
  return `${input}.${sig}`;
}

const B64URL = /^[A-Za-z0-9_-]*$/;

function decodePart(part: string): Record<string, unknown> | undefined {
  if (!B64URL.test(part)) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The claims of a JWT without checking its signature; undefined when it is not a JWT at all. */
export function peekClaims(token: string): Claims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  return decodePart(parts[0]) && decodePart(parts[1]);
}

/** The claims of a token signed RS256 by `key`; an Error saying why not otherwise. */
export function verifyJws(token: string, key: KeyObject): Claims | Error {
  const parts = token.split('.');
  if (parts.length !== 3) return new Error('token is not a JWS');
  const header = decodePart(parts[0]);
  const claims = decodePart(parts[1]);
  if (!header || !claims || !B64URL.test(parts[2])) return new Error('token is malformed');
  if (header.alg !== 'RS256') return new Error(`unexpected signature algorithm "${String(header.alg)}"`);
  const ok = createVerify('RSA-SHA256').update(`${parts[0]}.${parts[1]}`).verify(key, Buffer.from(parts[2], 'base64url'));
  return ok ? claims : new Error('invalid signature');
}

/**
 * verifyJws behind a bounded memo of the tokens it accepted. A signature's validity under one key
 * never changes, so remembering it is safe; every other check (expiry, audiences, the bound
 * objects still existing) stays per request. The RS256 verify is about 0.1 ms of CPU here, paid
 * on every request a pod's client makes with the same token: the authorization bench's
 * ServiceAccount GET (BENCH_APISERVER=authz) carried it. Unlike upstream's 10 s token cache, a
 * token bound to a deleted pod is refused on the very next request.
 */
export class VerifiedTokens {
  private readonly accepted = new Map<string, Claims>();

  constructor(
    private readonly key: KeyObject,
    private readonly max = 4096,
  ) {}

  verify(token: string): Claims | Error {
    const hit = this.accepted.get(token);
    if (hit) {
      // most recently used last, so the oldest entry is the first to go
      this.accepted.delete(token);
      this.accepted.set(token, hit);
      return hit;
    }
    const claims = verifyJws(token, this.key);
    if (claims instanceof Error) return claims;
    if (this.accepted.size >= this.max) this.accepted.delete(this.accepted.keys().next().value!);
    this.accepted.set(token, claims);
    return claims;
  }

  /** A token this memo already accepted (no decoding): lets owns() skip peeking at it. */
  has(token: string): boolean {
    return this.accepted.has(token);
  }
}
