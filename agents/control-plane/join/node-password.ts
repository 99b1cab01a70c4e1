// Node passwords, as k3s keeps them: a joining node sends a random password it keeps on disk
// (/etc/hawser/node-password); the server keeps only a salted scrypt hash per node name. A join
// token alone then cannot take over a name that a live Node holds: its holder would also need
// that node's password. Deleting the Node object frees the name (k3s drops its node-password
// secret with the Node), so a reinstalled machine that lost its password can join again.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

const KEYLEN = 32;
export const MIN_PASSWORD = 16;

// scrypt off the event loop: the API server serves everything else meanwhile

/** "scrypt$<salt hex>$<hash hex>" */
export async function hashPassword(password: string, salt = randomBytes(16)): Promise<string> {
  return `scrypt$${salt.toString('hex')}$${(await scryptAsync(password, salt, KEYLEN)).toString('hex')}`;
}

export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [kind, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const want = Buffer.from(hash, 'hex');
  if (want.length !== KEYLEN) return false;
  return timingSafeEqual(want, await scryptAsync(password, Buffer.from(salt, 'hex'), KEYLEN));
}

export type JoinDecision = { ok: true; why: 'new' | 'same-password' | 'node-deleted' } | { ok: false; why: 'password-mismatch' | 'no-password-on-record' };

/**
 * Whether a join under a name may proceed. `storedHash` is the hash kept from the name's last
 * join (undefined: never joined, or joined before node passwords); `nodeExists` whether the API
 * still has a Node of that name. A live Node with no password on record is refused too: nothing
 * tells its own machine from any other token holder, and the first to claim it would lock the
 * real one out.
 */
export async function decideJoin(o: { storedHash?: string; nodeExists: boolean; passwordOk: () => Promise<boolean> }): Promise<JoinDecision> {
  if (!o.nodeExists) return { ok: true, why: o.storedHash === undefined ? 'new' : 'node-deleted' };
  if (o.storedHash === undefined) return { ok: false, why: 'no-password-on-record' };
  return (await o.passwordOk()) ? { ok: true, why: 'same-password' } : { ok: false, why: 'password-mismatch' };
}
