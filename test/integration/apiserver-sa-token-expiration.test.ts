// --service-account-max-token-expiration caps every TokenRequest (the response says so in a
// Warning header and in spec.expirationSeconds, and the token's exp agrees), and the kubelet's
// 3607 s request for a pod-bound token still gets upstream's year-long token that warns after 3607 s.
import test from 'ava';
import { type Cluster, readyNode, until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { rawClient } from './_https.ts';

let c: Cluster;
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));

fileCluster(
  async (cluster) => {
    c = cluster;
    await c.ok(['create', '-f', '-'], { input: JSON.stringify(readyNode('n1', '10.0.0.1')) });
    await until('the default ServiceAccount', async () => (await c.kubectl(['get', 'sa', 'default'])).code === 0);
  },
  { extra: { serviceAccountMaxTokenExpirationSeconds: 7200 } },
);

async function requestToken(spec: object) {
  const cl = rawClient(c.admin);
  try {
    return await cl.request('POST', '/api/v1/namespaces/default/serviceaccounts/default/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec,
    });
  } finally {
    cl.close();
  }
}

test.serial('a request over the cap is shortened to it, with a warning kubectl prints', async (t) => {
  const r = await c.kubectl(['create', 'token', 'default', '--duration=48h']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /Warning: requested expiration of 172800 seconds shortened to 7200 seconds/);
  const claims = claimsOf(r.stdout.trim());
  t.is(claims.exp - claims.iat, 7200);
  const raw = await requestToken({ expirationSeconds: 86400 });
  t.is(raw.status, 201);
  const body = raw.body;
  t.is(body.spec.expirationSeconds, 7200);
  t.is(Date.parse(body.status.expirationTimestamp) / 1000 - claimsOf(body.status.token).iat, 7200);
  const under = await c.kubectl(['create', 'token', 'default', '--duration=1h']);
  t.notRegex(under.stderr, /shortened/);
  t.is(claimsOf(under.stdout.trim()).exp - claimsOf(under.stdout.trim()).iat, 3600);
});

test.serial("the kubelet's 3607 s pod-bound request is still extended to a year that warns after 3607 s", async (t) => {
  await c.ok(['create', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] } }),
  });
  const uid = await c.ok(['get', 'pod', 'p', '-o', 'jsonpath={.metadata.uid}']);
  const raw = await requestToken({ expirationSeconds: 3607, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'p', uid } });
  t.is(raw.status, 201, raw.text);
  const claims = claimsOf(raw.body.status.token);
  t.is(claims.exp - claims.iat, 365 * 24 * 3600);
  t.is(claims['kubernetes.io'].warnafter - claims.iat, 3607);
  t.is(raw.body.spec.expirationSeconds, 3607);
});
