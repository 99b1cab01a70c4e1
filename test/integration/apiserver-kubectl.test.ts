// The control plane against the real kubectl v1.35: discovery, apply, printing, watch, patches,
// graceful deletion, malformed manifests, restart; and the scheduler and node IPAM through the API.
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import https from 'node:https';
import tls from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { startControlPlane } from '../../agents/control-plane/index.ts';
import { issueCert, loadOrCreateCA } from '../../agents/control-plane/pki.ts';
import { KUBECTL, runKubectl, until } from './_apiserver-kit.ts';
import { X509Certificate } from 'node:crypto';
import { ensureServingCert as ensureKubeletServingCert } from '../../agents/kubelet/server/serving-cert.ts';
import { servingCertIssuer } from '../../agents/kubelet/server/serving-cert-request.ts';

const run = promisify(execFile);
process.env.HAWSER_LOG_LEVEL ??= 'warn';
const dir = mkdtempSync(join(tmpdir(), 'hawser-cp-'));
const kubeconfig = join(dir, 'admin.kubeconfig');
const opts = {
  dataDir: dir,
  bindAddress: '127.0.0.1',
  port: 0,
  advertiseAddress: '127.0.0.1',
  clusterCIDR: '10.244.0.0/16',
  nodeCIDRMaskSize: 24,
  serviceCIDR: '10.96.0.0/12',
};
let cp: Awaited<ReturnType<typeof startControlPlane>> | undefined;

test.before(async () => {
  cp = await startControlPlane(opts);
});
test.after.always(async () => {
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

const kubectl = (args: string[], input?: string) => runKubectl(kubeconfig, dir, args, input);

async function ok(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const readyNode = (name: string, ip: string, ready = true) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: {
      conditions: [
        {
          type: 'Ready',
          status: ready ? 'True' : 'False',
          reason: ready ? 'KubeletReady' : 'KubeletNotReady',
          lastHeartbeatTime: new Date().toISOString().replace(/\.\d+Z/, 'Z'),
          lastTransitionTime: '2025-01-01T00:00:00Z',
        },
      ],
      addresses: [
        { type: 'InternalIP', address: ip },
        { type: 'Hostname', address: name },
      ],
      allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
      capacity: { cpu: '2', memory: '4Gi', pods: '110' },
      nodeInfo: {
        kubeletVersion: 'v1.35.0-hawser',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        kernelVersion: '6.1.0',
        containerRuntimeVersion: 'containerd://1.6.20',
        operatingSystem: 'linux',
        architecture: 'amd64',
        machineID: 'm',
        systemUUID: 's',
        bootID: 'b',
        kubeProxyVersion: '',
      },
    },
  });

const podManifest = (name: string, image: string, extra = '') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
  containers:
  - name: main
    image: ${image}
    command: [sleep, "3600"]
    ports: [{containerPort: 8080, name: http}]${extra}
`;

test.serial('discovery: api-resources lists the registry', async (t) => {
  const out = await ok(['api-resources']);
  for (const r of ['pods', 'nodes', 'leases', 'endpointslices', 'deployments', 'namespaces']) t.regex(out, new RegExp(`^${r}\\s`, 'm'));
  t.regex(out, /^pods\s+po\s+v1\s+true\s+Pod$/m);
  t.regex(await ok(['version']), /Server Version: v1\.35\.0-hawser/);
  t.deepEqual((await ok(['get', 'ns', '-o', 'name'])).trim().split('\n').sort(), [
    'namespace/default',
    'namespace/kube-node-lease',
    'namespace/kube-public',
    'namespace/kube-system',
  ]);
});

test.serial('nodes: create over the API, get with wide columns, podCIDR assigned', async (t) => {
  await ok(['create', '-f', '-'], readyNode('node-a', '10.0.0.11'));
  const wide = await ok(['get', 'nodes', '-o', 'wide']);
  t.regex(wide, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME/m);
  t.regex(
    wide,
    /^node-a\s+Ready\s+<none>\s+\S+\s+v1\.35\.0-hawser\s+10\.0\.0\.11\s+<none>\s+Debian GNU\/Linux 12 \(bookworm\)\s+6\.1\.0\s+containerd:\/\/1\.6\.20/m,
  );
  const cidr = await until('podCIDR', async () => (await ok(['get', 'node', 'node-a', '-o', 'jsonpath={.spec.podCIDR}'])) || undefined);
  t.regex(cidr, /^10\.244\.\d+\.0\/24$/);
});

test.serial('pods: apply, re-apply a change, print as wide/yaml/json, describe', async (t) => {
  const file = join(dir, 'web.yaml');
  writeFileSync(file, podManifest('web', 'busybox:1.36'));
  const first = await kubectl(['apply', '-f', file]);
  t.is(first.code, 0, first.stderr);
  t.regex(first.stdout, /pod\/web created/);
  t.notRegex(first.stderr, /openapi|warning/i, 'no OpenAPI download errors or warnings');
  writeFileSync(file, podManifest('web', 'busybox:1.37'));
  const again = await kubectl(['apply', '-f', file]);
  t.regex(again.stdout, /pod\/web configured/);
  t.notRegex(again.stderr, /openapi|warning/i);
  t.regex((await kubectl(['apply', '-f', file])).stdout, /pod\/web unchanged/);

  const node = await until('scheduling', async () => (await ok(['get', 'pod', 'web', '-o', 'jsonpath={.spec.nodeName}'])) || undefined);
  t.is(node, 'node-a');
  await ok([
    'patch',
    'pod',
    'web',
    '--subresource=status',
    '--type=merge',
    '-p',
    '{"status":{"phase":"Running","hostIP":"10.0.0.11","podIP":"10.244.0.5","podIPs":[{"ip":"10.244.0.5"}],"conditions":[{"type":"Ready","status":"True"}],"containerStatuses":[{"name":"main","ready":true,"restartCount":0,"image":"busybox:1.37","imageID":"","started":true,"state":{"running":{"startedAt":"2025-01-01T00:00:00Z"}}}]}}',
  ]);
  const wide = await ok(['get', 'pods', '-o', 'wide']);
  t.regex(wide, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES/m);
  t.regex(wide, /^web\s+1\/1\s+Running\s+0\s+\S+\s+10\.244\.0\.5\s+node-a\s+<none>\s+<none>/m);

  const y = YAML.parse(await ok(['get', 'pod', 'web', '-o', 'yaml']));
  t.is(y.spec.containers[0].image, 'busybox:1.37');
  t.is(y.spec.containers[0].imagePullPolicy, 'IfNotPresent');
  t.is(y.spec.restartPolicy, 'Always');
  t.is(y.metadata.generation, 2);
  const j = JSON.parse(await ok(['get', 'pod', 'web', '-o', 'json']));
  t.is(j.status.qosClass, 'BestEffort');
  t.deepEqual(j.spec.containers[0].ports, [{ containerPort: 8080, name: 'http', protocol: 'TCP' }]);

  const d = await ok(['describe', 'pod', 'web']);
  t.regex(d, /^Name:\s+web$/m);
  t.regex(d, /^Node:\s+node-a\/10\.0\.0\.11$/m);
  t.regex(d, /^IP:\s+10\.244\.0\.5$/m);
  t.regex(d, /Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/web to node-a/);
});

test.serial('get -w sees a change; label, annotate and three patch types', async (t) => {
  const w = spawn(KUBECTL, ['get', 'pods', '-w', '--output-watch-events'], { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dir } });
  t.teardown(() => void w.kill());
  let seen = '';
  w.stdout.on('data', (d) => (seen += d));
  await until('watch listing', async () => seen.includes('web') || undefined);
  await ok(['label', 'pod', 'web', 'tier=frontend']);
  await ok(['annotate', 'pod', 'web', 'note=hello']);
  await until('watch event', async () => /MODIFIED\s+web/.test(seen) || undefined);
  t.regex(seen, /EVENT\s+NAME\s+READY\s+STATUS/);

  await ok(['patch', 'pod', 'web', '--type=merge', '-p', '{"metadata":{"labels":{"merge":"yes"}}}']);
  await ok(['patch', 'pod', 'web', '--type=json', '-p', '[{"op":"add","path":"/metadata/labels/json","value":"yes"}]']);
  await ok(['patch', 'pod', 'web', '-p', '{"spec":{"containers":[{"name":"main","image":"busybox:1.38"}]}}']);
  const p = JSON.parse(await ok(['get', 'pod', 'web', '-o', 'json']));
  t.like(p.metadata.labels, { app: 'web', tier: 'frontend', merge: 'yes', json: 'yes' });
  t.is(p.metadata.annotations.note, 'hello');
  t.is(p.spec.containers[0].image, 'busybox:1.38');
  t.is(p.spec.containers[0].ports.length, 1, 'strategic patch merged the container by name');
  t.regex((await ok(['get', 'pods', '-l', 'tier=frontend', '-o', 'name'])).trim(), /^pod\/web$/);
  t.is((await ok(['get', 'pods', '-l', 'tier!=frontend', '-o', 'name'])).trim(), '');
  t.regex(await ok(['get', 'pods', '--field-selector', 'spec.nodeName=node-a', '-o', 'name']), /pod\/web/);
});

test.serial('delete of a bound pod: Terminating until the grace-0 delete; kubectl waits', async (t) => {
  const del = kubectl(['delete', 'pod', 'web', '--timeout=20s']);
  const ts = await until('deletionTimestamp', async () => (await ok(['get', 'pod', 'web', '-o', 'jsonpath={.metadata.deletionTimestamp}'])) || undefined);
  t.truthy(ts);
  t.is(await ok(['get', 'pod', 'web', '-o', 'jsonpath={.metadata.deletionGracePeriodSeconds}']), '30');
  t.regex(await ok(['get', 'pod', 'web']), /Terminating/);
  // what the kubelet does once the containers are gone
  await ok(['delete', 'pod', 'web', '--grace-period=0', '--force']);
  const r = await del;
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /pod "web" deleted/);
  t.is((await kubectl(['get', 'pod', 'web'])).code, 1);
});

const BAD: [string, string, RegExp][] = [
  ['bad name', podManifest('Bad_Name', 'busybox'), /metadata\.name: Invalid value: "Bad_Name"/],
  ['no containers', 'apiVersion: v1\nkind: Pod\nmetadata: {name: bad2}\nspec: {}\n', /spec\.containers: Required value/],
  ['no image', 'apiVersion: v1\nkind: Pod\nmetadata: {name: bad3}\nspec:\n  containers: [{name: c}]\n', /spec\.containers\[0\]\.image: Required value/],
  ['unknown field', podManifest('bad4', 'busybox', '\n  foo: bar'), /strict decoding error: unknown field "spec\.foo"/],
  ['restart policy', podManifest('bad5', 'busybox', '\n  restartPolicy: Sometimes'), /spec\.restartPolicy: Unsupported value: "Sometimes"/],
  [
    'port range',
    'apiVersion: v1\nkind: Pod\nmetadata: {name: bad6}\nspec:\n  containers: [{name: c, image: i, ports: [{containerPort: 70000}]}]\n',
    /spec\.containers\[0\]\.ports\[0\]\.containerPort: Invalid value: 70000/,
  ],
  ['wrong type', 'apiVersion: v1\nkind: Pod\nmetadata: {name: bad7}\nspec:\n  containers: oops\n', /Go struct field PodSpec\.spec\.containers of type/],
  [
    'duplicate container',
    'apiVersion: v1\nkind: Pod\nmetadata: {name: bad8}\nspec:\n  containers: [{name: c, image: i}, {name: c, image: j}]\n',
    /spec\.containers\[1\]\.name: Duplicate value: "c"/,
  ],
  [
    'missing volume',
    'apiVersion: v1\nkind: Pod\nmetadata: {name: bad9}\nspec:\n  containers: [{name: c, image: i, volumeMounts: [{name: data, mountPath: /d}]}]\n',
    /spec\.containers\[0\]\.volumeMounts\[0\]\.name: Not found: "data"/,
  ],
  [
    'label key',
    'apiVersion: v1\nkind: Pod\nmetadata: {name: bad10, labels: {"bad key": x}}\nspec:\n  containers: [{name: c, image: i}]\n',
    /metadata\.labels: Invalid value: "bad key"/,
  ],
  ['dns policy', podManifest('bad11', 'busybox', '\n  dnsPolicy: Sometimes'), /spec\.dnsPolicy: Unsupported value: "Sometimes"/],
  ['service without ports', 'apiVersion: v1\nkind: Service\nmetadata: {name: bad12}\nspec: {selector: {app: x}}\n', /spec\.ports: Required value/],
  [
    'node pod CIDR',
    'apiVersion: v1\nkind: Node\nmetadata: {name: bad13}\nspec: {podCIDR: 10.0.0.0/99}\n',
    /spec\.podCIDRs\[0\]: Invalid value: "10\.0\.0\.0\/99"/,
  ],
  [
    'deployment selector',
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: bad14}\nspec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: b}}\n    spec: {containers: [{name: c, image: i}]}\n',
    /spec\.template\.metadata\.labels: Invalid value/,
  ],
];

test.serial('malformed manifests: a 4xx Status naming the field, nothing stored', async (t) => {
  for (const [what, manifest, field] of BAD) {
    const r = await kubectl(['apply', '-f', '-', '-v=6'], manifest);
    t.not(r.code, 0, what);
    t.regex(r.stderr, field, what);
    t.regex(r.stderr, /status="4\d\d /, `${what}: a 4xx answer`);
  }
  t.deepEqual((await ok(['get', 'pods,services,deployments', '-o', 'name'])).trim().split('\n'), ['service/kubernetes']);
  t.is((await ok(['get', 'nodes', '-o', 'name'])).trim(), 'node/node-a');
  // raw bodies: malformed JSON and a kind that does not belong to the URL
  const badJson = join(dir, 'bad.json');
  writeFileSync(badJson, '{"apiVersion": "v1", "kind": "Pod", ');
  const r1 = await kubectl(['create', '--raw', '/api/v1/namespaces/default/pods', '-f', badJson]);
  t.regex(r1.stderr, /BadRequest|json parse error/);
  const svcJson = join(dir, 'svc.json');
  writeFileSync(svcJson, JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: { ports: [{ port: 80 }] } }));
  const r2 = await kubectl(['create', '--raw', '/api/v1/namespaces/default/pods', '-f', svcJson]);
  t.regex(r2.stderr, /kind in the data \(Service\) does not match/);
  t.is((await ok(['get', 'pods', '-o', 'name'])).trim(), '');
});

test.serial('scheduler: two Ready nodes share pods, a NotReady node gets none, podCIDRs distinct', async (t) => {
  await ok(['create', '-f', '-'], readyNode('node-b', '10.0.0.12'));
  await ok(['create', '-f', '-'], readyNode('node-c', '10.0.0.13', false));
  for (let i = 0; i < 6; i++) await ok(['apply', '-f', '-'], podManifest(`s${i}`, 'busybox'));
  const placed = await until('all bound', async () => {
    const l = JSON.parse(await ok(['get', 'pods', '-o', 'json'])).items as any[];
    return l.length === 6 && l.every((p) => p.spec.nodeName) ? l.map((p) => p.spec.nodeName as string) : undefined;
  });
  t.is(placed.filter((n) => n === 'node-a').length, 3);
  t.is(placed.filter((n) => n === 'node-b').length, 3);
  t.false(placed.includes('node-c'));
  const cidrs = await until('three podCIDRs', async () => {
    const l = JSON.parse(await ok(['get', 'nodes', '-o', 'json'])).items as any[];
    const c = l.map((n) => n.spec.podCIDR).filter(Boolean);
    return c.length === 3 ? c : undefined;
  });
  t.is(new Set(cidrs).size, 3);
  for (const c of cidrs) t.regex(c, /^10\.244\.\d+\.0\/24$/);

  // nothing fits: the pod says why, and it is bound as soon as a node turns Ready
  await ok(['apply', '-f', '-'], podManifest('picky', 'busybox', '\n  nodeSelector: {disk: ssd}'));
  const msg = await until(
    'PodScheduled=False',
    async () => (await ok(['get', 'pod', 'picky', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}'])) || undefined,
  );
  t.is(msg, "0/3 nodes are available: 1 node(s) were not ready, 2 node(s) didn't match Pod's node affinity/selector.");
  await ok(['label', 'node', 'node-c', 'disk=ssd']);
  const started = Date.now();
  await ok([
    'patch',
    'node',
    'node-c',
    '--subresource=status',
    '--type=strategic',
    '-p',
    '{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady"}]}}',
  ]);
  const node = await until('picky bound', async () => (await ok(['get', 'pod', 'picky', '-o', 'jsonpath={.spec.nodeName}'])) || undefined);
  t.is(node, 'node-c');
  t.true(Date.now() - started < 3000, 'no back-off after a node turns Ready');
});

test.serial('typed kubectl create commands (protobuf bodies) and namespace deletion', async (t) => {
  await ok(['create', 'namespace', 'team']);
  await ok(['-n', 'team', 'create', 'deployment', 'd1', '--image=busybox:1.36', '--replicas=0', '--port=80']);
  await ok(['-n', 'team', 'create', 'configmap', 'c1', '--from-literal=k=v']);
  await ok(['-n', 'team', 'create', 'secret', 'generic', 's1', '--from-literal=k=v']);
  await ok(['-n', 'team', 'create', 'service', 'clusterip', 'svc1', '--tcp=80:8080']);
  const d = JSON.parse(await ok(['-n', 'team', 'get', 'deploy', 'd1', '-o', 'json']));
  t.is(d.spec.replicas, 0);
  t.is(d.spec.template.spec.containers[0].image, 'busybox:1.36');
  t.is(d.spec.strategy.type, 'RollingUpdate');
  t.is(Buffer.from(await ok(['-n', 'team', 'get', 'secret', 's1', '-o', 'jsonpath={.data.k}']), 'base64').toString(), 'v');
  t.regex(await ok(['-n', 'team', 'get', 'svc', 'svc1', '-o', 'jsonpath={.spec.clusterIP}']), /^10\.\d+\.\d+\.\d+$/);
  t.regex(await ok(['-n', 'team', 'get', 'sa', 'default', '-o', 'name']), /serviceaccount\/default/);
  const del = await kubectl(['delete', 'namespace', 'team', '--timeout=20s']);
  t.is(del.code, 0, del.stderr);
  t.is((await kubectl(['get', 'namespace', 'team'])).code, 1);
  t.is((await kubectl(['-n', 'team', 'create', 'configmap', 'late'])).code, 1, 'nothing is created in a missing namespace');
});

test.serial('bodies over 3 MiB are refused with 413', async (t) => {
  const big = join(dir, 'big.json');
  writeFileSync(big, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { k: 'x'.repeat(3.5 * 1024 * 1024) } }));
  const r = await kubectl(['create', '--raw', '/api/v1/namespaces/default/configmaps', '-f', big]);
  t.not(r.code, 0);
  t.regex(r.stderr, /too large/i);
  t.is((await kubectl(['get', 'configmap', 'big'])).code, 1);
});

test.serial("logs and exec are proxied to the pod's kubelet with the API server's client certificate", async (t) => {
  const ca = await loadOrCreateCA(join(dir, 'tls'));
  const serving = await issueCert(ca, { cn: 'fake-kubelet', sans: ['127.0.0.1'], usage: 'server' });
  const seen: { path: string; user: string; groups?: unknown; upgrade?: string }[] = [];
  const kubelet = https.createServer(
    { key: serving.keyPem, cert: serving.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const subject = (req.socket as TLSSocket).getPeerCertificate().subject;
      seen.push({ path: req.url!, user: String(subject.CN), groups: subject.O });
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('line one\nline two\n');
    },
  );
  kubelet.on('upgrade', (req, socket) => {
    seen.push({ path: req.url!, user: String((req.socket as TLSSocket).getPeerCertificate().subject.CN), upgrade: String(req.headers.upgrade) });
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n');
    socket.on('data', (d) => socket.write(Buffer.concat([Buffer.from('echo:'), d])));
  });
  await new Promise<void>((r) => kubelet.listen(0, '127.0.0.1', r));
  t.teardown(() => void kubelet.close());
  const port = (kubelet.address() as { port: number }).port;
  const node = JSON.parse(readyNode('node-k', '127.0.0.1'));
  node.status.daemonEndpoints = { kubeletEndpoint: { Port: port } };
  await ok(['create', '-f', '-'], JSON.stringify(node));
  await ok(['apply', '-f', '-'], podManifest('logpod', 'busybox', '\n  nodeName: node-k'));

  t.is(await ok(['logs', 'logpod', '--tail=5', '--timestamps']), 'line one\nline two\n');
  t.like(seen[0], { path: '/containerLogs/default/logpod/main?timestamps=true&tailLines=5', user: 'kube-apiserver-kubelet-client' });
  t.is(seen[0].groups, undefined, "the API server's kubelet client is in no group (not system:masters)");

  // kubectl tries WebSocket, is refused, and comes back over SPDY, which reaches the kubelet
  // (the fake kubelet speaks no SPDY, so this kubectl is stopped once its upgrade arrived)
  const exec = spawn(KUBECTL, ['exec', 'logpod', '--', 'echo', 'hi'], { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dir } });
  t.teardown(() => void exec.kill('SIGKILL'));
  const ex = await until('the exec upgrade at the kubelet', async () => seen.find((x) => x.upgrade));
  exec.kill('SIGKILL');
  t.is(ex!.path, '/exec/default/logpod/main?command=echo&command=hi&stdout=true&stderr=true');
  t.regex(ex!.upgrade!, /^SPDY\/3\.1$/i);

  // the spliced connection carries bytes both ways
  const admin = YAML.parse(readFileSync(kubeconfig, 'utf8')).users[0].user;
  const u = new URL(cp!.url);
  const sock = tls.connect({
    host: u.hostname,
    port: Number(u.port),
    rejectUnauthorized: false,
    cert: Buffer.from(admin['client-certificate-data'], 'base64'),
    key: Buffer.from(admin['client-key-data'], 'base64'),
  });
  t.teardown(() => sock.destroy());
  let got = '';
  sock.on('data', (d) => {
    got += d;
    if (got.includes('\r\n\r\n') && !got.includes('echo:')) sock.write('ping');
  });
  sock.write(
    'POST /api/v1/namespaces/default/pods/logpod/exec?command=sh&stdin=true HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n',
  );
  await until('echo through the splice', async () => got.includes('echo:ping') || undefined);
  t.regex(got, /^HTTP\/1\.1 101 /);
  await ok(['delete', 'pod', 'logpod', '--grace-period=0', '--force']);
  await ok(['delete', 'node', 'node-k']);
});

test.serial("the API server verifies the kubelet's serving certificate, which a kubelet gets from the control plane", async (t) => {
  const ca = await loadOrCreateCA(join(dir, 'tls'));
  const nodeCreds = await issueCert(ca, { cn: 'system:node:node-v', orgs: ['system:nodes'], usage: 'client' });
  const auth = { server: cp!.url, ca: Buffer.from(ca.certPem), cert: Buffer.from(nodeCreds.certPem), key: Buffer.from(nodeCreds.keyPem) };
  // what the kubelet does at start: a certificate for its name and IPs, signed by the cluster CA
  const tlsDir = join(dir, 'kubelet-v');
  const got = await ensureKubeletServingCert(tlsDir, 'node-v', '127.0.0.1', servingCertIssuer(auth));
  t.like(got, { created: true, selfSigned: false });
  const x = new X509Certificate(got.certPem);
  t.true(x.checkIssued(new X509Certificate(ca.certPem)));
  t.is(x.subjectAltName, 'DNS:node-v, IP Address:127.0.0.1');
  t.like(await ensureKubeletServingCert(tlsDir, 'node-v', '127.0.0.1', servingCertIssuer(auth)), { created: false, selfSigned: false });
  // only a node's own identity gets one
  const admin = YAML.parse(readFileSync(kubeconfig, 'utf8')).users[0].user;
  const asAdmin = servingCertIssuer({
    ...auth,
    cert: Buffer.from(admin['client-certificate-data'], 'base64'),
    key: Buffer.from(admin['client-key-data'], 'base64'),
  })!;
  await t.throwsAsync(asAdmin.issue(['127.0.0.1']), {
    message: /refused a serving certificate \(403\): user "admin" cannot get a kubelet serving certificate/,
  });

  const kubeletWith = async (pair: { certPem: string; keyPem: string }) => {
    const k = https.createServer({ key: pair.keyPem, cert: pair.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('from the kubelet\n');
    });
    await new Promise<void>((r) => k.listen(0, '127.0.0.1', r));
    t.teardown(() => void k.close());
    return (k.address() as { port: number }).port;
  };
  const logsVia = async (port: number) => {
    await ok([
      'patch',
      'node',
      'node-v',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { daemonEndpoints: { kubeletEndpoint: { Port: port } } } }),
    ]);
    return kubectl(['logs', 'vpod']);
  };
  await ok(['create', '-f', '-'], JSON.stringify(JSON.parse(readyNode('node-v', '127.0.0.1'))));
  await ok(['apply', '-f', '-'], podManifest('vpod', 'busybox', '\n  nodeName: node-v'));
  t.teardown(async () => {
    await kubectl(['delete', 'pod', 'vpod', '--grace-period=0', '--force']);
    await kubectl(['delete', 'node', 'node-v', '--ignore-not-found']);
  });
  t.is((await logsVia(await kubeletWith(got))).stdout, 'from the kubelet\n');
  // a self-signed certificate (a kubelet that got none, or someone in between) is refused
  const self = await ensureKubeletServingCert(join(dir, 'kubelet-self'), 'node-v', '127.0.0.1');
  const refused = await logsVia(await kubeletWith(self));
  t.is(refused.code, 1);
  t.regex(refused.stderr, /error trying to reach the kubelet at 127\.0\.0\.1:\d+: self-signed certificate/);
  // one signed by the CA for another address too
  const other = await issueCert(ca, { cn: 'system:node:node-w', orgs: ['system:nodes'], sans: ['node-w', '10.9.9.9'], usage: 'server' });
  t.regex((await logsVia(await kubeletWith(other))).stderr, /IP: 127\.0\.0\.1 is not in the cert's list: 10\.9\.9\.9/);
});

test.serial('a restart keeps the data', async (t) => {
  const before = (await ok(['get', 'pods', '-o', 'name'])).trim().split('\n').sort();
  await cp!.close();
  cp = await startControlPlane(opts);
  const after = (await ok(['get', 'pods', '-o', 'name'])).trim().split('\n').sort();
  t.deepEqual(after, before);
  t.is((await ok(['get', 'nodes', '-o', 'name'])).trim().split('\n').length, 3);
  t.regex(await ok(['get', 'node', 'node-a', '-o', 'jsonpath={.spec.podCIDR}']), /^10\.244\./);
});

test.serial('anonymous requests are refused', async (t) => {
  const url = cp!.url;
  const r = await run('curl', ['-sk', `${url}/api/v1/pods`]).catch((e) => e);
  t.regex(String(r.stdout), /"code":401/);
  const h = await run('curl', ['-sk', `${url}/healthz`]);
  t.is(h.stdout, 'ok');
});
