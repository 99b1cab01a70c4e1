// The built-in ingress controller (agents/ingress) in-process against a real API server, as its own
// identity system:hawser-ingress: a request for a host and path reaches the backend the routes
// name (a selectorless Service whose EndpointSlice points at a local HTTP server), while a rule
// naming a missing Service answers 503 and the Ingress gets a Warning event saying so, and the
// other rules keep working.
import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startIngress } from '../../agents/ingress/controller.ts';
import { type Cluster, startCluster, until } from './_apiserver-kit.ts';

let c: Cluster;
let backend: http.Server;
let ingress: Awaited<ReturnType<typeof startIngress>> | undefined;
test.before(async () => {
  c = await startCluster('sqlite');
  backend = http.createServer((req, res) => res.end(`backend ${req.headers.host} ${req.url}`));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
});
test.after.always(async () => {
  await ingress?.stop();
  backend?.close();
  await c?.close();
});

function get(port: number, host: string, path: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body: body.trim() }));
      })
      .on('error', (e) => resolve({ code: 0, body: String(e) }));
  });
}

test.serial("routes to a Service's endpoints; a missing Service is a 503 and a Warning event, and the other rules keep working", async (t) => {
  const port = (backend.address() as AddressInfo).port;
  const objects = [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80, targetPort: port }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
      ports: [{ name: 'http', port, protocol: 'TCP' }],
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'site', namespace: 'default' },
      spec: {
        rules: [
          {
            host: 'site.example.com',
            http: {
              paths: [
                { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
                { path: '/gone', pathType: 'Prefix', backend: { service: { name: 'missing', port: { number: 80 } } } },
              ],
            },
          },
        ],
      },
    },
  ];
  await c.ok(['create', '-f', '-'], { input: objects.map((o) => JSON.stringify(o)).join('\n---\n') });
  const kubeconfig = await c.identity('system:hawser-ingress', []);
  ingress = await startIngress({ nodeName: 'n1', kubeconfig, bindAddress: '127.0.0.1', httpPort: 0, httpsPort: 0 });
  const ok = await until(
    'the route to web',
    async () => {
      const r = await get(ingress!.ports.http, 'site.example.com', '/a?b=1');
      return r.code === 200 && r;
    },
    15_000,
  );
  t.is(ok.body, 'backend site.example.com /a?b=1');
  const gone = await get(ingress.ports.http, 'site.example.com', '/gone/x');
  t.is(gone.code, 503);
  t.is(gone.body, 'no ready endpoints for service default/missing');
  t.is((await get(ingress.ports.http, 'other.example.com', '/')).code, 404);
  const event = await until(
    'the ServiceNotFound event',
    async () => {
      const list = JSON.parse(await c.ok(['get', 'events', '-n', 'default', '--field-selector', 'involvedObject.name=site', '-o', 'json']));
      return list.items.find((e: { reason: string }) => e.reason === 'ServiceNotFound');
    },
    15_000,
  );
  t.is(event.type, 'Warning');
  t.is(event.message, 'service "default/missing" not found: requests routed to it are answered 503');
  t.is(event.involvedObject.kind, 'Ingress');
  t.is(JSON.parse(await c.ok(['get', 'ingress', 'site', '-o', 'json'])).spec.ingressClassName, 'hawser', 'the built-in default class');
});
