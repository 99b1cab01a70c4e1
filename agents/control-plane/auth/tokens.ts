// Bearer tokens from a static token file (upstream's --token-auth-file): one CSV line per token,
//   token,user,uid[,"group1,group2"]
// Blank lines and lines starting with # are skipped. Read once at start, as upstream does.
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { UserInfo } from './attributes.ts';

/** Splits one CSV record (double-quoted fields may hold commas; "" is a quote). */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (quoted) throw new Error(`unterminated quote in "${line}"`);
  out.push(cur);
  return out.map((f) => f.trim());
}

export function parseTokenFile(text: string, file = 'token file'): Map<string, UserInfo> {
  const out = new Map<string, UserInfo>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const f = csvFields(line);
    if (f.length < 3 || !f[0] || !f[1]) throw new Error(`${file}:${i + 1}: want token,user,uid[,"groups"]`);
    if (out.has(f[0])) throw new Error(`${file}:${i + 1}: duplicate token`);
    const groups = (f[3] ?? '')
      .split(',')
      .map((g) => g.trim())
      .filter(Boolean);
    out.set(f[0], { name: f[1], uid: f[2] || undefined, groups });
  });
  return out;
}

/** The token of an Authorization header ("Bearer <token>"), if it carries one. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

export class TokenAuthenticator {
  constructor(private readonly tokens: Map<string, UserInfo>) {}

  static fromFile(file: string): TokenAuthenticator {
    return new TokenAuthenticator(parseTokenFile(readFileSync(file, 'utf8'), file));
  }

  /** The user of an Authorization header's bearer token; undefined if absent or unknown. */
  authenticate(header: string | undefined): UserInfo | undefined {
    const token = bearerToken(header);
    return token === undefined ? undefined : this.byToken(token);
  }

  /** The user of a token; undefined if unknown. */
  byToken(token: string): UserInfo | undefined {
    const given = Buffer.from(token);
    for (const [token, user] of this.tokens) {
      const t = Buffer.from(token);
      if (t.length === given.length && timingSafeEqual(t, given)) return { ...user, groups: [...user.groups, 'system:authenticated'] };
    }
    return undefined;
  }
}
