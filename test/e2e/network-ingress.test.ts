// The built-in ingress controller with real requests (issue 19) on a two-node lab of its own
// ("ing", 10.71.0.0/24): two Deployments behind two Services, routed by host and by path over HTTP
// on every node's port 80, an HTTPS host whose certificate (from a TLS Secret, signed by a
// throwaway CA) is served by SNI on 443, status.loadBalancer set to the nodes' addresses, and a
// changed path taking effect within a second while a request loop keeps running without a failure.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { downLab, eventually, kubectl, kubectlJson, kubectlOk, upLab, type NodeLab } from './helpers/node-e2e.ts';

const LAB = 'ing';
const SUBNET = '10.71.0.0/24';
let L: NodeLab;
const NS = `ing-${randomBytes(3).toString('hex')}`;
let nodeIPs: string[] = [];
const certDir = mkdtempSync(join(tmpdir(), 'hawser-ing-'));

const apply = (o: object) => kubectlOk(L.kc, ['-n', NS, 'apply', '-f', '-'], JSON.stringify(o));
const app = (name: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        terminationGracePeriodSeconds: 0,
        containers: [
          {
            name: 'web',
            image: L.testapp,
            command: ['/bin/porter'],
            ports: [{ containerPort: 8080 }],
            // porter answers every path with its pod's name
            env: [{ name: 'SERVE_PORT_8080', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          },
        ],
      },
    },
  },
});
const svc = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
});
const backend = (name: string) => ({ service: { name, port: { number: 80 } } });
const web = (bPath: string) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'web' },
  // the class named, not defaulted: another test may add a newer default class meanwhile
  spec: {
    ingressClassName: 'hawser',
    rules: [
      {
        host: 'web.example.com',
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: backend('app-a') },
            { path: '/b', pathType: 'Prefix', backend: backend(bPath) },
          ],
        },
      },
    ],
  },
});

/** One request to a node's ingress port; the status and the body (the answering pod's name). */
function get(ip: string, host: string, path: string, timeoutMs = 2000): Promise<{ code: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: ip, port: 80, path, headers: { host }, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body: body.trim() }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ code: 0, body: String(e) }));
  });
}

/** An HTTPS request with SNI `host`, trusting only our CA: the served certificate's subject and the body. */
function getTLS(ip: string, host: string, ca: string): Promise<{ cn: string; body: string }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: ip, port: 443, servername: host, ca, timeout: 3000 }, () => {
      const cn = String(s.getPeerCertificate().subject?.CN ?? '');
      s.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      let raw = '';
      s.on('data', (d) => {
        raw += d;
      });
      s.on('end', () => resolve({ cn, body: raw.split('\r\n\r\n')[1]?.trim() ?? '' }));
    });
    s.on('timeout', () => s.destroy(new Error('timeout')));
    s.on('error', reject);
  });
}

const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: certDir, stdio: 'pipe' });

test.before(async () => {
  L = await upLab(LAB, SUBNET);
  const nodes = (await kubectlJson(L.kc, ['get', 'nodes'])).items as {
    status: { addresses: { type: string; address: string }[]; conditions: { type: string; status: string }[] };
  }[];
  nodeIPs = nodes
    .filter((n) => n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((n) => n.status.addresses.find((a) => a.type === 'InternalIP')!.address)
    .sort();
  await kubectlOk(L.kc, ['create', 'namespace', NS]);
  // a throwaway CA and a certificate for secure.example.com signed by it
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=hawser e2e CA',
  ]);
  openssl([
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'tls.key',
    '-out',
    'tls.csr',
    '-subj',
    '/CN=secure.example.com',
  ]);
  writeFileSync(join(certDir, 'san.cnf'), 'subjectAltName = DNS:secure.example.com\n');
  openssl(['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'tls.crt', '-days', '1', '-extfile', 'san.cnf']);
});

test.after.always(async () => {
  if (L) await kubectl(L.kc, ['delete', 'namespace', NS, '--wait=false']);
  rmSync(certDir, { recursive: true, force: true });
  await downLab(LAB, SUBNET);
});

test.serial(
  '[sig-network] [hawser] Ingress routes by host and path over HTTP, serves HTTPS by SNI, and a path change takes effect without a failed request',
  async (t) => {
    for (const o of [app('app-a'), app('app-b'), svc('app-a'), svc('app-b'), web('app-b')]) await apply(o);
    await kubectlOk(L.kc, ['-n', NS, 'create', 'secret', 'tls', 'secure', `--cert=${join(certDir, 'tls.crt')}`, `--key=${join(certDir, 'tls.key')}`]);
    await apply({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'secure' },
      spec: {
        ingressClassName: 'hawser',
        tls: [{ hosts: ['secure.example.com'], secretName: 'secure' }],
        rules: [{ host: 'secure.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('app-b') }] } }],
      },
    });
    await kubectlOk(L.kc, ['-n', NS, 'rollout', 'status', 'deployment/app-a', 'deployment/app-b', '--timeout=120s']);

    // the status names every node
    await eventually(
      "status.loadBalancer with the nodes' addresses",
      async () => {
        const got = (await kubectlJson(L.kc, ['-n', NS, 'get', 'ingress', 'web'])).status?.loadBalancer?.ingress?.map((i: { ip: string }) => i.ip);
        return JSON.stringify(got) === JSON.stringify(nodeIPs);
      },
      30_000,
    );

    // host and path routing on every node
    for (const ip of nodeIPs) {
      await eventually(`${ip}: web.example.com/ answered by app-a`, async () => (await get(ip, 'web.example.com', '/')).body.startsWith('app-a-'), 30_000, 300);
      await eventually(
        `${ip}: web.example.com/b/x answered by app-b`,
        async () => (await get(ip, 'web.example.com', '/b/x')).body.startsWith('app-b-'),
        30_000,
        300,
      );
      t.true((await get(ip, 'web.example.com', '/bx')).body.startsWith('app-a-'), '/bx is not under /b');
      t.is((await get(ip, 'nobody.example.com', '/')).code, 404, 'a host no rule names');
    }

    // HTTPS: the certificate of the Secret by SNI, verified against the throwaway CA
    const ca = readFileSync(join(certDir, 'ca.crt'), 'utf8');
    const s = await eventually('HTTPS on secure.example.com', () => getTLS(nodeIPs[0], 'secure.example.com', ca).catch(() => undefined), 30_000, 500);
    t.is(s.cn, 'secure.example.com');
    t.true(s.body.startsWith('app-b-'), s.body);

    // change /b to app-a while a loop keeps asking: every request answered, the change seen within 1 s
    let failures = 0;
    let running = true;
    let applying = false;
    let seenAt = 0;
    const loop = (async () => {
      for (let i = 0; running && i < 2000; i++) {
        const r = await get(nodeIPs[0], 'web.example.com', '/b');
        if (r.code !== 200) failures++;
        else if (applying && !seenAt && r.body.startsWith('app-a-')) seenAt = Date.now();
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
    await new Promise((res) => setTimeout(res, 500));
    applying = true;
    await apply(web('app-a'));
    const storedAt = Date.now();
    await eventually('the new backend on /b', async () => seenAt || undefined, 10_000, 50);
    running = false;
    await loop;
    const ms = Math.max(0, seenAt - storedAt);
    t.log(`path change answered by the new backend ${ms} ms after kubectl apply returned`);
    t.is(failures, 0, 'no failed request while the routes changed');
    t.true(ms <= 1000, `seen after ${ms} ms`);
  },
);
