// Service-account tokens end to end against the real API server and kubectl: TokenRequest
// (`kubectl create token`, audiences, durations, pod and secret binding, NodeRestriction), bearer
// authentication of the tokens (user, groups, extra) and its 401s (deleted pod, recreated
// ServiceAccount, expiry, another key, alg none, malformed), TokenReview, and the signing key
// on disk (0600, kept across a restart).
import test from 'ava';
import { createPrivateKey, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { signJws } from '../../agents/control-plane/auth/jws.ts';
import { keyIdOf } from '../../agents/control-plane/auth/sa-key.ts';
import { type Cluster, readyNode, until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { rawClient } from './_https.ts';

const ISSUER = 'https://kubernetes.default.svc.cluster.local';
let c: Cluster;

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
const pod = (name: string, node: string, sa = 'default') =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { nodeName: node, serviceAccountName: sa, containers: [{ name: 'c', image: 'busybox' }] },
  });

/** GET /api/v1/namespaces/default/pods with a bearer token: the status and body. */
async function callWith(token: string, path = '/api/v1/namespaces/default/pods') {
  const cl = rawClient(c.tokenConfig(token));
  try {
    return await cl.request('GET', path);
  } finally {
    cl.close();
  }
}
const UNAUTHORIZED = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };

async function tokenReview(token: string, audiences?: string[]) {
  const cl = rawClient(c.admin);
  try {
    const r = await cl.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token, ...(audiences ? { audiences } : {}) },
    });
    return r;
  } finally {
    cl.close();
  }
}

fileCluster(async (cluster) => {
  c = cluster;
  await until('the default ServiceAccount', async () => (await c.kubectl(['get', 'sa', 'default'])).code === 0);
  for (const n of ['n1', 'n2']) await c.ok(['create', '-f', '-'], { input: JSON.stringify(readyNode(n, n === 'n1' ? '10.0.0.1' : '10.0.0.2')) });
  // the tokens' users may read pods (view), so a 200 shows that a token authenticated
  await c.ok(['create', 'clusterrolebinding', 'sa-view', '--clusterrole=view', '--group=system:serviceaccounts']);
});

test.serial('the signing key is made on first start, 0600, and kept across a restart', async (t) => {
  const file = join(c.dir, 'tls', 'service.key');
  t.is(statSync(file).mode & 0o777, 0o600);
  const before = readFileSync(file, 'utf8');
  const token = (await c.ok(['create', 'token', 'default'])).trim();
  await c.restart();
  t.is(readFileSync(file, 'utf8'), before);
  t.is((await callWith(token)).status, 200);
});

test.serial('kubectl create token issues upstream claims and the token authenticates as the ServiceAccount', async (t) => {
  const token = (await c.ok(['create', 'token', 'default'])).trim();
  const sa = JSON.parse(await c.ok(['get', 'sa', 'default', '-o', 'json']));
  const cl = claimsOf(token);
  t.is(cl.iss, ISSUER);
  t.is(cl.sub, 'system:serviceaccount:default:default');
  t.deepEqual(cl.aud, [ISSUER]);
  t.is(cl.exp - cl.iat, 3600);
  t.is(cl.nbf, cl.iat);
  t.regex(cl.jti, /^[0-9a-f-]{36}$/);
  t.deepEqual(cl['kubernetes.io'], { namespace: 'default', serviceaccount: { name: 'default', uid: sa.metadata.uid } });
  const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
  t.is(header.alg, 'RS256');
  const who = JSON.parse(await c.ok(['auth', 'whoami', '-o', 'json'], { kubeconfig: c.tokenConfig(token) }));
  t.is(who.status.userInfo.username, 'system:serviceaccount:default:default');
  t.is(who.status.userInfo.uid, sa.metadata.uid);
  t.deepEqual(who.status.userInfo.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
  t.deepEqual(who.status.userInfo.extra, { 'authentication.kubernetes.io/credential-id': [`JTI=${cl.jti}`] });
  t.is((await callWith(token)).status, 200);
});

test.serial('audiences and durations: another audience is not ours, under 10 minutes is 422', async (t) => {
  const token = (await c.ok(['create', 'token', 'default', '--audience', 'vault', '--duration', '20m'])).trim();
  const cl = claimsOf(token);
  t.deepEqual(cl.aud, ['vault']);
  t.is(cl.exp - cl.iat, 1200);
  t.deepEqual((await callWith(token)).body, UNAUTHORIZED);
  const review = await tokenReview(token, ['vault']);
  t.is(review.body.status.authenticated, true);
  t.deepEqual(review.body.status.audiences, ['vault']);
  const short = await c.kubectl(['create', 'token', 'default', '--duration', '5m']);
  t.is(short.code, 1);
  t.regex(
    short.stderr,
    /TokenRequest.authentication.k8s.io "default" is invalid: spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes/,
  );
  const missing = await c.kubectl(['create', 'token', 'nobody']);
  t.regex(missing.stderr, /serviceaccounts "nobody" not found/);
});

test.serial('a token bound to a pod carries the pod and node, and dies with the pod', async (t) => {
  await c.ok(['create', '-f', '-'], { input: pod('bound', 'n1') });
  const p = JSON.parse(await c.ok(['get', 'pod', 'bound', '-o', 'json']));
  const node = JSON.parse(await c.ok(['get', 'node', 'n1', '-o', 'json']));
  const token = (await c.ok(['create', 'token', 'default', '--bound-object-kind', 'Pod', '--bound-object-name', 'bound'])).trim();
  const k8s = claimsOf(token)['kubernetes.io'];
  t.deepEqual(k8s.pod, { name: 'bound', uid: p.metadata.uid });
  t.deepEqual(k8s.node, { name: 'n1', uid: node.metadata.uid });
  const who = JSON.parse(await c.ok(['auth', 'whoami', '-o', 'json'], { kubeconfig: c.tokenConfig(token) }));
  t.deepEqual(who.status.userInfo.extra['authentication.kubernetes.io/pod-name'], ['bound']);
  t.deepEqual(who.status.userInfo.extra['authentication.kubernetes.io/pod-uid'], [p.metadata.uid]);
  t.deepEqual(who.status.userInfo.extra['authentication.kubernetes.io/node-name'], ['n1']);
  await c.ok(['delete', 'pod', 'bound', '--grace-period=0', '--force']);
  const r = await callWith(token);
  t.is(r.status, 401);
  t.deepEqual(r.body, UNAUTHORIZED);
  const review = await tokenReview(token);
  t.is(review.status, 201);
  t.falsy(review.body.status.authenticated);
  t.regex(review.body.status.error, /service account token has been invalidated/);
});

test.serial('binding is validated: the pod must exist, run under the ServiceAccount, and match the uid', async (t) => {
  await c.ok(['create', 'sa', 'other']);
  await c.ok(['create', '-f', '-'], { input: pod('other-pod', 'n1', 'other') });
  const wrongSA = await c.kubectl(['create', 'token', 'default', '--bound-object-kind', 'Pod', '--bound-object-name', 'other-pod']);
  t.regex(wrongSA.stderr, /cannot bind token for serviceaccount "default" to pod running with serviceaccount "other"/);
  const gone = await c.kubectl(['create', 'token', 'default', '--bound-object-kind', 'Pod', '--bound-object-name', 'ghost']);
  t.regex(gone.stderr, /pods "ghost" not found/);
  const uid = await c.kubectl([
    'create',
    'token',
    'other',
    '--bound-object-kind',
    'Pod',
    '--bound-object-name',
    'other-pod',
    '--bound-object-uid',
    '00000000-0000-0000-0000-000000000000',
  ]);
  t.regex(uid.stderr, /the UID in the bound object reference \(00000000-0000-0000-0000-000000000000\) does not match the UID in record/);
  await c.ok(['create', 'secret', 'generic', 'anchor', '--from-literal=k=v']);
  const token = (await c.ok(['create', 'token', 'other', '--bound-object-kind', 'Secret', '--bound-object-name', 'anchor'])).trim();
  t.is((await callWith(token)).status, 200);
  await c.ok(['delete', 'secret', 'anchor']);
  t.is((await callWith(token)).status, 401);
});

test.serial('a deleted and recreated ServiceAccount invalidates its old tokens', async (t) => {
  await c.ok(['create', 'sa', 'phoenix']);
  const token = (await c.ok(['create', 'token', 'phoenix'])).trim();
  t.is((await callWith(token)).status, 200);
  await c.ok(['delete', 'sa', 'phoenix']);
  await c.ok(['create', 'sa', 'phoenix']);
  t.deepEqual((await callWith(token)).body, UNAUTHORIZED);
});

test.serial('expired, foreign-key, alg none and malformed tokens are 401', async (t) => {
  const good = (await c.ok(['create', 'token', 'default'])).trim();
  const claims = claimsOf(good);
  const now = Math.floor(Date.now() / 1000);
  const ours = createPrivateKey(readFileSync(join(c.dir, 'tls', 'service.key'), 'utf8'));
  const kid = JSON.parse(Buffer.from(good.split('.')[0], 'base64url').toString('utf8')).kid;
  // the same key signs a token that ran out two minutes ago (past the 60 s leeway)
  const expired = signJws({ ...claims, iat: now - 4000, nbf: now - 4000, exp: now - 120 }, ours, kid);
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const foreign = signJws(claims, stranger, keyIdOf(createPublicKey(stranger)));
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const none = `${b64({ alg: 'none' })}.${b64(claims)}.`;
  for (const [what, token] of [
    ['expired', expired],
    ['another key', foreign],
    ['alg none', none],
    ['malformed', 'not.a.jwt'],
    ['garbage', 'x'.repeat(40)],
  ]) {
    const r = await callWith(token);
    t.deepEqual(r.body, UNAUTHORIZED, what);
  }
  t.regex((await tokenReview(expired)).body.status.error, /service account token has expired/);
  t.regex((await tokenReview(foreign)).body.status.error, /invalid signature/);
  t.is((await callWith(good)).status, 200);
});

test.serial('TokenReview answers from the same authenticator', async (t) => {
  const token = (await c.ok(['create', 'token', 'default'])).trim();
  const r = await tokenReview(token);
  t.is(r.status, 201);
  t.like(r.body, {
    kind: 'TokenReview',
    apiVersion: 'authentication.k8s.io/v1',
    status: {
      authenticated: true,
      audiences: [ISSUER],
      user: { username: 'system:serviceaccount:default:default', groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'] },
    },
  });
  const empty = await tokenReview('');
  t.is(empty.status, 400);
});

test.serial('creating a token needs create on serviceaccounts/token; a node gets tokens only for its own pods', async (t) => {
  const nobody = await c.identity('nobody', []);
  const r = await c.kubectl(['create', 'token', 'default'], { kubeconfig: nobody });
  t.regex(
    r.stderr,
    /serviceaccounts "default" is forbidden: User "nobody" cannot create resource "serviceaccounts\/token" in API group "" in the namespace "default"/,
  );
  await c.ok(['create', '-f', '-'], { input: pod('on-n1', 'n1') });
  await c.ok(['create', '-f', '-'], { input: pod('on-n2', 'n2') });
  const n1 = await c.identity('system:node:n1', ['system:nodes']);
  const uidOf = async (name: string) => JSON.parse(await c.ok(['get', 'pod', name, '-o', 'json'])).metadata.uid;
  const mine = await c.kubectl(
    ['create', 'token', 'default', '--bound-object-kind', 'Pod', '--bound-object-name', 'on-n1', '--bound-object-uid', await uidOf('on-n1')],
    { kubeconfig: n1 },
  );
  t.is(mine.code, 0, mine.stderr);
  const theirs = await c.kubectl(
    ['create', 'token', 'default', '--bound-object-kind', 'Pod', '--bound-object-name', 'on-n2', '--bound-object-uid', await uidOf('on-n2')],
    { kubeconfig: n1 },
  );
  t.regex(theirs.stderr, /node requested token bound to a pod scheduled on a different node/);
  const unbound = await c.kubectl(['create', 'token', 'default'], { kubeconfig: n1 });
  t.regex(unbound.stderr, /node requested token not bound to a pod/);
  const unrelated = await c.kubectl(['create', 'token', 'other', '--bound-object-kind', 'Pod', '--bound-object-name', 'on-n1'], { kubeconfig: n1 });
  t.regex(unrelated.stderr, /forbidden/);
});

test.serial('OIDC discovery: a ServiceAccount reads the configuration and the JWKS, and the JWKS verifies its token', async (t) => {
  const token = (await c.ok(['create', 'token', 'default'])).trim();
  const config = await callWith(token, '/.well-known/openid-configuration');
  t.is(config.status, 200);
  t.deepEqual(config.body, {
    issuer: ISSUER,
    jwks_uri: `${c.url}/openid/v1/jwks`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
  });
  const set = await callWith(token, '/openid/v1/jwks');
  t.is(set.status, 200);
  const [header, payload, sig] = token.split('.');
  const kid = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')).kid;
  const jwk = set.body.keys.find((k: { kid: string }) => k.kid === kid);
  t.like(jwk, { kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  t.true(verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), key, Buffer.from(sig, 'base64url')));
  // the bootstrap policy grants it to every ServiceAccount, not to other users
  const nobody = await c.identity('nobody', []);
  const cl = rawClient(nobody);
  try {
    t.is((await cl.request('GET', '/openid/v1/jwks')).status, 403);
  } finally {
    cl.close();
  }
  t.regex(
    await c.ok(['get', 'clusterrolebinding', 'system:service-account-issuer-discovery', '-o', 'jsonpath={.subjects[0].name}']),
    /^system:serviceaccounts$/,
  );
});
