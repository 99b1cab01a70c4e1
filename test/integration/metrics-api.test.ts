// metrics.k8s.io served by the control plane itself: a stand-in kubelet (HTTPS with a serving
// certificate of the cluster CA, as real kubelets get) serves /metrics/resource whose CPU counters
// grow at known rates; the API server scrapes it on a short resolution, and the real kubectl's
// `top nodes` and `top pods --containers`, discovery, selectors, errors and RBAC see the usage.
import test from 'ava';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { issueCert, loadOrCreateCA } from '../../agents/control-plane/pki.ts';
import { readyNode, startCluster, until, type Cluster } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';

let c: Cluster | undefined;
let kubelet: https.Server | undefined;
const started = Date.now();

/** What the stand-in kubelet reports: the node burns 1.5 cores, web/app 0.25, web/side 0.5. */
function resourceMetrics(): string {
  const now = Date.now();
  const s = (now - started) / 1000;
  const l = (ct: string) => `{container="${ct}",namespace="default",pod="web"}`;
  return [
    '# TYPE container_cpu_usage_seconds_total counter',
    `container_cpu_usage_seconds_total${l('app')} ${100 + 0.25 * s} ${now}`,
    `container_cpu_usage_seconds_total${l('side')} ${0.5 * s} ${now}`,
    `container_memory_working_set_bytes${l('app')} 10485760 ${now}`,
    `container_memory_working_set_bytes${l('side')} 2097152 ${now}`,
    `container_start_time_seconds${l('app')} 1.7e+09`,
    `node_cpu_usage_seconds_total ${1000 + 1.5 * s} ${now}`,
    `node_memory_working_set_bytes 1073741824 ${now}`,
    'resource_scrape_error 0',
    '',
  ].join('\n');
}

fileCluster(
  async (cluster) => {
    c = cluster;
    const ca = await loadOrCreateCA(join(c.dir, 'tls'));
    const cert = await issueCert(ca, { cn: 'system:node:m1', sans: ['127.0.0.1'], usage: 'server' });
    kubelet = https.createServer({ key: cert.keyPem, cert: cert.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      if (req.url === '/metrics/resource') res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(resourceMetrics());
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => kubelet!.listen(0, '127.0.0.1', () => r()));
    const node = readyNode('m1', '127.0.0.1') as ReturnType<typeof readyNode> & { status: { daemonEndpoints?: unknown } };
    node.status.daemonEndpoints = { kubeletEndpoint: { Port: (kubelet.address() as AddressInfo).port } };
    (node.metadata.labels as Record<string, string>)['tier'] = 'metrics';
    await c.ok(['create', '-f', '-'], { input: JSON.stringify(node) });
    await c.ok(['run', 'web', '--image', 'registry.local/app:1', '--labels', 'app=web']);
    await until('node metrics', async () => (await c!.kubectl(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes/m1'])).code === 0, 20_000);
  },
  { extra: { metricResolutionMs: 500 } },
);
test.after.always(async () => {
  kubelet?.close();
});

const milli = (q: string) =>
  q.endsWith('n') ? Number(q.slice(0, -1)) / 1e6 : q.endsWith('u') ? Number(q.slice(0, -1)) / 1e3 : q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000;

test.serial('NodeMetrics and PodMetrics: the CPU rate between two scrapes, the working set, window and labels', async (t) => {
  const node = JSON.parse(await c!.ok(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes/m1']));
  t.like(node, { kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name: 'm1', labels: { tier: 'metrics' } }, usage: { memory: '1Gi' } });
  t.true(Math.abs(milli(node.usage.cpu) - 1500) < 150, `node cpu ${node.usage.cpu}`);
  t.regex(node.window, /^\d+(\.\d+)?(s|ms)$/);
  const pod = JSON.parse(await c!.ok(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web']));
  t.like(pod, { kind: 'PodMetrics', metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } } });
  t.deepEqual(
    pod.containers.map((x: { name: string }) => x.name),
    ['app', 'side'],
  );
  t.is(pod.containers[0].usage.memory, '10Mi');
  t.true(Math.abs(milli(pod.containers[0].usage.cpu) - 250) < 40, `app cpu ${pod.containers[0].usage.cpu}`);
  t.true(Math.abs(milli(pod.containers[1].usage.cpu) - 500) < 60, `side cpu ${pod.containers[1].usage.cpu}`);
});

test.serial('kubectl top nodes and top pods --containers; selectors; discovery; errors', async (t) => {
  const nodes = await c!.ok(['top', 'nodes']);
  t.regex(nodes, /^NAME\s+CPU\(cores\)\s+CPU(%|\(%\))\s+MEMORY\(bytes\)\s+MEMORY(%|\(%\))/);
  t.regex(nodes, /^m1\s+1[45]\d\dm\s+3\d%\s+1024Mi\s+12%/m);
  const pods = await c!.ok(['top', 'pods', '--containers']);
  t.regex(pods, /^web\s+app\s+2\d\dm\s+10Mi/m);
  t.regex(pods, /^web\s+side\s+[45]\d\dm\s+2Mi/m);
  t.regex(await c!.ok(['top', 'pods', '-l', 'app=web']), /^web\s+7\d\dm\s+12Mi/m);
  t.regex((await c!.kubectl(['top', 'pods', '-l', 'app=none'])).stderr, /No resources found/);
  t.regex((await c!.kubectl(['top', 'nodes', '-l', 'tier=none'])).stderr, /No resources found|metrics not available/);
  const missing = await c!.kubectl(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/ghost']);
  t.regex(missing.stderr, /NotFound|not found/);
  const groups = JSON.parse(await c!.ok(['get', '--raw', '/apis/metrics.k8s.io']));
  t.like(groups, { kind: 'APIGroup', name: 'metrics.k8s.io', preferredVersion: { groupVersion: 'metrics.k8s.io/v1beta1' } });
  t.regex(await c!.ok(['api-resources', '--api-group', 'metrics.k8s.io']), /pods\s+metrics\.k8s\.io\/v1beta1\s+true\s+PodMetrics/);
  const watch = await c!.kubectl(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes?watch=true']);
  t.regex(watch.stderr, /MethodNotAllowed|not allowed|405/);
});

test.serial('authorization: get/list on nodes.metrics.k8s.io and pods.metrics.k8s.io, granted by view', async (t) => {
  const nobody = await c!.identity('nobody', []);
  const refused = await c!.kubectl(['top', 'pods'], { kubeconfig: nobody });
  t.regex(refused.stderr, /forbidden: User "nobody" cannot list resource "pods" in API group "metrics.k8s.io" in the namespace "default"/);
  await c!.ok(['create', 'rolebinding', 'viewer', '--clusterrole', 'view', '--user', 'viewer', '-n', 'default']);
  const viewer = await c!.identity('viewer', []);
  await until('view aggregates the metrics reader', async () => (await c!.kubectl(['top', 'pods'], { kubeconfig: viewer })).code === 0, 10_000);
  t.regex(await c!.ok(['top', 'pods'], { kubeconfig: viewer }), /^web\s/m);
});

test.serial('without a metric resolution there is no metrics API: 503 ServiceUnavailable, as without metrics-server', async (t) => {
  const plain = await startCluster('sqlite');
  t.teardown(() => plain.close());
  const r = await plain.kubectl(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes']);
  t.not(r.code, 0);
  t.regex(r.stderr, /ServiceUnavailable|unable to handle the request/);
});
