// kubectl debug and kubectl proxy on a netns lab of this file's own (dbg, 10.85.0.0/24, pods in
// 10.213.0.0/16): a debugging container started with --target sees the target container's
// processes, also as a shell fed on stdin (-i); `kubectl proxy` and `get --raw .../proxy/` reach a
// Service's and a pod's HTTP through the API server, which routes to the nodes' podCIDRs as a
// control-plane host does; a Service without endpoints is upstream's 503. The proxy subresources'
// details are tested against a real API server in test/integration/apiserver-proxy.test.ts.
import test from 'ava';
import { httpGet, startKubectl } from '../conformance/background.ts';
import { Cluster, downLab, eventually, namespace, type NodeLab, upLab } from './helpers/node-e2e.ts';

const NAME = 'dbg';
const SUBNET = '10.85.0.0/24';
let L: NodeLab;

test.before(async () => {
  L = await upLab(NAME, SUBNET);
});
test.after.always(async () => {
  await downLab(NAME, SUBNET);
});

test.serial("[sig-cli] [hawser] kubectl debug --target starts an ephemeral container that sees the target's processes", async (t) => {
  const c = new Cluster(L.kc, await namespace(t, L.kc));
  await c.ok(['run', 'app', `--image=${L.testapp}`, '--restart=Never', '--', 'sh', '-c', 'exec sleep 3601']);
  await c.waitRunning('app', 120_000);
  const r = await c.run(['debug', 'app', `--image=${L.testapp}`, '--target=app', '-c', 'dbg', '--', 'ps']);
  t.is(r.code, 0, r.stderr);
  const p = await c.waitPod('app', 'debug container finished', (x) => x.status?.ephemeralContainerStatuses?.[0]?.state?.terminated, 120_000);
  t.is(p.status.ephemeralContainerStatuses[0].name, 'dbg');
  t.regex(await c.ok(['logs', 'app', '-c', 'dbg']), /sleep 3601/, "ps in the ephemeral container shows the target's process");
});

test.serial("[sig-cli] [hawser] kubectl debug -i --target runs a shell fed on stdin that prints the target's processes", async (t) => {
  const c = new Cluster(L.kc, await namespace(t, L.kc));
  await c.ok(['run', 'app', `--image=${L.testapp}`, '--restart=Never', '--', 'sh', '-c', 'exec sleep 3602']);
  await c.waitRunning('app', 120_000);
  // the image's own command is httpd, so the shell is named; stdin stays open until the output is
  // back, as at a terminal: on a container without stdinOnce, the runtime ends an attach's output
  // when its stdin ends (containerd's ContainerIO.Attach, upstream too)
  const r = await c.run(['debug', 'app', '-i', `--image=${L.testapp}`, '--target=app', '-c', 'dbg', '--', 'sh'], { text: 'ps\nexit\n', endWhen: /sleep 3602/ });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^\s*1 root\s+sleep 3602$/m, "ps in the debugging shell shows the target's process, as pid 1 of the shared namespace");
});

test.serial("[sig-cli] [hawser] kubectl proxy and get --raw reach a Service's and a pod's HTTP through the API server; no endpoints is a 503", async (t) => {
  const ns = await namespace(t, L.kc);
  const c = new Cluster(L.kc, ns);
  await c.ok(['run', 'web', `--image=${L.testapp}`, '--port=8080']);
  await c.ok(['expose', 'pod', 'web', '--port=80', '--target-port=8080']);
  await c.ok(['create', 'service', 'clusterip', 'empty', '--tcp=80:8080']);
  await c.waitRunning('web', 120_000);
  // testapp answers / with its hostname: the pod's name
  const raw = await eventually(
    'services/web:80/proxy/ to answer',
    async () => {
      const r = await c.run(['get', '--raw', `/api/v1/namespaces/${ns}/services/web:80/proxy/`]);
      return r.code === 0 ? r.stdout : undefined;
    },
    60_000,
  );
  t.is(raw.trim(), 'web');
  const proxy = await startKubectl(L.kc, ['proxy', '--port=0'], /Starting to serve on 127\.0\.0\.1:(\d+)/);
  t.teardown(proxy.stop);
  const port = Number(proxy.match[1]);
  const viaService = await httpGet({ port, path: `/api/v1/namespaces/${ns}/services/web:80/proxy/` });
  t.deepEqual([viaService.status, viaService.body.trim()], [200, 'web'], 'a Service through kubectl proxy');
  const viaPod = await httpGet({ port, path: `/api/v1/namespaces/${ns}/pods/web:8080/proxy/` });
  t.deepEqual([viaPod.status, viaPod.body.trim()], [200, 'web'], 'a pod through kubectl proxy');
  const none = await httpGet({ port, path: `/api/v1/namespaces/${ns}/services/empty:80/proxy/` });
  t.is(none.status, 503);
  t.like(JSON.parse(none.body), { kind: 'Status', code: 503, reason: 'ServiceUnavailable', message: 'no endpoints available for service "empty"' });
  const rawNone = await c.run(['get', '--raw', `/api/v1/namespaces/${ns}/services/empty:80/proxy/`]);
  t.is(rawNone.code, 1);
  t.regex(rawNone.stderr, /Error from server \(ServiceUnavailable\): no endpoints available for service "empty"/);
});
