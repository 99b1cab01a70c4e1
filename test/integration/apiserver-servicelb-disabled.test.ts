// `hawser control-plane --disable-servicelb` (k3s' --disable servicelb): no built-in service load
// balancer runs, so a LoadBalancer Service stays pending (no status.loadBalancer.ingress, kubectl
// shows <pending>) for another load balancer to serve, while the other controllers still run.
import test from 'ava';
import { type Cluster, readyNode, until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { rawClient, type Send } from './_raw-client.ts';

let c: Cluster;
let send: Send & { close(): void };
const SVC = '/api/v1/namespaces/default/services';

fileCluster(
  async (cluster, own) => {
    c = cluster;
    send = own(rawClient(c.admin));
    await send({
      method: 'POST',
      path: '/api/v1/nodes',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(readyNode('lb-off-n1', '10.9.2.1')),
    });
  },
  { extra: { disableServiceLB: true } },
);

test('a LoadBalancer Service stays pending: no ingress address, <pending> in kubectl', async (t) => {
  const created = await send({
    method: 'POST',
    path: SVC,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    }),
  });
  t.is(created.status, 201);
  // the controllers run: the endpoint slice controller has seen the Service; the service load balancer would have by now
  await until(
    "the Service's EndpointSlice",
    async () =>
      ((await send({ path: '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb' })).json?.items ?? [])
        .length > 0,
  );
  await new Promise((r) => setTimeout(r, 1500));
  t.deepEqual((await send({ path: `${SVC}/web` })).json?.status, { loadBalancer: {} });
  t.regex(await c.ok(['get', 'svc', 'web']), /web\s+LoadBalancer\s+10\.\d+\.\d+\.\d+\s+<pending>\s+80:3\d{4}\/TCP/);
});
