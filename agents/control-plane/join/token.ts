// Join tokens in k3s's "secure" shape: K10<sha256 hex of the cluster CA certificate (DER)>::<id>.<secret>.
// The hash pins the control plane's identity (a joining node refuses any other CA); id.secret is a
// bootstrap credential as kubeadm's (6 + 16 characters of [a-z0-9]). Pure functions only.
import { createHash, randomInt, timingSafeEqual, X509Certificate } from 'node:crypto';

export interface JoinToken {
  caHash: string;
  id: string;
  secret: string;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const CREDENTIAL = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const FULL = /^K10([0-9a-f]{64})::(.+)$/;

export function randomCredential(): { id: string; secret: string } {
  const pick = (n: number) => Array.from({ length: n }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return { id: pick(6), secret: pick(16) };
}

/** sha256 (hex) of the DER bytes of the first certificate in a PEM bundle. */
export function caHashOfPem(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

export function formatToken(t: JoinToken): string {
  return `K10${t.caHash}::${t.id}.${t.secret}`;
}

/** Parses "id.secret" (the bearer credential alone). */
export function parseCredential(s: string): { id: string; secret: string } | undefined {
  const m = CREDENTIAL.exec(s.trim());
  return m ? { id: m[1], secret: m[2] } : undefined;
}

export function parseToken(s: string): JoinToken {
  const m = FULL.exec(s.trim());
  if (!m) {
    if (parseCredential(s)) throw new Error('this token has no CA pin: use the full K10<ca-hash>::<id>.<secret> printed by `hawser token create`');
    throw new Error('malformed join token: expected K10<64 hex>::<6 chars>.<16 chars> as printed by `hawser token create`');
  }
  const cred = parseCredential(m[2]);
  if (!cred) throw new Error('malformed join token: the part after "::" must be <6 chars>.<16 chars> of [a-z0-9]');
  return { caHash: m[1], ...cred };
}

export const secretHash = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** Constant-time comparison of two hex digests. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** "30m", "24h", "7d", "90s" or plain seconds; 0 means never expires. */
export function parseDuration(s: string): number {
  const m = /^(\d+)(s|m|h|d)?$/.exec(s.trim());
  if (!m) throw new Error(`bad duration "${s}": use e.g. 90s, 30m, 24h, 7d, or 0 for no expiry`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit * 1000;
}
