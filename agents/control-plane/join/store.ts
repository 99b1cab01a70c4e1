// Join tokens kept in the control plane's data dir (<dataDir>/join-tokens.json, mode 0600). Only a
// hash of each secret is stored, so the file does not hand out credentials; expired tokens are
// dropped whenever the file is written. Writes go through a rename so a reader never sees half a file.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../private-file.ts';
import { join } from 'node:path';
import { loadOrCreateCA } from '../pki.ts';
import { caHashOfPem, formatToken, randomCredential, sameDigest, secretHash } from './token.ts';

export interface StoredToken {
  id: string;
  secretSha256: string;
  created: string;
  /** ISO time; absent = never expires */
  expires?: string;
  description?: string;
}

export const tokensFile = (dataDir: string): string => join(dataDir, 'join-tokens.json');
export const caFile = (dataDir: string): string => join(dataDir, 'tls', 'ca.crt');

export function readTokens(dataDir: string): StoredToken[] {
  const f = tokensFile(dataDir);
  if (!existsSync(f)) return [];
  const doc = JSON.parse(readFileSync(f, 'utf8')) as { tokens?: StoredToken[] };
  return doc.tokens ?? [];
}

const live = (t: StoredToken, now: number): boolean => !t.expires || Date.parse(t.expires) > now;

function writeTokens(dataDir: string, tokens: StoredToken[]): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const f = tokensFile(dataDir);
  writeFileAtomic(f, `${JSON.stringify({ tokens }, null, 2)}\n`);
}

export interface CreateTokenOptions {
  ttlMs: number;
  description?: string;
  now?: number;
}

/** Creates and stores a token; returns the full K10... string (the only time the secret is shown). */
export async function createToken(dataDir: string, o: CreateTokenOptions): Promise<{ token: string; id: string; expires?: string }> {
  const now = o.now ?? Date.now();
  // the same CA the control plane uses (created here if the control plane has not started yet)
  const ca = await loadOrCreateCA(join(dataDir, 'tls'));
  const kept = readTokens(dataDir).filter((t) => live(t, now));
  let cred = randomCredential();
  while (kept.some((t) => t.id === cred.id)) cred = randomCredential();
  const expires = o.ttlMs > 0 ? new Date(now + o.ttlMs).toISOString() : undefined;
  kept.push({
    id: cred.id,
    secretSha256: secretHash(cred.secret),
    created: new Date(now).toISOString(),
    ...(expires ? { expires } : {}),
    ...(o.description ? { description: o.description } : {}),
  });
  writeTokens(dataDir, kept);
  return { token: formatToken({ caHash: caHashOfPem(ca.certPem), ...cred }), id: cred.id, expires };
}

export function deleteToken(dataDir: string, id: string): boolean {
  const all = readTokens(dataDir);
  const rest = all.filter((t) => t.id !== id);
  if (rest.length === all.length) return false;
  writeTokens(dataDir, rest);
  return true;
}

export type TokenCheck = { ok: true; id: string } | { ok: false; reason: 'unknown' | 'expired' };

export function checkCredential(tokens: StoredToken[], id: string, secret: string, now = Date.now()): TokenCheck {
  const t = tokens.find((x) => x.id === id);
  if (!t || !sameDigest(t.secretSha256, secretHash(secret))) return { ok: false, reason: 'unknown' };
  if (!live(t, now)) return { ok: false, reason: 'expired' };
  return { ok: true, id };
}
