// WebSocket (HTTP/1.1 Upgrade) through the built-in ingress controller (agents/ingress): the
// upgrade reaches the backend the route names with the client's headers and the X-Forwarded ones,
// the 101 and its headers come back, and messages flow both ways on the spliced connection; an
// upgrade for a host no rule names is a 404, as a plain request.
import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { startIngress } from '../../agents/ingress/controller.ts';
import { type Cluster, startCluster, until } from './_apiserver-kit.ts';

let c: Cluster;
let backend: http.Server;
let ingress: Awaited<ReturnType<typeof startIngress>> | undefined;
let seen: http.IncomingHttpHeaders | undefined;
test.before(async () => {
  c = await startCluster('sqlite');
  backend = http.createServer((_req, res) => res.end('plain'));
  const wss = new WebSocketServer({ server: backend });
  wss.on('connection', (ws, req) => {
    seen = req.headers;
    ws.on('message', (m) => ws.send(`echo ${m.toString()} on ${req.url}`));
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
});
test.after.always(async () => {
  await ingress?.stop();
  backend?.closeAllConnections();
  backend?.close();
  await c?.close();
});

/** One WebSocket round trip through the ingress: the answer, or the HTTP status the upgrade got. */
function roundTrip(port: number, host: string, path: string): Promise<{ answer?: string; status?: number; protocol?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, ['chat'], { headers: { host }, handshakeTimeout: 5000 });
    const done = setTimeout(() => {
      ws.terminate();
      resolve({});
    }, 10_000);
    ws.on('open', () => ws.send('hello'));
    ws.on('message', (m) => {
      clearTimeout(done);
      resolve({ answer: m.toString(), protocol: ws.protocol });
      ws.close();
    });
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(done);
      resolve({ status: res.statusCode });
      res.resume();
    });
    ws.on('error', () => {
      clearTimeout(done);
      resolve({});
    });
  });
}

test.serial('a WebSocket upgrade is spliced to the routed backend, messages flow both ways; an unrouted host is a 404', async (t) => {
  const port = (backend.address() as AddressInfo).port;
  const objects = [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'chat', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80, targetPort: port }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'chat-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'chat' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
      ports: [{ name: 'http', port, protocol: 'TCP' }],
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'chat', namespace: 'default' },
      spec: {
        rules: [
          { host: 'chat.example.com', http: { paths: [{ path: '/ws', pathType: 'Prefix', backend: { service: { name: 'chat', port: { number: 80 } } } }] } },
        ],
      },
    },
  ];
  await c.ok(['create', '-f', '-'], { input: objects.map((o) => JSON.stringify(o)).join('\n---\n') });
  const kubeconfig = await c.identity('system:hawser-ingress', []);
  ingress = await startIngress({ nodeName: 'n1', kubeconfig, bindAddress: '127.0.0.1', httpPort: 0, httpsPort: 0 });
  const ip = ingress.ports.http;
  await until(
    'the route to chat',
    async () =>
      new Promise<boolean>((r) =>
        http
          .get({ host: '127.0.0.1', port: ip, path: '/ws', headers: { host: 'chat.example.com' }, agent: false }, (res) => {
            res.resume();
            r(res.statusCode === 200);
          })
          .on('error', () => r(false)),
      ),
    15_000,
  );
  const r = await roundTrip(ip, 'chat.example.com', '/ws/room?x=1');
  t.is(r.answer, 'echo hello on /ws/room?x=1');
  t.is(r.protocol, 'chat', "the backend's 101 headers reach the client");
  t.is(seen?.host, 'chat.example.com');
  t.is(seen?.['x-forwarded-proto'], 'http');
  t.is(seen?.['x-forwarded-for'], '127.0.0.1');
  t.is((await roundTrip(ip, 'other.example.com', '/ws')).status, 404);
});
