// The kubelet's service-account token manager, as upstream's pkg/kubelet/token: a projected
// serviceAccountToken source is filled through TokenRequest bound to the pod, cached per
// (namespace, ServiceAccount, audience, expiry, pod uid), and requested again once 80% of its TTL
// has passed or it is 24 h old (minus up to 10 s of jitter). prepare() runs before a pod's volumes
// are written (volume setup itself is synchronous); a timer asks for a resync when a token is due,
// so the file is rewritten before it runs out. A failed refresh keeps serving the old token
// while it is valid, as upstream does.
import type { V1Pod, V1ServiceAccountTokenProjection } from '@kubernetes/client-node';

const MAX_TTL_MS = 24 * 3600 * 1000;
const MAX_JITTER_MS = 10_000;
const RETRY_MS = 5_000;

export interface TokenRequestAnswer {
  spec?: { expirationSeconds?: number };
  status?: { token?: string; expirationTimestamp?: string };
}

/** POST serviceaccounts/<sa>/token in <namespace> with this TokenRequest body. */
export type RequestToken = (namespace: string, serviceAccount: string, body: Record<string, unknown>) => Promise<TokenRequestAnswer>;

interface Entry {
  token?: string;
  /** ms since the epoch */
  exp: number;
  expirationSeconds: number;
  error?: Error;
  podUid: string;
}

/** Whether a token must be requested again (upstream's requiresRefresh; `jitter` in [0, 1)). */
export function requiresRefresh(e: { exp: number; expirationSeconds: number }, now: number, jitter: number): boolean {
  const ttl = e.expirationSeconds * 1000;
  const iat = e.exp - ttl;
  const j = jitter * MAX_JITTER_MS;
  return now > iat + MAX_TTL_MS - j || now > e.exp - ttl * 0.2 - j;
}

/** When a token becomes due for refresh (ms since the epoch), without jitter. */
export function refreshAt(e: { exp: number; expirationSeconds: number }): number {
  const ttl = e.expirationSeconds * 1000;
  return Math.min(e.exp - ttl + MAX_TTL_MS, e.exp - ttl * 0.2);
}

const saOf = (pod: V1Pod) => pod.spec?.serviceAccountName || 'default';
const expirationOf = (src: V1ServiceAccountTokenProjection) => src.expirationSeconds ?? 3600;

export class TokenManager {
  private readonly cache = new Map<string, Entry>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly request: RequestToken,
    /** a pod's tokens are due: resync it (prepare() then refreshes them) */
    private readonly due: (podUid: string) => void,
    private readonly now: () => number = Date.now,
    private readonly jitter: () => number = Math.random,
  ) {}

  private key(pod: V1Pod, src: V1ServiceAccountTokenProjection): string {
    const m = pod.metadata!;
    return JSON.stringify([m.namespace, saOf(pod), src.audience ?? '', expirationOf(src), m.name, m.uid]);
  }

  private sources(pod: V1Pod): V1ServiceAccountTokenProjection[] {
    return (pod.spec?.volumes ?? []).flatMap((v) => (v.projected?.sources ?? []).flatMap((s) => (s.serviceAccountToken ? [s.serviceAccountToken] : [])));
  }

  /** Fetches every token the pod's projected volumes need that is missing or due. */
  async prepare(pod: V1Pod): Promise<void> {
    if (pod.metadata?.deletionTimestamp) return;
    await Promise.all(this.sources(pod).map((src) => this.ensure(pod, src)));
  }

  private async ensure(pod: V1Pod, src: V1ServiceAccountTokenProjection): Promise<void> {
    const key = this.key(pod, src);
    const cur = this.cache.get(key);
    if (cur?.token && !requiresRefresh(cur, this.now(), this.jitter())) return;
    const m = pod.metadata!;
    const body = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: src.audience ? [src.audience] : [],
        expirationSeconds: expirationOf(src),
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: m.name, uid: m.uid },
      },
    };
    try {
      const r = await this.request(m.namespace!, saOf(pod), body);
      const exp = Date.parse(r.status?.expirationTimestamp ?? '');
      if (!r.status?.token || Number.isNaN(exp)) throw new Error('the TokenRequest answer carries no token');
      const e: Entry = { token: r.status.token, exp, expirationSeconds: r.spec?.expirationSeconds ?? expirationOf(src), podUid: m.uid! };
      this.cache.set(key, e);
      this.schedule(key, e.podUid, refreshAt(e) - this.now());
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      // an old token still valid keeps being served; the refresh is tried again soon
      const keep = cur?.token && cur.exp > this.now() ? cur : undefined;
      this.cache.set(key, { ...(keep ?? { exp: 0, expirationSeconds: expirationOf(src), podUid: m.uid! }), error });
      this.schedule(key, m.uid!, RETRY_MS);
    }
  }

  private schedule(key: string, podUid: string, inMs: number): void {
    clearTimeout(this.timers.get(key));
    const t = setTimeout(
      () => {
        this.timers.delete(key);
        this.due(podUid);
      },
      Math.max(0, Math.min(inMs, 2 ** 31 - 1)),
    );
    t.unref();
    this.timers.set(key, t);
  }

  /** The token a source gets now, or why there is none. */
  token(pod: V1Pod, src: V1ServiceAccountTokenProjection): string | Error {
    const e = this.cache.get(this.key(pod, src));
    if (e?.token && e.exp > this.now()) return e.token;
    return new Error(`failed to fetch token: ${e?.error?.message ?? 'no token requested yet'}`);
  }

  /** Drops the tokens and timers of a pod that is gone. */
  forget(podUid: string): void {
    for (const [k, e] of this.cache) {
      if (e.podUid !== podUid) continue;
      this.cache.delete(k);
      clearTimeout(this.timers.get(k));
      this.timers.delete(k);
    }
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
