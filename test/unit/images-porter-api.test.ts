// porter's API modes (images/testapp/porter-webhook.c, porter-apiservice.c), compiled as the image
// ships it and run on loopback with a certificate from a CA of the test's own, as the lab's pods
// get it from a Secret: the certificate verifies against that CA under the Service's DNS name;
// SERVE_WEBHOOK_PORT answers AdmissionReviews as agnhost `webhook` does (the request's uid, denials
// with agnhost's texts, JSONPatches that apply, 400 on garbage); SERVE_APISERVICE_PORT answers an
// aggregated API's discovery and a fixed list. The lab test (test/e2e/api-machinery-webhook-pod)
// shows the API server using both.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { freePort } from '../../agents/cli/vm/qemu.ts';
import { issueCert, loadOrCreateCA } from '../../agents/control-plane/pki.ts';
import { compilePorter } from '../../images/testapp/recipe.ts';
import { until } from '../conformance/fixture.ts';

const SERVICE = 'porter.hookpod.svc';
const dir = mkdtempSync(join(tmpdir(), 'porter-api-'));
const bin = join(dir, 'porter');
let ca = '';
let child: ChildProcess | undefined;
let webhook = 0;
let apiservice = 0;

interface Reply {
  status: number;
  type: string | undefined;
  body: string;
}

/** One HTTPS request, the certificate checked against the test's CA as `SERVICE` (as the API server checks it). */
function request(port: number, method: string, path: string, body?: string, type = 'application/json'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': type, 'content-length': Buffer.byteLength(body) };
    const r = https.request({ host: '127.0.0.1', port, path, method, headers, agent: false, timeout: 10_000, ca, servername: SERVICE }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (x: string) => (text += x));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: text }));
    });
    r.on('timeout', () => r.destroy(new Error('no answer')));
    r.on('error', reject);
    r.end(body);
  });
}

test.before(async () => {
  compilePorter(bin);
  const authority = await loadOrCreateCA(join(dir, 'ca'));
  const serving = await issueCert(authority, { cn: 'porter', sans: [SERVICE], usage: 'server' });
  ca = authority.certPem;
  writeFileSync(join(dir, 'tls.crt'), serving.certPem);
  writeFileSync(join(dir, 'tls.key'), serving.keyPem);
  [webhook, apiservice] = [await freePort(), await freePort()];
  child = spawn(bin, [], {
    env: {
      SERVE_WEBHOOK_PORT: String(webhook),
      SERVE_APISERVICE_PORT: String(apiservice),
      SERVE_TLS_CERT_FILE: join(dir, 'tls.crt'),
      SERVE_TLS_KEY_FILE: join(dir, 'tls.key'),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await until(
    'porter to listen',
    () =>
      request(webhook, 'GET', '/readyz').then(
        (r) => r.body === 'ok',
        () => false,
      ),
    10_000,
    100,
  );
});
test.after.always(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const configMap = (data: Record<string, string>, labels?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'cm', namespace: 'ns', ...(labels ? { labels } : {}) },
  data,
});

/** An AdmissionReview as the API server sends it: the object's own metadata.uid beside the request's. */
const review = (object: unknown, operation = 'CREATE', apiVersion = 'admission.k8s.io/v1') => ({
  kind: 'AdmissionReview',
  apiVersion,
  request: {
    kind: { group: '', version: 'v1', kind: 'ConfigMap' },
    resource: { group: '', version: 'v1', resource: 'configmaps' },
    object: { ...(object as object), metadata: { ...(object as { metadata: object }).metadata, uid: 'object-uid' } },
    uid: 'e7b1c0de-request-uid',
    operation,
    userInfo: { username: 'x' },
  },
});

interface Response {
  uid: string;
  allowed: boolean;
  status?: { message?: string; reason?: string };
  patchType?: string;
  patch?: string;
}

async function admit(path: string, body: unknown): Promise<{ apiVersion: string; kind: string; response: Response; ops?: unknown }> {
  const r = await request(webhook, 'POST', `${path}?timeout=10s`, JSON.stringify(body));
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.body}`);
  const out = JSON.parse(r.body);
  return { ...out, ops: out.response.patch ? JSON.parse(Buffer.from(out.response.patch, 'base64').toString('utf8')) : undefined };
}

test('/always-deny denies with agnhost message, answering the request uid in the review version asked', async (t) => {
  const v1 = await admit('/always-deny', review(configMap({})));
  t.like(v1, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
  t.deepEqual(v1.response, { uid: 'e7b1c0de-request-uid', allowed: false, status: { metadata: {}, message: 'this webhook denies all requests' } } as Response);
  t.is((await admit('/always-deny', review(configMap({}), 'CREATE', 'admission.k8s.io/v1beta1'))).apiVersion, 'admission.k8s.io/v1beta1');
});

test('/configmaps denies the unwanted key and value on create, allows others, and denies deleting a nondeletable one', async (t) => {
  const bad = await admit('/configmaps', review(configMap({ 'webhook-e2e-test': 'webhook-disallow' })));
  t.deepEqual(bad.response.status, { metadata: {}, reason: 'the configmap contains unwanted key and value' } as Response['status']);
  t.false(bad.response.allowed);
  t.true((await admit('/configmaps', review(configMap({ 'webhook-e2e-test': 'fine' })))).response.allowed);
  const base = review(configMap({ 'webhook-e2e-test': 'webhook-nondeletable' }), 'DELETE');
  const del = { ...base, request: { ...base.request, object: null, oldObject: base.request.object } };
  t.is((await admit('/configmaps', del)).response.status?.reason, 'the configmap cannot be deleted because it contains unwanted key and value');
});

test('/mutating-configmaps adds mutation-stage-1 to a configmap with mutation-start, and stage 2 after stage 1', async (t) => {
  const one = await admit('/mutating-configmaps', review(configMap({ 'mutation-start': 'yes' })));
  t.like(one.response, { allowed: true, patchType: 'JSONPatch' });
  t.deepEqual(one.ops, [{ op: 'add', path: '/data/mutation-stage-1', value: 'yes' }]);
  t.deepEqual((await admit('/mutating-configmaps', review(configMap({ 'mutation-start': 'yes', 'mutation-stage-1': 'yes' })))).ops, [
    { op: 'add', path: '/data/mutation-stage-2', value: 'yes' },
  ]);
  const none = await admit('/mutating-configmaps', review(configMap({ other: 'yes' })));
  t.deepEqual(none.response, { uid: 'e7b1c0de-request-uid', allowed: true });
});

test('/add-label adds added-label=yes as the first label, beside others, or corrects it', async (t) => {
  t.deepEqual((await admit('/add-label', review(configMap({})))).ops, [{ op: 'add', path: '/metadata/labels', value: { 'added-label': 'yes' } }]);
  t.deepEqual((await admit('/add-label', review(configMap({}, {})))).ops, [{ op: 'add', path: '/metadata/labels', value: { 'added-label': 'yes' } }]);
  t.deepEqual((await admit('/add-label', review(configMap({}, { a: 'b' })))).ops, [{ op: 'add', path: '/metadata/labels/added-label', value: 'yes' }]);
  t.deepEqual((await admit('/add-label', review(configMap({}, { 'added-label': 'no' })))).ops, [
    { op: 'replace', path: '/metadata/labels/added-label', value: 'yes' },
  ]);
  t.is((await admit('/add-label', review(configMap({}, { 'added-label': 'yes' })))).response.patch, undefined);
});

test('/always-allow-delay-5s allows after 5 s', async (t) => {
  const start = Date.now();
  t.true((await admit('/always-allow-delay-5s', review(configMap({})))).response.allowed);
  t.true(Date.now() - start >= 4900, `answered after ${Date.now() - start} ms`);
});

test('the webhook refuses what is not an AdmissionReview with 400 and an unknown path with 404, and keeps serving', async (t) => {
  for (const body of ['garbage', '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1"}', '{"request":{"uid":"x"}', '[1,2']) {
    const r = await request(webhook, 'POST', '/always-deny', body);
    t.is(r.status, 400, body);
    t.regex(r.body, /^Request could not be decoded/, body);
  }
  t.is((await request(webhook, 'POST', '/always-deny', '{}', 'text/plain')).status, 400, 'not application/json');
  t.is((await request(webhook, 'POST', '/nope', JSON.stringify(review(configMap({}))))).status, 404);
  t.is((await request(webhook, 'GET', '/readyz')).body, 'ok');
});

const GV = '/apis/porter.hawser.local/v1';

test('the aggregated API answers discovery for porter.hawser.local/v1 and a list of one Porter named after the host', async (t) => {
  const get = async (path: string) => {
    const r = await request(apiservice, 'GET', path);
    t.is(r.type, r.status === 200 && path.startsWith('/apis') ? 'application/json' : r.type, path);
    return { status: r.status, json: r.body.startsWith('{') ? JSON.parse(r.body) : r.body };
  };
  t.deepEqual((await get('/healthz')).json, 'ok');
  const list = (await get('/apis')).json;
  t.deepEqual(
    list.groups.map((g: { name: string; preferredVersion: { groupVersion: string } }) => [g.name, g.preferredVersion.groupVersion]),
    [['porter.hawser.local', 'porter.hawser.local/v1']],
  );
  t.like((await get('/apis/porter.hawser.local')).json, { kind: 'APIGroup', name: 'porter.hawser.local' });
  t.like((await get(GV)).json, {
    kind: 'APIResourceList',
    groupVersion: 'porter.hawser.local/v1',
    resources: [{ name: 'porters', namespaced: false, kind: 'Porter', verbs: ['get', 'list'] }],
  });
  const porters = (await get(`${GV}/porters?limit=500`)).json;
  t.like(porters, { kind: 'PorterList', apiVersion: 'porter.hawser.local/v1', items: [{ kind: 'Porter', metadata: { name: hostname() } }] });
  t.like((await get(`${GV}/porters/${hostname()}`)).json, { kind: 'Porter', metadata: { name: hostname() } });
  t.like(await get(`${GV}/porters/nope`), {
    status: 404,
    json: { kind: 'Status', reason: 'NotFound', code: 404, message: 'porters.porter.hawser.local "nope" not found' },
  });
  t.like(await get('/apis/other.group/v1'), { status: 404, json: { kind: 'Status', reason: 'NotFound' } });
  t.like(await request(apiservice, 'POST', `${GV}/porters`, '{}'), { status: 405 });
});

test('porter refuses a certificate file without its key, and a bad API port', (t) => {
  for (const [env, message] of [
    [{ SERVE_WEBHOOK_PORT: '8443', SERVE_TLS_CERT_FILE: join(dir, 'tls.crt') }, /SERVE_TLS_CERT_FILE and SERVE_TLS_KEY_FILE go together/],
    [{ SERVE_WEBHOOK_PORT: '8443', SERVE_TLS_CERT_FILE: join(dir, 'tls.crt'), SERVE_TLS_KEY_FILE: join(dir, 'missing') }, /cannot set up TLS/],
    [{ SERVE_APISERVICE_PORT: 'https' }, /bad environment variable .*SERVE_APISERVICE_PORT=https/],
  ] as const) {
    const r = spawnSync(bin, [], { env, encoding: 'utf8', timeout: 5000 });
    t.is(r.status, 1);
    t.regex(r.stderr, message);
  }
});
