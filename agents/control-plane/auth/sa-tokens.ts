// Bound service-account tokens, issued and authenticated as upstream's pkg/serviceaccount does:
// JWTs signed by the service-account key with iss, sub=system:serviceaccount:<ns>:<name>, aud,
// exp, iat, nbf, jti and a "kubernetes.io" claim naming the namespace, the ServiceAccount and the
// pod or secret (and the pod's node) the token is bound to. Authentication checks the signature,
// issuer, audience and time (60 s leeway), then that the ServiceAccount and the bound object still
// exist with the uids the token names; the user is the ServiceAccount with upstream's groups and
// extra. A failure is an Error saying why (TokenReview shows it; the API answers 401).
import { DEFAULT_EXPIRATION_POLICY, type ExpirationPolicy } from './token-expiration.ts';
import { randomUUID } from 'node:crypto';
import type { UserInfo } from './attributes.ts';
import { type Claims, peekClaims, signJws, VerifiedTokens } from './jws.ts';
import type { SigningKey } from './sa-key.ts';

export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** the kubelet's request: answered with a year-long token that warns after this (upstream) */
export { EXTENDED_EXPIRATION_SECONDS, WARN_ONLY_EXPIRATION_SECONDS } from './token-expiration.ts';
const LEEWAY_SECONDS = 60;

export const SA_USER_PREFIX = 'system:serviceaccount:';
export const SA_GROUP = 'system:serviceaccounts';
export const EXTRA = {
  podName: 'authentication.kubernetes.io/pod-name',
  podUid: 'authentication.kubernetes.io/pod-uid',
  nodeName: 'authentication.kubernetes.io/node-name',
  nodeUid: 'authentication.kubernetes.io/node-uid',
  credentialId: 'authentication.kubernetes.io/credential-id',
} as const;

export const serviceAccountUser = (ns: string, name: string) => `${SA_USER_PREFIX}${ns}:${name}`;

/** The ServiceAccount a username names, if it is one. */
export function serviceAccountOf(user: string): { namespace: string; name: string } | undefined {
  if (!user.startsWith(SA_USER_PREFIX)) return undefined;
  const [namespace, name, ...rest] = user.slice(SA_USER_PREFIX.length).split(':');
  return namespace && name && !rest.length ? { namespace, name } : undefined;
}

interface Meta {
  metadata: { name?: string; namespace?: string; uid?: string; deletionTimestamp?: string };
  spec?: { nodeName?: string };
}
export type Ref = { name: string; uid: string };
export type BoundKind = 'pods' | 'secrets' | 'nodes';

/** Reads of the objects a token names, as stored now (undefined when absent). */
export type ObjectLookup = (resource: 'serviceaccounts' | BoundKind, namespace: string | undefined, name: string) => Promise<Meta | undefined>;

export interface IssueRequest {
  serviceAccount: Ref & { namespace: string };
  pod?: Ref;
  secret?: Ref;
  node?: Ref;
  audiences: string[];
  expirationSeconds: number;
  /** set for the kubelet's 3607 s request: the token lives a year and says when to warn */
  warnAfterSeconds?: number;
}

export interface Authenticated {
  user: UserInfo;
  /** the token's audiences the requested ones accept */
  audiences: string[];
}

interface KubeClaim {
  namespace?: unknown;
  serviceaccount?: { name?: unknown; uid?: unknown };
  pod?: { name?: unknown; uid?: unknown };
  secret?: { name?: unknown; uid?: unknown };
  node?: { name?: unknown; uid?: unknown };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
const audList = (aud: unknown): string[] => (typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : []);
const ref = (r: { name?: unknown; uid?: unknown } | undefined): Ref | undefined => {
  const name = str(r?.name);
  const uid = str(r?.uid);
  return name && uid ? { name, uid } : undefined;
};

export class ServiceAccountTokens {
  constructor(
    private readonly key: SigningKey,
    readonly issuer: string,
    /** the API server's own audiences (upstream: --api-audiences, defaulting to the issuer) */
    readonly audiences: string[],
    private readonly lookup: ObjectLookup,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.verified = new VerifiedTokens(key.publicKey);
  }

  private readonly verified: VerifiedTokens;

  /** --service-account-max-token-expiration and --service-account-extend-token-expiration */
  expiration: ExpirationPolicy = DEFAULT_EXPIRATION_POLICY;

  get signingKey(): SigningKey {
    return this.key;
  }

  /** A signed token and when it expires (seconds since the epoch). */
  issue(r: IssueRequest): { token: string; iat: number; exp: number } {
    const iat = Math.floor(this.now().getTime() / 1000);
    const exp = iat + r.expirationSeconds;
    const k8s: Record<string, unknown> = {
      namespace: r.serviceAccount.namespace,
      serviceaccount: { name: r.serviceAccount.name, uid: r.serviceAccount.uid },
    };
    if (r.pod) k8s.pod = r.pod;
    if (r.secret) k8s.secret = r.secret;
    if (r.node) k8s.node = r.node;
    if (r.warnAfterSeconds) k8s.warnafter = iat + r.warnAfterSeconds;
    const claims: Claims = {
      aud: r.audiences,
      exp,
      iat,
      iss: this.issuer,
      jti: randomUUID(),
      'kubernetes.io': k8s,
      nbf: iat,
      sub: serviceAccountUser(r.serviceAccount.namespace, r.serviceAccount.name),
    };
    return { token: signJws(claims, this.key.privateKey, this.key.kid), iat, exp };
  }

  /** Whether a bearer token is ours to judge: a JWT naming our issuer. */
  owns(token: string): boolean {
    return this.verified.has(token) || peekClaims(token)?.iss === this.issuer;
  }

  /** The user a token authenticates, for the given audiences (default: the API server's). */
  async authenticate(token: string, requested: string[] = this.audiences): Promise<Authenticated | Error> {
    const claims = this.verified.verify(token);
    if (claims instanceof Error) return claims;
    if (claims.iss !== this.issuer) return new Error('token issuer is not this server');
    const tokenAuds = audList(claims.aud);
    const auds = tokenAuds.filter((a) => requested.includes(a));
    if (!auds.length) return new Error(`token audiences ${JSON.stringify(tokenAuds)} is invalid for the target audiences ${JSON.stringify(requested)}`);
    const now = Math.floor(this.now().getTime() / 1000);
    if (typeof claims.exp !== 'number' || now > claims.exp + LEEWAY_SECONDS) return new Error('service account token has expired');
    if (typeof claims.nbf === 'number' && now < claims.nbf - LEEWAY_SECONDS) return new Error('service account token is not valid yet');
    if (typeof claims.iat === 'number' && now < claims.iat - LEEWAY_SECONDS) return new Error('service account token is not valid yet');
    const k = (claims['kubernetes.io'] ?? {}) as KubeClaim;
    const ns = str(k.namespace);
    const sa = ref(k.serviceaccount);
    if (!ns || !sa || claims.sub !== serviceAccountUser(ns, sa.name)) return new Error('service account token claims are malformed');
    const invalidated = new Error('service account token has been invalidated');
    const deletedBefore = (o: Meta) => !!o.metadata.deletionTimestamp && Date.parse(o.metadata.deletionTimestamp) < (now - LEEWAY_SECONDS) * 1000;
    const alive = async (kind: 'serviceaccounts' | BoundKind, r: Ref | undefined, namespace: string | undefined) => {
      if (!r) return true;
      const o = await this.lookup(kind, namespace, r.name);
      return !!o && o.metadata.uid === r.uid && !deletedBefore(o);
    };
    const pod = ref(k.pod);
    const secret = ref(k.secret);
    if (!(await alive('serviceaccounts', sa, ns))) return invalidated;
    if (!(await alive('pods', pod, ns)) || !(await alive('secrets', secret, ns))) return invalidated;
    const extra: Record<string, string[]> = {};
    if (pod) {
      extra[EXTRA.podName] = [pod.name];
      extra[EXTRA.podUid] = [pod.uid];
    }
    const node = ref(k.node);
    if (node) {
      extra[EXTRA.nodeName] = [node.name];
      extra[EXTRA.nodeUid] = [node.uid];
    }
    const jti = str(claims.jti);
    if (jti) extra[EXTRA.credentialId] = [`JTI=${jti}`];
    return {
      user: {
        name: serviceAccountUser(ns, sa.name),
        uid: sa.uid,
        groups: [SA_GROUP, `${SA_GROUP}:${ns}`, 'system:authenticated'],
        ...(Object.keys(extra).length ? { extra } : {}),
      },
      audiences: auds,
    };
  }
}
