// Node passwords, as k3s keeps them: a joining node sends a random password it keeps on disk
// (/etc/hawser/node-password); the server keeps only a salted scrypt hash per node name. A join
// token alone then cannot take over a name that a live Node holds: its holder would also need
// that node's password. Deleting the Node object frees the name (k3s drops its node-password
// secret with the Node), so a reinstalled machine that lost its password can join again.
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

const KEYLEN = 32;
export const MIN_PASSWORD = 16;

/** "scrypt$<salt hex>$<hash hex>" */
export function hashPassword(password: string, salt = randomBytes(16)): string {
  return `scrypt$${salt.toString('hex')}$${scryptSync(password, salt, KEYLEN).toString('hex')}`;
}

export function passwordMatches(password: string, stored: string): boolean {
  const [kind, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const want = Buffer.from(hash, 'hex');
  const got = scryptSync(password, Buffer.from(salt, 'hex'), want.length);
  return want.length === KEYLEN && timingSafeEqual(want, got);
}

export type JoinDecision =
  | { ok: true; why: 'new' | 'same-password' | 'node-deleted' | 'first-password' }
  | { ok: false; why: 'password-mismatch' };

/**
 * Whether a join under a name may proceed. `storedHash` is the hash kept from the name's last
 * join (undefined: never joined, or joined before node passwords); `nodeExists` whether the API
 * still has a Node of that name.
 */
export function decideJoin(o: { storedHash?: string; nodeExists: boolean; passwordOk: () => boolean }): JoinDecision {
  if (o.storedHash === undefined) return { ok: true, why: o.nodeExists ? 'first-password' : 'new' };
  if (!o.nodeExists) return { ok: true, why: 'node-deleted' };
  return o.passwordOk() ? { ok: true, why: 'same-password' } : { ok: false, why: 'password-mismatch' };
}
