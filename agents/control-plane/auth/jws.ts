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
