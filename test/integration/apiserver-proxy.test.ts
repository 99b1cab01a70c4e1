// pods/proxy, services/proxy and nodes/proxy against a real API server: every method reaches the
// backend with its path and query, GET/HEAD without a path get upstream's 301, HTML links are
// rewritten under the proxy path, a Service picks a ready endpoint of the named port (503 with
// upstream's message when there is none), bad names and unproxyable addresses are 400s, and the
// proxy verbs are authorized on the proxy subresource (403 naming pods/proxy).
//
// The backend needs an address the API server will proxy to (upstream refuses loopback), so the
// test adds 198.18.85.1/32 (a benchmarking range, never routed) to lo and removes it at the end:
// the traffic still never leaves the host.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { loadKubeconfig } from '../../agents/api/kubeconfig.ts';
import { type Cluster, startCluster } from './_apiserver-kit.ts';

const BACKEND_IP = '198.18.85.1';
const NS = 'proxy-test';
let c: Cluster;
let backend: http.Server;
let port = 0;
let jane: string;
let addedIP = false;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json?: any;
}

function send(kubeconfig: string, method: string, path: string, body?: string): Promise<Reply> {
  const { server, ca, cert, key } = loadKubeconfig(kubeconfig);
  const u = new URL(server);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)) };
    const r = https.request({ host: u.hostname, port: u.port, path, method, ca, cert, key, agent: false, headers, timeout: 15_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (x: string) => (text += x));
      res.on('end', () => {
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    r.on('timeout', () => r.destroy(new Error(`${method} ${path} timed out`)));
    r.on('error', reject);
    r.end(body);
  });
}

const admin = (method: string, path: string, body?: string) => send(c.admin, method, path, body);
const apply = (obj: unknown) => c.ok(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(obj) });

test.before(async () => {
  execFileSync('ip', ['addr', 'add', `${BACKEND_IP}/32`, 'dev', 'lo']);
  addedIP = true;
  backend = http.createServer((req, res) => {
    let body = '';
    req.on('data', (x) => (body += x));
    req.on('end', () => {
      if (req.url?.startsWith('/html')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'access-control-allow-origin': '*' });
        return void res.end('<a href="/rewriteme">test</a><img src="relative.png"><a href="http://other.example/x">o</a>');
      }
      if (req.url?.startsWith('/moved')) {
        res.writeHead(302, { location: '/elsewhere/' });
        return void res.end();
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(method(req, body));
    });
  });
  const method = (req: http.IncomingMessage, body: string) =>
    JSON.stringify({ Method: req.method, Path: req.url, Body: body, Auth: req.headers.authorization ?? null });
  await new Promise<void>((r) => backend.listen(0, BACKEND_IP, r));
  port = (backend.address() as AddressInfo).port;
  c = await startCluster('sqlite');
  jane = await c.identity('jane', ['devs']);
  await c.ok(['create', 'namespace', NS]);
  await apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: NS },
    spec: { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: port }] }] },
  });
  await c.ok([
    'patch',
    'pod',
    'web',
    '-n',
    NS,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { podIP: BACKEND_IP, podIPs: [{ ip: BACKEND_IP }] } }),
  ]);
  await apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'local', namespace: NS }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  await c.ok(['patch', 'pod', 'local', '-n', NS, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { podIP: '127.0.0.1' } })]);
  // Services without selectors: their EndpointSlices are written here, as a controller would
  await apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace: NS }, spec: { ports: [{ name: 'http', port: 80, targetPort: port }] } });
  await apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'empty', namespace: NS }, spec: { ports: [{ port: 80 }] } });
  await apply({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'svc-1', namespace: NS, labels: { 'kubernetes.io/service-name': 'svc' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: [
      { addresses: ['10.255.255.1'], conditions: { ready: false } },
      { addresses: [BACKEND_IP], conditions: { ready: true } },
    ],
  });
});

test.after.always(async () => {
  await c?.close();
  backend?.close();
  if (addedIP) execFileSync('ip', ['addr', 'del', `${BACKEND_IP}/32`, 'dev', 'lo']);
});

const podBase = `/api/v1/namespaces/${NS}/pods/web/proxy`;
const svcBase = `/api/v1/namespaces/${NS}/services/svc:80/proxy`;

test.serial('pods/proxy and services/proxy carry every method, the path after /proxy, the query and the body; no credentials go through', async (t) => {
  for (const base of [podBase, svcBase]) {
    for (const m of ['GET', 'DELETE', 'OPTIONS', 'PATCH', 'POST', 'PUT']) {
      const r = await admin(m, `${base}/some/path/with/${m}?a=1&b=x%20y`, m === 'GET' || m === 'OPTIONS' ? undefined : `body-${m}`);
      t.is(r.status, 200, `${m} ${base}: ${r.text}`);
      t.like(r.json, { Method: m, Path: `/some/path/with/${m}?a=1&b=x+y`, Body: m === 'GET' || m === 'OPTIONS' ? '' : `body-${m}`, Auth: null });
    }
    const head = await admin('HEAD', `${base}/x`);
    t.is(head.status, 200);
    t.is(head.text, '');
    // no path after /proxy: other methods reach "/"
    t.like((await admin('POST', `${base}?method=POST`)).json, { Method: 'POST', Path: '/?method=POST' });
  }
});

test.serial('GET and HEAD on .../proxy without a path answer 301 to .../proxy/, as upstream', async (t) => {
  for (const base of [podBase, svcBase]) {
    for (const m of ['GET', 'HEAD']) {
      const r = await admin(m, `${base}?method=${m}`);
      t.is(r.status, 301, `${m} ${base}`);
      t.is(r.headers.location, `${base}/?method=${m}`);
    }
  }
});

test.serial('HTML links and redirects are rewritten under the proxy path; CORS headers are dropped', async (t) => {
  const base = `/api/v1/namespaces/${NS}/pods/http:web:${port}/proxy`;
  const r = await admin('GET', `${base}/html`);
  t.is(r.status, 200);
  t.is(r.text, `<a href="${base}/rewriteme">test</a><img src="relative.png"><a href="http://other.example/x">o</a>`);
  t.is(r.headers['access-control-allow-origin'], undefined);
  const moved = await admin('GET', `${base}/moved`);
  t.is(moved.status, 302);
  t.is(moved.headers.location, `${base}/elsewhere/`);
});

test.serial('kubectl get --raw reaches a Service through services/NAME:PORT/proxy/', async (t) => {
  const out = await c.ok(['get', '--raw', `/api/v1/namespaces/${NS}/services/svc:80/proxy/hello`]);
  t.like(JSON.parse(out), { Method: 'GET', Path: '/hello' });
  t.like(JSON.parse(await c.ok(['get', '--raw', `/api/v1/namespaces/${NS}/services/http:svc:http/proxy/`])), { Path: '/' });
});

test.serial('a Service without a ready endpoint or without the port is a 503 Status; bad names and loopback pods are 400s', async (t) => {
  const none = await admin('GET', `/api/v1/namespaces/${NS}/services/empty:80/proxy/`);
  t.is(none.status, 503);
  t.like(none.json, { kind: 'Status', status: 'Failure', reason: 'ServiceUnavailable', code: 503, message: 'no endpoints available for service "empty"' });
  const noPort = await admin('GET', `/api/v1/namespaces/${NS}/services/svc:81/proxy/`);
  t.like(noPort.json, { code: 503, reason: 'ServiceUnavailable', message: 'no service port 81 found for service "svc"' });
  const missing = await admin('GET', `/api/v1/namespaces/${NS}/services/nope/proxy/`);
  t.like(missing.json, { code: 404, reason: 'NotFound', message: 'services "nope" not found' });
  const bad = await admin('GET', `/api/v1/namespaces/${NS}/pods/a:b:c:d/proxy/`);
  t.like(bad.json, { code: 400, reason: 'BadRequest', message: 'invalid pod request "a:b:c:d"' });
  t.like((await admin('GET', `/api/v1/namespaces/${NS}/services/ftp:svc:80/proxy/`)).json, { code: 400, message: 'invalid service request "ftp:svc:80"' });
  t.like((await admin('GET', `/api/v1/namespaces/${NS}/pods/local/proxy/`)).json, { code: 400, reason: 'BadRequest', message: 'address not allowed' });
  // a backend that refuses the connection
  t.like((await admin('GET', `/api/v1/namespaces/${NS}/pods/web:1/proxy/`)).json, { code: 503, reason: 'ServiceUnavailable' });
});

test.serial('nodes/proxy refuses a node whose address is loopback; discovery lists the proxy subresources', async (t) => {
  await c.ok(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n-proxy' } }) });
  await c.ok([
    'patch',
    'node',
    'n-proxy',
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] } }),
  ]);
  t.like((await admin('GET', '/api/v1/nodes/n-proxy/proxy/healthz')).json, { code: 400, message: 'address not allowed' });
  t.like((await admin('GET', '/api/v1/nodes/a:b:c:d/proxy/')).json, { code: 400, message: 'invalid node request "a:b:c:d"' });
  const res = (await admin('GET', '/api/v1')).json.resources as { name: string; kind: string; verbs: string[] }[];
  t.deepEqual(
    res.find((r) => r.name === 'pods/proxy'),
    {
      name: 'pods/proxy',
      singularName: '',
      namespaced: true,
      group: '',
      version: 'v1',
      kind: 'PodProxyOptions',
      verbs: ['create', 'delete', 'get', 'patch', 'update'],
    },
  );
  t.is(res.find((r) => r.name === 'services/proxy')?.kind, 'ServiceProxyOptions');
  t.is(res.find((r) => r.name === 'nodes/proxy')?.kind, 'NodeProxyOptions');
});

test.serial('the proxy verbs are authorized on the proxy subresource: 403 naming pods/proxy, then allowed by a Role', async (t) => {
  await c.ok(['create', 'role', 'pod-reader', '-n', NS, '--verb=get,list', '--resource=pods,services']);
  await c.ok(['create', 'rolebinding', 'jane-reads', '-n', NS, '--role=pod-reader', '--user=jane']);
  const denied = await send(jane, 'GET', `${podBase}/x`);
  t.is(denied.status, 403);
  t.like(denied.json, {
    kind: 'Status',
    reason: 'Forbidden',
    code: 403,
    details: { name: 'web', kind: 'pods' },
    message: `pods "web" is forbidden: User "jane" cannot get resource "pods/proxy" in API group "" in the namespace "${NS}"`,
  });
  const svc = await send(jane, 'POST', `${svcBase}/x`, 'b');
  t.like(svc.json, {
    code: 403,
    message: `services "svc:80" is forbidden: User "jane" cannot create resource "services/proxy" in API group "" in the namespace "${NS}"`,
  });
  await c.ok(['create', 'role', 'proxier', '-n', NS, '--verb=get', '--resource=pods/proxy,services/proxy']);
  await c.ok(['create', 'rolebinding', 'jane-proxies', '-n', NS, '--role=proxier', '--user=jane']);
  let ok: Reply | undefined;
  for (let i = 0; i < 50 && ok?.status !== 200; i++) {
    ok = await send(jane, 'GET', `${podBase}/x`);
    if (ok.status !== 200) await new Promise((r) => setTimeout(r, 100));
  }
  t.is(ok?.status, 200);
  t.like(ok?.json, { Method: 'GET', Path: '/x' });
  t.is((await send(jane, 'GET', `${svcBase}/x`)).status, 200);
  t.is((await send(jane, 'PUT', `${svcBase}/x`, 'b')).status, 403, 'get does not grant update');
  t.is((await send(jane, 'OPTIONS', `${podBase}/x`)).status, 403, 'OPTIONS has no verb: only "*" grants it, as upstream');
});
