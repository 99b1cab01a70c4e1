// CONNECT admission against a real API server: webhooks with rules on pods/attach, pods/exec and
// pods/portforward are called before the stream is upgraded, with operation CONNECT and the
// request's PodAttachOptions / PodExecOptions / PodPortForwardOptions as the object (upstream's
// kind and defaulted fields); a denial is the webhook's Status, which kubectl attach prints, and an
// allowed request goes on to the pod (here: none, so 404).
import https from 'node:https';
import test from 'ava';
import { loadKubeconfig } from '../../agents/api/kubeconfig.ts';
import { type Cluster, readyNode, until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { rawClient, type RawClient } from './_https.ts';
import { jsonPatchResponse, startWebhookServer, type WebhookServer } from './_webhook-server.ts';

let c: Cluster;
let api: RawClient;
let hook: WebhookServer;
const NS = 'connect-hooks';

fileCluster(async (cluster, own) => {
  c = cluster;
  api = own(rawClient(c.admin, 15_000));
  // upstream's agnhost denySpecificAttachment, and a deny-all for exec and port-forward
  hook = await startWebhookServer({
    '/pods/attach': (r) => {
      const o = r.request.object ?? {};
      const deny = r.request.name === 'to-be-attached-pod' && o.stdin === true && o.container === 'container1';
      return deny ? { allowed: false, status: { message: "attaching to pod 'to-be-attached-pod' is not allowed" } } : { allowed: true };
    },
    '/deny': () => ({ allowed: false, status: { code: 403, reason: 'Forbidden', message: 'no streams here' } }),
    '/to-container1': () => jsonPatchResponse([{ op: 'replace', path: '/container', value: 'container1' }]),
  });
  const r = await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  if (r.status !== 201) throw new Error(`namespace: ${r.status} ${r.text}`);
});
test.after.always(async () => {
  await hook?.close();
});

const VWC = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
const MWC = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';

async function register(t: { teardown(fn: () => Promise<void>): void }, name: string, path: string, resources: string[], mutating = false): Promise<void> {
  const base = mutating ? MWC : VWC;
  const r = await api.request('POST', base, {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: mutating ? 'MutatingWebhookConfiguration' : 'ValidatingWebhookConfiguration',
    metadata: { name },
    webhooks: [
      {
        name: `${name}.k8s.io`,
        clientConfig: { url: hook.url(path), caBundle: hook.caBundle },
        rules: [{ operations: ['CONNECT'], apiGroups: [''], apiVersions: ['v1'], resources }],
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': NS } },
        sideEffects: 'None',
        admissionReviewVersions: ['v1', 'v1beta1'],
      },
    ],
  });
  if (r.status !== 201) throw new Error(`${name}: ${r.status} ${r.text}`);
  t.teardown(async () => {
    await api.request('DELETE', `${base}/${name}`);
  });
}

/** An SPDY upgrade request as kubectl's fallback sends it; the answer's status and body (no upgrade happens here). */
function upgrade(path: string): Promise<{ status: number; body: any }> {
  const { server, ca, cert, key } = loadKubeconfig(c.admin);
  const u = new URL(server);
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: u.hostname,
      port: u.port,
      path,
      method: 'POST',
      ca,
      cert,
      key,
      timeout: 15_000,
      headers: { connection: 'Upgrade', upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'v4.channel.k8s.io' },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, body: undefined });
    });
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer`)));
    req.on('error', reject);
    req.end();
  });
}

const podPath = (name: string, sub: string, query: string) => `/api/v1/namespaces/${NS}/pods/${name}/${sub}?${query}`;

test.serial('a CONNECT webhook on pods/attach gets PodAttachOptions and denies the attach with its message, before the stream', async (t) => {
  await register(t, 'deny-attaching-pod', '/pods/attach', ['pods/attach']);
  const denied = await until('the webhook to take effect', async () => {
    const r = await upgrade(podPath('to-be-attached-pod', 'attach', 'stdin=true&stdout=true&container=container1'));
    return r.status === 400 ? r : undefined;
  });
  t.is(denied.body.kind, 'Status');
  t.is(denied.body.message, `admission webhook "deny-attaching-pod.k8s.io" denied the request: attaching to pod 'to-be-attached-pod' is not allowed`);
  const review = hook.received('/pods/attach').at(-1)!.request;
  t.is(review.operation, 'CONNECT');
  t.deepEqual(review.kind, { group: '', version: 'v1', kind: 'PodAttachOptions' });
  t.deepEqual(review.resource, { group: '', version: 'v1', resource: 'pods' });
  t.is(review.subResource, 'attach');
  t.is(review.name, 'to-be-attached-pod');
  t.is(review.namespace, NS);
  // stdout and stderr defaulted true as upstream; tty false left out
  t.deepEqual(review.object, { kind: 'PodAttachOptions', apiVersion: 'v1', stdin: true, stdout: true, stderr: true, container: 'container1' });
  t.is(review.oldObject, null);
  t.is(review.options, null);
  // an attach the webhook admits goes on to the pod, which does not exist
  const other = await upgrade(podPath('to-be-attached-pod', 'attach', 'stdin=true&stdout=true&container=other'));
  t.is(other.status, 404);
  t.is(other.body.reason, 'NotFound');
});

test.serial('kubectl attach prints the webhook denial', async (t) => {
  await register(t, 'deny-attaching-pod-kubectl', '/pods/attach', ['pods/attach']);
  // a pod that reads Running, so kubectl goes on to the attach request
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'to-be-attached-pod', namespace: NS },
    spec: { nodeName: 'nowhere', containers: [{ name: 'container1', image: 'pause' }] },
  };
  const created = await api.request('POST', `/api/v1/namespaces/${NS}/pods`, pod);
  t.is(created.status, 201, created.text);
  t.teardown(async () => {
    await api.request('DELETE', `/api/v1/namespaces/${NS}/pods/to-be-attached-pod?gracePeriodSeconds=0`);
  });
  const status = { ...created.body, status: { phase: 'Running' } };
  const put = await api.request('PUT', `/api/v1/namespaces/${NS}/pods/to-be-attached-pod/status`, status);
  t.is(put.status, 200, put.text);
  const out = await until('kubectl attach to be denied', async () => {
    const r = await c.kubectl(['-n', NS, 'attach', 'to-be-attached-pod', '-i', '-c=container1'], { input: '', timeoutMs: 20_000 });
    return r.stderr.includes('denied the request') ? r : undefined;
  });
  t.not(out.code, 0);
  t.true(out.stderr.includes("attaching to pod 'to-be-attached-pod' is not allowed"), out.stderr);
});

test.serial('exec and port-forward send PodExecOptions (with the command) and PodPortForwardOptions; a webhook code is kept', async (t) => {
  await register(t, 'deny-streams', '/deny', ['pods/exec', 'pods/portforward']);
  const exec = await until('the webhook to take effect', async () => {
    const r = await upgrade(podPath('p', 'exec', 'command=ls&command=-l&stdout=true&tty=true&container=c'));
    return r.status === 403 ? r : undefined;
  });
  t.is(exec.body.reason, 'Forbidden');
  t.is(exec.body.message, 'admission webhook "deny-streams.k8s.io" denied the request: no streams here');
  const execReview = hook.received('/deny').at(-1)!.request;
  t.deepEqual(execReview.kind, { group: '', version: 'v1', kind: 'PodExecOptions' });
  t.is(execReview.subResource, 'exec');
  t.deepEqual(execReview.object, { kind: 'PodExecOptions', apiVersion: 'v1', stdout: true, stderr: true, tty: true, container: 'c', command: ['ls', '-l'] });
  const pf = await upgrade(podPath('p', 'portforward', 'ports=8080&ports=9090'));
  t.is(pf.status, 403);
  const pfReview = hook.received('/deny').at(-1)!.request;
  t.is(pfReview.operation, 'CONNECT');
  t.deepEqual(pfReview.object, { kind: 'PodPortForwardOptions', apiVersion: 'v1', ports: [8080, 9090] });
  // pods/log is not a connect subresource: no webhook call
  const before = hook.received('/deny').length;
  await api.request('GET', `/api/v1/namespaces/${NS}/pods/p/log`);
  t.is(hook.received('/deny').length, before);
});

test.serial('the stream goes on with the options a mutating CONNECT webhook changed', async (t) => {
  // a pod on a node whose kubelet port nothing listens on: the container is checked before the dial
  const node = {
    ...readyNode('connect-node', '127.0.0.1'),
    status: { ...readyNode('connect-node', '127.0.0.1').status, daemonEndpoints: { kubeletEndpoint: { Port: 1 } } },
  };
  t.is((await api.request('POST', '/api/v1/nodes', node)).status, 201);
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'mutated-attach', namespace: NS },
    spec: { nodeName: 'connect-node', containers: [{ name: 'container1', image: 'pause' }] },
  };
  t.is((await api.request('POST', `/api/v1/namespaces/${NS}/pods`, pod)).status, 201);
  t.teardown(async () => {
    await api.request('DELETE', `/api/v1/namespaces/${NS}/pods/mutated-attach?gracePeriodSeconds=0`);
    await api.request('DELETE', '/api/v1/nodes/connect-node');
  });
  const path = podPath('mutated-attach', 'attach', 'stdout=true&container=bogus');
  const before = await upgrade(path);
  t.is(before.status, 400);
  t.is(before.body.message, 'container bogus is not valid for pod mutated-attach');
  await register(t, 'to-container1', '/to-container1', ['pods/attach'], true);
  const after = await until('the mutating webhook to take effect', async () => {
    const r = await upgrade(path);
    return r.status !== 400 ? r : undefined;
  });
  // container1 passed the check; the dial to the kubelet is what failed
  t.true(after.status >= 500, JSON.stringify(after.body));
  t.is(hook.received('/to-container1').at(-1)!.request.object.container, 'bogus');
});
