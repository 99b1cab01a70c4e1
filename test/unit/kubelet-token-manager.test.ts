// The kubelet's token manager (upstream pkg/kubelet/token semantics): the TokenRequest it sends,
// the cache key, refresh at 80% of the TTL or after 24 h, a failed refresh keeping the old token,
// and the projected volume's token file.
import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import { refreshAt, requiresRefresh, TokenManager, type TokenRequestAnswer } from '../../agents/kubelet/volumes/token-manager.ts';
import { projectedPayload } from '../../agents/kubelet/volumes/payload.ts';

const pod = (audience?: string, expirationSeconds = 3607): V1Pod => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'uid-1' },
  spec: {
    serviceAccountName: 'robot',
    containers: [],
    volumes: [
      {
        name: 'kube-api-access-abcde',
        projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds, ...(audience ? { audience } : {}) } }] },
      },
    ],
  },
});

function harness() {
  let now = Date.parse('2026-01-01T00:00:00Z');
  let n = 0;
  let fail: Error | undefined;
  const sent: { ns: string; sa: string; body: Record<string, any> }[] = [];
  const m = new TokenManager(
    async (ns, sa, body): Promise<TokenRequestAnswer> => {
      sent.push({ ns, sa, body });
      if (fail) throw fail;
      n++;
      const secs = (body.spec as { expirationSeconds: number }).expirationSeconds;
      return { spec: { expirationSeconds: secs }, status: { token: `tok-${n}`, expirationTimestamp: new Date(now + secs * 1000).toISOString() } };
    },
    () => undefined,
    () => now,
    () => 0,
  );
  return { m, sent, advance: (ms: number) => (now += ms), failWith: (e?: Error) => (fail = e) };
}

const src = (p: V1Pod) => p.spec!.volumes![0].projected!.sources![0].serviceAccountToken!;

test('the first sync requests a token bound to the pod, for its ServiceAccount', async (t) => {
  const h = harness();
  const p = pod();
  t.regex(String(h.m.token(p, src(p))), /failed to fetch token/);
  await h.m.prepare(p);
  t.deepEqual(h.sent, [
    {
      ns: 'ns',
      sa: 'robot',
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: [], expirationSeconds: 3607, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'uid-1' } },
      },
    },
  ]);
  t.is(h.m.token(p, src(p)), 'tok-1');
  h.m.stop();
});

test('a token is requested again once 80% of its TTL has passed, not before', async (t) => {
  const h = harness();
  const p = pod();
  await h.m.prepare(p);
  h.advance(3607 * 1000 * 0.79);
  await h.m.prepare(p);
  t.is(h.sent.length, 1);
  t.is(h.m.token(p, src(p)), 'tok-1');
  h.advance(3607 * 1000 * 0.02);
  await h.m.prepare(p);
  t.is(h.sent.length, 2);
  t.is(h.m.token(p, src(p)), 'tok-2');
  h.m.stop();
});

test('a long-lived token is refreshed after 24 hours', (t) => {
  const issued = Date.parse('2026-01-01T00:00:00Z');
  const e = { exp: issued + 7 * 86400_000, expirationSeconds: 7 * 86400 };
  t.false(requiresRefresh(e, issued + 23.9 * 3600_000, 0));
  t.true(requiresRefresh(e, issued + 24.01 * 3600_000, 0));
  t.is(refreshAt(e), issued + 24 * 3600_000);
  t.is(refreshAt({ exp: issued + 3600_000, expirationSeconds: 3600 }), issued + 2880_000);
});

test('tokens are cached per audience and dropped with the pod', async (t) => {
  const h = harness();
  const a = pod('vault');
  const b = pod();
  await h.m.prepare(a);
  await h.m.prepare(b);
  t.deepEqual(h.sent[0].body.spec.audiences, ['vault']);
  t.is(h.sent.length, 2);
  t.not(h.m.token(a, src(a)), h.m.token(b, src(b)));
  h.m.forget('uid-1');
  t.true(h.m.token(a, src(a)) instanceof Error);
  h.m.stop();
});

test('a failed refresh keeps serving the valid token; a failed first fetch says why', async (t) => {
  const h = harness();
  const p = pod();
  await h.m.prepare(p);
  h.advance(3607 * 1000 * 0.9);
  h.failWith(new Error('connection refused'));
  await h.m.prepare(p);
  t.is(h.m.token(p, src(p)), 'tok-1');
  const q = { ...pod('other') };
  await h.m.prepare(q);
  t.is(String(h.m.token(q, src(q))), 'Error: failed to fetch token: connection refused');
  h.m.stop();
});

test('the projected volume writes the token at its path with the default mode', async (t) => {
  const h = harness();
  const p = pod();
  await h.m.prepare(p);
  const lookups = { configMap: () => undefined, secret: () => undefined, serviceAccountToken: h.m.token.bind(h.m) };
  const out = projectedPayload(p, p.spec!.volumes![0].projected!, lookups, {
    podIPs: [],
    hostIPs: [],
    allocatable: { cpuMillis: 1000, memoryBytes: 1 << 30, ephemeralStorageBytes: 1 << 30 },
  });
  t.deepEqual([...out.keys()], ['token']);
  t.is(out.get('token')!.data.toString(), 'tok-1');
  t.is(out.get('token')!.mode, 0o644);
  h.m.stop();
});
