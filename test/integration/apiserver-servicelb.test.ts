// LoadBalancer Services (issue 19) with the built-in service load balancer, through the real API
// server and kubectl v1.35: a Service without a loadBalancerClass gets the Ready nodes' InternalIPs
// (only the labelled pool's once a node carries svccontroller.hawser.io/enablelb=true), one of
// another class is left alone, allocateLoadBalancerNodePorts=false allocates no node ports, and
// externalTrafficPolicy Local allocates a healthCheckNodePort kept across updates and released
// with the policy.
import test from 'ava';
import { type Cluster, readyNode, until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { rawClient, type Send } from './_raw-client.ts';

let c: Cluster;
let send: Send & { close(): void };
const JSON_CT = { 'content-type': 'application/json' };
const post = (path: string, body: unknown) => send({ method: 'POST', path, headers: JSON_CT, body: JSON.stringify(body) });
const mergePatch = (path: string, body: unknown) =>
  send({ method: 'PATCH', path, headers: { 'content-type': 'application/merge-patch+json' }, body: JSON.stringify(body) });
const SVC = '/api/v1/namespaces/default/services';
const svc = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }], ...spec },
});
const get = async (name: string) => (await send({ path: `${SVC}/${name}` })).json!;
const ingressOf = async (name: string) => ((await get(name)).status?.loadBalancer?.ingress ?? []).map((i: { ip: string }) => i.ip).join(',');

fileCluster(async (cluster, own) => {
  c = cluster;
  send = own(rawClient(c.admin));
  for (const [n, ip] of [
    ['lb-n1', '10.9.1.1'],
    ['lb-n2', '10.9.1.2'],
  ])
    await post('/api/v1/nodes', readyNode(n, ip));
});

test.serial("a LoadBalancer Service gets every Ready node's InternalIP; another class's Service is left alone", async (t) => {
  t.is((await post(SVC, svc('other', { loadBalancerClass: 'example.com/lb' }))).status, 201);
  t.is((await post(SVC, svc('web'))).status, 201);
  await until('web has its ingress', async () => (await ingressOf('web')) === '10.9.1.1,10.9.1.2');
  const web = await get('web');
  t.deepEqual(web.status.loadBalancer.ingress, [
    { ip: '10.9.1.1', ipMode: 'VIP' },
    { ip: '10.9.1.2', ipMode: 'VIP' },
  ]);
  t.true(web.spec.ports[0].nodePort >= 30000, 'node ports allocated by default');
  t.deepEqual((await get('other')).status, { loadBalancer: {} }, 'the other class keeps no address from us');
  const table = await c.ok(['get', 'svc', 'web']);
  t.regex(table, /web\s+LoadBalancer\s+10\.\d+\.\d+\.\d+\s+10\.9\.1\.1,10\.9\.1\.2\s+80:3\d{4}\/TCP/);
  const changed = await mergePatch(`${SVC}/other`, { spec: { loadBalancerClass: 'example.com/other' } });
  t.is(changed.status, 422);
  t.is(changed.json?.details?.causes?.[0]?.message, 'Invalid value: "example.com/other": may not change once set');
});

test.serial('allocateLoadBalancerNodePorts=false allocates no node port; the Service still gets its ingress', async (t) => {
  const r = await post(SVC, svc('noports', { allocateLoadBalancerNodePorts: false }));
  t.is(r.status, 201);
  t.is(r.json?.spec.ports[0].nodePort, undefined);
  await until('noports has its ingress', async () => (await ingressOf('noports')) === '10.9.1.1,10.9.1.2');
});

test.serial('externalTrafficPolicy Local gets a healthCheckNodePort, kept by updates that leave it out, released with the policy', async (t) => {
  const r = await post(SVC, svc('local', { externalTrafficPolicy: 'Local' }));
  t.is(r.status, 201);
  const port = r.json?.spec.healthCheckNodePort;
  t.true(port >= 30000 && port <= 32767, String(port));
  t.not(port, r.json?.spec.ports[0].nodePort);
  const cur = await get('local');
  delete cur.spec.healthCheckNodePort;
  const put = await send({ method: 'PUT', path: `${SVC}/local`, headers: JSON_CT, body: JSON.stringify(cur) });
  t.is(put.json?.spec.healthCheckNodePort, port, 'kept');
  const cluster = await mergePatch(`${SVC}/local`, { spec: { externalTrafficPolicy: 'Cluster' } });
  t.is(cluster.status, 200, cluster.text);
  t.is(cluster.json?.spec.healthCheckNodePort, undefined, 'released');
  const bad = await post(SVC, svc('bad', { type: 'NodePort', healthCheckNodePort: 31999 }));
  t.is(bad.status, 422);
  t.is(bad.json?.details?.causes?.[0]?.message, "Invalid value: 31999: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'");
});

test.serial('labelling a node into the pool narrows every ingress to the pool; a Service that stops being a LoadBalancer loses its ingress', async (t) => {
  t.is((await mergePatch('/api/v1/nodes/lb-n2', { metadata: { labels: { 'svccontroller.hawser.io/enablelb': 'true' } } })).status, 200);
  await until('web narrowed to the pool', async () => (await ingressOf('web')) === '10.9.1.2');
  t.is(await ingressOf('noports'), '10.9.1.2');
  const r = await mergePatch(`${SVC}/web`, {
    spec: { type: 'ClusterIP', externalTrafficPolicy: null, allocateLoadBalancerNodePorts: null, ports: [{ port: 80, targetPort: 8080, nodePort: null }] },
  });
  t.is(r.status, 200, r.text);
  await until('web lost its ingress', async () => (await ingressOf('web')) === '');
  t.deepEqual((await get('web')).status, { loadBalancer: {} });
});
