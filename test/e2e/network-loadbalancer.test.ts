// LoadBalancer Services with real packets (issue 19) on a two-node lab of its own: the built-in
// service load balancer gives the Service both nodes' addresses, and under externalTrafficPolicy
// Local a request from outside the nodes (this test, in the root namespace on the lab bridge) to the
// node running the endpoint at the Service port is answered, while the node without a local
// endpoint drops it; the healthCheckNodePort says 200 on the one and 503 on the other.
import test from 'ava';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { downLab, eventually, kubectlJson, kubectlOk, upLab, type NodeLab } from './helpers/node-e2e.ts';

const LAB = 'pdb';
const SUBNET = '10.70.0.0/24';
let L: NodeLab;
const NS = `lb-${randomBytes(3).toString('hex')}`;
let nodes: { name: string; ip: string }[] = [];

/** One HTTP GET from this process: the status code, or 0 when nothing answered within 3 s. */
function get(ip: string, port: number): Promise<{ code: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: ip, port, path: '/', timeout: 3_000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ code: 0, body: '' }));
  });
}

test.before(async () => {
  L = await upLab(LAB, SUBNET);
  nodes = ((await kubectlJson(L.kc, ['get', 'nodes'])).items as any[])
    .filter((n) => n.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True'))
    .map((n) => ({ name: n.metadata.name as string, ip: (n.status.addresses as any[]).find((a) => a.type === 'InternalIP').address as string }))
    .sort((a, b) => a.name.localeCompare(b.name))
    .slice(0, 2);
  if (nodes.length < 2) throw new Error(`two Ready nodes needed, found ${nodes.map((n) => n.name).join(', ')}`);
  await kubectlOk(L.kc, ['create', 'namespace', NS]);
});

test.after.always(async () => {
  if (L) await kubectlOk(L.kc, ['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
  await downLab(LAB, SUBNET);
});

test.serial(
  '[sig-network] [hawser] a LoadBalancer Service of externalTrafficPolicy Local answers at the ingress address of the node with its endpoint, not at the other',
  async (t) => {
    const [a, b] = nodes;
    await kubectlOk(
      L.kc,
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', namespace: NS, labels: { app: 'web' } },
        spec: { nodeName: a.name, terminationGracePeriodSeconds: 0, containers: [{ name: 'web', image: L.testapp, ports: [{ containerPort: 8080 }] }] },
      }),
    );
    await kubectlOk(
      L.kc,
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace: NS },
        spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', selector: { app: 'web' }, ports: [{ port: 8081, targetPort: 8080 }] },
      }),
    );
    await eventually(
      'web running',
      async () => (await kubectlJson(L.kc, ['-n', NS, 'get', 'pod', 'web'])).status?.containerStatuses?.[0]?.ready === true,
      90_000,
    );
    const svc = await eventually(
      'the ingress holds both nodes',
      async () => {
        const s = await kubectlJson(L.kc, ['-n', NS, 'get', 'svc', 'web']);
        const ips = (s.status?.loadBalancer?.ingress ?? []).map((i: { ip: string }) => i.ip).sort();
        return JSON.stringify(ips) === JSON.stringify([a.ip, b.ip].sort()) && s;
      },
      30_000,
    );
    const answered = await eventually(
      `${a.ip}:8081 answers`,
      async () => {
        const r = await get(a.ip, 8081);
        return r.code === 200 && r;
      },
      30_000,
      500,
    );
    t.is(answered.body.trim(), 'web', 'the pod answered with its hostname');
    t.is((await get(b.ip, 8081)).code, 0, 'the node without a local endpoint drops it');
    const hc = svc.spec.healthCheckNodePort as number;
    t.true(hc >= 30000, String(hc));
    t.is((await get(a.ip, hc)).code, 200, 'health check: local endpoint');
    t.is((await get(b.ip, hc)).code, 503, 'health check: none here');
  },
);
