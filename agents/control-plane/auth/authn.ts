// Bearer-token authentication as upstream's union of token authenticators: the static token
// file first, then service-account tokens (JWTs of our issuer). The API server's 401 and the
// TokenReview API both answer from here, so a review says exactly what a request would get.
import { badRequest } from '../apiserver/errors.ts';
import { getOwn } from '../apiserver/safe-keys.ts';
import type { UserInfo } from './attributes.ts';
import type { Authenticated, ServiceAccountTokens } from './sa-tokens.ts';
import { bearerToken, type TokenAuthenticator } from './tokens.ts';

export class BearerAuthenticator {
  constructor(
    private readonly staticTokens: TokenAuthenticator | undefined,
    readonly serviceAccounts: ServiceAccountTokens | undefined,
  ) {}

  /** The user a token authenticates for `audiences` (default: the API server's), or why not. */
  async authenticateToken(token: string, audiences?: string[]): Promise<Authenticated | Error> {
    const user = this.staticTokens?.byToken(token);
    if (user) return { user, audiences: audiences ?? this.serviceAccounts?.audiences ?? [] };
    if (this.serviceAccounts?.owns(token)) return this.serviceAccounts.authenticate(token, audiences);
    return new Error('invalid bearer token');
  }

  /** The user of an Authorization header; undefined when absent or not valid (the caller's 401). */
  async authenticate(header: string | undefined): Promise<UserInfo | undefined> {
    const token = bearerToken(header);
    if (token === undefined) return undefined;
    const r = await this.authenticateToken(token);
    return r instanceof Error ? undefined : r.user;
  }

  /** authentication.k8s.io/v1 TokenReview create: the request with its status filled in. */
  async review(body: Record<string, any>): Promise<Record<string, any>> {
    const spec: unknown = getOwn(body, 'spec');
    const token: unknown = spec && typeof spec === 'object' ? getOwn(spec as Record<string, unknown>, 'token') : undefined;
    if (typeof token !== 'string' || !token) throw badRequest('token is required for TokenReview in authentication');
    const listed: unknown = getOwn(spec as Record<string, unknown>, 'audiences');
    const requested = Array.isArray(listed) ? listed.filter((a): a is string => typeof a === 'string') : [];
    const r = await this.authenticateToken(token, requested.length ? requested : undefined);
    const out: Record<string, any> = { ...body, metadata: { ...(body.metadata ?? {}), creationTimestamp: null } };
    if (r instanceof Error) {
      out.status = { user: {}, error: `[invalid bearer token, ${r.message}]` };
      return out;
    }
    const u = r.user;
    out.status = {
      authenticated: true,
      user: { username: u.name, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...(u.extra ? { extra: u.extra } : {}) },
      audiences: r.audiences,
    };
    return out;
  }
}
