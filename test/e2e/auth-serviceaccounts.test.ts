// ServiceAccounts on a lab of its own: a pod under a ServiceAccount calls the API server from
// inside the cluster (the real kubectl with its in-cluster config: the mounted token and CA) and
// gets what RBAC grants it (list pods yes, secrets 403, nothing once the binding goes);
// automountServiceAccountToken: false leaves no token. Then the upstream conformance tests of
// test/e2e/auth/service_accounts.go that hawser now passes, mirrored by name.
import test from 'ava';
import { createPublicKey, verify } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { Cluster, downLab, eventually, namespace, upLab, type NodeLab } from './helpers/node-e2e.ts';

const LAB = ['sat', '10.81.0.0/24'] as const;
let L: NodeLab;

test.before(async () => {
  L = await upLab(...LAB);
});
test.after.always(async () => {
  await downLab(...LAB);
});

type Spec = Record<string, unknown>;
const MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
const pod = (name: string, c: Spec, spec: Spec = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { terminationGracePeriodSeconds: 0, restartPolicy: 'Never', containers: [{ name: 'c', image: L.testapp, ...c }], ...spec },
  });
const sleeper = (name: string, spec: Spec = {}) => pod(name, { command: ['sleep', '100000'] }, spec);
// the real kubectl v1.35 (a static binary) from the host, as an in-cluster client in the test image
const KUBECTL_BIN = realpathSync('.build/bin/kubectl');
const withKubectl = (name: string, spec: Spec) =>
  pod(
    name,
    { command: ['sleep', '100000'], volumeMounts: [{ name: 'kubectl', mountPath: '/bin/kubectl', readOnly: true }] },
    {
      volumes: [{ name: 'kubectl', hostPath: { path: KUBECTL_BIN, type: 'File' } }],
      ...spec,
    },
  );

const it = (name: string, body: (c: Cluster, t: import('ava').ExecutionContext) => Promise<void>) =>
  test.serial(name, async (t) => body(new Cluster(L.kc, await namespace(t, L.kc)), t));

/** kubectl run inside the pod with its in-cluster config (https://kubernetes.default.svc's
 * address, the mounted token, verified against the mounted ca.crt). */
async function inCluster(c: Cluster, podName: string, args: string[]): Promise<{ code: number; out: string }> {
  const r = await c.exec(podName, ['kubectl', ...args]);
  return { code: r.code, out: r.stdout + r.stderr };
}

it('[sig-auth] [hawser] a pod lists pods in its namespace with its ServiceAccount token, is refused secrets, and loses pods with the binding', async (c, t) => {
  await c.ok(['create', 'serviceaccount', 'lister']);
  await c.ok(['create', 'role', 'pod-reader', '--verb=list', '--resource=pods']);
  await c.ok(['create', 'rolebinding', 'lister-pods', '--role=pod-reader', `--serviceaccount=${c.ns}:lister`]);
  await c.apply(withKubectl('client', { serviceAccountName: 'lister' }));
  await c.waitRunning('client', 90_000);
  const listed = await inCluster(c, 'client', ['get', 'pods', '-o', 'json']);
  t.is(listed.code, 0, listed.out);
  const list = JSON.parse(listed.out);
  t.true(list.items.some((p: { metadata: { name: string } }) => p.metadata.name === 'client'));
  const secrets = await inCluster(c, 'client', ['get', 'secrets']);
  t.not(secrets.code, 0);
  t.regex(
    secrets.out,
    new RegExp(`secrets is forbidden: User "system:serviceaccount:${c.ns}:lister" cannot list resource "secrets" in API group "" in the namespace "${c.ns}"`),
  );
  await c.ok(['delete', 'rolebinding', 'lister-pods']);
  const after = await eventually(
    'pods refused without the binding',
    async () => {
      const r = await inCluster(c, 'client', ['get', 'pods']);
      return r.code !== 0 ? r : undefined;
    },
    30_000,
  );
  t.regex(after.out, /pods is forbidden: User "system:serviceaccount:[^"]+:lister" cannot list resource "pods"/);
});

it('[sig-auth] [hawser] automountServiceAccountToken: false leaves no token in the pod', async (c, t) => {
  await c.apply(sleeper('quiet', { automountServiceAccountToken: false }));
  await c.waitRunning('quiet', 90_000);
  const r = await c.exec('quiet', ['ls', MOUNT]);
  t.not(r.code, 0);
  t.regex(r.stdout + r.stderr, /No such file or directory/);
});

it('[sig-auth] ServiceAccounts should mount an API token into pods [Conformance]', async (c, t) => {
  await c.ok(['create', 'serviceaccount', 'mount-test']);
  const name = `pod-service-account-${Math.random().toString(16).slice(2, 10)}`;
  await c.apply(sleeper(name, { serviceAccountName: 'mount-test' }));
  const p = await c.waitRunning(name, 90_000);
  const node = JSON.parse(await c.ok(['get', 'node', p.spec.nodeName, '-o', 'json']));
  const read = async (file: string) => await c.ok(['exec', name, '--', 'cat', `${MOUNT}/${file}`]);
  const [token, ca, ns] = [await read('token'), await read('ca.crt'), await read('namespace')];
  const rootCA = JSON.parse(await c.ok(['get', 'configmap', 'kube-root-ca.crt', '-o', 'json']));
  t.is(ca, rootCA.data['ca.crt']);
  t.is(ns, c.ns);
  const review = JSON.parse(
    await c.ok(
      ['create', '--validate=false', '-o', 'json', '-f', '-'],
      JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } }),
    ),
  );
  const s = review.status;
  t.true(s.authenticated);
  t.falsy(s.error);
  t.is(s.user.username, `system:serviceaccount:${c.ns}:mount-test`);
  for (const g of ['system:authenticated', 'system:serviceaccounts', `system:serviceaccounts:${c.ns}`]) t.true(s.user.groups.includes(g), g);
  const extra = s.user.extra;
  t.is(extra['authentication.kubernetes.io/credential-id'].length, 1);
  t.regex(extra['authentication.kubernetes.io/credential-id'][0], /^JTI=/);
  t.deepEqual(extra['authentication.kubernetes.io/pod-name'], [name]);
  t.deepEqual(extra['authentication.kubernetes.io/pod-uid'], [p.metadata.uid]);
  t.deepEqual(extra['authentication.kubernetes.io/node-name'], [node.metadata.name]);
  t.deepEqual(extra['authentication.kubernetes.io/node-uid'], [node.metadata.uid]);
});

it('[sig-auth] ServiceAccounts should allow opting out of API token automount [Conformance]', async (c, t) => {
  await c.ok(
    ['create', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'mount' }, automountServiceAccountToken: true }),
  );
  await c.ok(
    ['create', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'nomount' }, automountServiceAccountToken: false }),
  );
  const cases: [string, string, boolean | undefined, boolean][] = [
    ['pod-service-account-defaultsa', 'default', undefined, true],
    ['pod-service-account-mountsa', 'mount', undefined, true],
    ['pod-service-account-nomountsa', 'nomount', undefined, false],
    ['pod-service-account-defaultsa-mountspec', 'default', true, true],
    ['pod-service-account-mountsa-mountspec', 'mount', true, true],
    ['pod-service-account-nomountsa-mountspec', 'nomount', true, true],
    ['pod-service-account-defaultsa-nomountspec', 'default', false, false],
    ['pod-service-account-mountsa-nomountspec', 'mount', false, false],
    ['pod-service-account-nomountsa-nomountspec', 'nomount', false, false],
  ];
  for (const [name, sa, automount, expect] of cases) {
    const spec = { serviceAccountName: sa, ...(automount === undefined ? {} : { automountServiceAccountToken: automount }) };
    const created = JSON.parse(await c.ok(['create', '-o', 'json', '-f', '-'], pod(name, { name: 'token-test' }, spec)));
    const mounted = created.spec.containers.some((ctr: { volumeMounts?: { mountPath: string }[] }) =>
      (ctr.volumeMounts ?? []).some((m) => m.mountPath === MOUNT),
    );
    t.is(mounted, expect, name);
  }
});

it('[sig-auth] ServiceAccounts should mount projected service account token [Conformance]', async (c, t) => {
  const name = `test-pod-${Math.random().toString(16).slice(2, 10)}`;
  await c.apply(
    pod(
      name,
      {
        command: ['sh', '-c', 'echo "content of file \\"/test-volume/token\\": $(cat /test-volume/token)"'],
        volumeMounts: [{ name: 'test-volume', mountPath: '/test-volume', readOnly: true }],
      },
      {
        volumes: [{ name: 'test-volume', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }] } }],
      },
    ),
  );
  await c.waitPhase(name, 'Succeeded', 90_000);
  t.regex(await c.ok(['logs', name]), /content of file "\/test-volume\/token": [A-Za-z0-9-_=]+\.[A-Za-z0-9-_=]+\.?[A-Za-z0-9-_.+/=]*/);
});

it('[sig-auth] ServiceAccounts should create a serviceAccountToken and ensure a successful TokenReview [Conformance]', async (c, t) => {
  await c.ok(['create', 'serviceaccount', 'e2e-sa']);
  const token = (await c.ok(['create', 'token', 'e2e-sa'])).trim();
  t.truthy(token);
  const review = JSON.parse(
    await c.ok(
      ['create', '--validate=false', '-o', 'json', '-f', '-'],
      JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } }),
    ),
  );
  t.true(review.status.authenticated);
  t.is(review.status.user.username, `system:serviceaccount:${c.ns}:e2e-sa`);
});

it('[sig-auth] ServiceAccounts should guarantee kube-root-ca.crt exist in any namespace [Conformance]', async (c, t) => {
  const get = async () => {
    const r = await c.run(['get', 'configmap', 'kube-root-ca.crt', '-o', 'json']);
    return r.code === 0 ? JSON.parse(r.stdout) : undefined;
  };
  const ca = (await eventually('root ca configmap', get, 30_000)).data['ca.crt'];
  await c.ok(['delete', 'configmap', 'kube-root-ca.crt', '--grace-period=0']);
  await eventually('root ca configmap recreated', get, 30_000);
  await c
    .ok(['create', 'configmap', 'kube-root-ca.crt', '--from-literal=ca.crt=fake', '--dry-run=client', '-o', 'json'])
    .then((cm) => c.ok(['replace', '-f', '-'], cm));
  const back = await eventually('root ca configmap reconciled', async () => ((await get())?.data?.['ca.crt'] === ca ? true : undefined), 30_000);
  t.true(back);
});

// upstream runs agnhost's test-service-account-issuer-discovery (go-oidc) in the pod: it fetches the
// discovery document from the issuer URL its token names, then the JWKS, and verifies the token.
// Here the pod fetches both the same way (the real kubectl, its in-cluster credentials, the server
// set to the issuer URL, which cluster DNS resolves) and the test verifies the token against them.
it('[sig-auth] ServiceAccounts ServiceAccountIssuerDiscovery should support OIDC discovery of service account issuer [Conformance]', async (c, t) => {
  const crb = `${c.ns}-system:service-account-issuer-discovery`;
  await c.ok(['create', 'clusterrolebinding', crb, '--clusterrole=system:service-account-issuer-discovery', `--serviceaccount=${c.ns}:default`]);
  t.teardown(async () => {
    await c.run(['delete', 'clusterrolebinding', crb]);
  });
  const issuer = JSON.parse(await c.ok(['get', '--raw', '/.well-known/openid-configuration'])).issuer as string;
  const audience = 'oidc-discovery-test';
  // the pod's own credentials (as rest.InClusterConfig reads them) against the issuer URL
  const creds = `--server="${issuer}" --token="$(cat ${MOUNT}/token)" --certificate-authority=${MOUNT}/ca.crt`;
  const script = [
    `kubectl ${creds} get --raw /.well-known/openid-configuration > /tmp/config || exit 1`,
    `kubectl ${creds} get --raw /openid/v1/jwks > /tmp/jwks || exit 1`,
    'echo "config=$(cat /tmp/config)"; echo "jwks=$(cat /tmp/jwks)"; echo "token=$(cat /var/run/secrets/tokens/sa-token)"',
  ].join('\n');
  const manifest = JSON.parse(
    withKubectl('oidc-discovery-validator', {
      serviceAccountName: 'default',
      volumes: [
        { name: 'kubectl', hostPath: { path: KUBECTL_BIN, type: 'File' } },
        { name: 'sa-token', projected: { sources: [{ serviceAccountToken: { path: 'sa-token', expirationSeconds: 600, audience } }] } },
      ],
    }),
  );
  const ctr = manifest.spec.containers[0];
  ctr.command = ['sh', '-c', script];
  ctr.volumeMounts.push({ name: 'sa-token', mountPath: '/var/run/secrets/tokens', readOnly: true });
  await c.apply(JSON.stringify(manifest));
  const done = await c.waitPod('oidc-discovery-validator', 'Succeeded or Failed', (p) => ['Succeeded', 'Failed'].includes(p.status?.phase), 120_000);
  const logs = await c.ok(['logs', 'oidc-discovery-validator']);
  t.is(done.status.phase, 'Succeeded', logs);
  const field = (k: string) =>
    logs
      .split('\n')
      .find((l) => l.startsWith(`${k}=`))!
      .slice(k.length + 1);
  const config = JSON.parse(field('config'));
  const jwks = JSON.parse(field('jwks'));
  const token = field('token');
  const [h, p, sig] = token.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  t.is(config.issuer, claims.iss, "the discovery document names the token's issuer");
  t.true(config.id_token_signing_alg_values_supported.includes(header.alg));
  const jwk = jwks.keys.find((k: { kid: string }) => k.kid === header.kid);
  t.truthy(jwk, "the JWKS holds the token's key");
  t.true(
    verify('RSA-SHA256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(sig, 'base64url')),
    'the token verifies against the JWKS',
  );
  t.true([claims.aud].flat().includes(audience));
  t.is(claims.sub, `system:serviceaccount:${c.ns}:default`);
  t.true(claims.exp > Date.now() / 1000, 'the token has not expired');
});
