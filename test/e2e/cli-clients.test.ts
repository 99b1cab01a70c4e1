// [sig-cli] clients other than kubectl against real pods: @kubernetes/client-node (WebSocket only:
// exec with exit codes, stdin and resize, attach, port-forward, an informer) and Debian's
// python3-kubernetes (stream() exec, port-forward, watch=True), plus bad streaming and proxy input
// with the API server's and the kubelet's open file descriptors counted before and after.
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import type * as K from '@kubernetes/client-node';
import WebSocket from 'ws';
import { downLab, eventually, kubectl, kubectlOk, type NodeLab, upLab } from './helpers/node-e2e.ts';
import { nodeProcId, pidFileOf } from '../../agents/cli/lab/components.ts';
import { pidOf } from '../../agents/cli/lab/procs.ts';
import { clientNode } from '../integration/_apiserver-kit.ts';
import { rawRequest } from '../conformance/raw.ts';

const NAME = 'wsk';
const SUBNET = '10.84.0.0/24';
const NS = 'ws-clients';
const PY = resolve('test/e2e/helpers/python-clients.py');
let nl: NodeLab;
let kc: K.KubeConfig;
// loaded in before(): client-node needs Node 22 APIs filled in first (clientNode)
let k8s: typeof K;

/** a pod of one container "c": the image's own server (HTTP on 8080), or a shell command */
const podYaml = (name: string, image: string, command?: string, stdin = false) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'c', image, ...(command ? { command: ['sh', '-c', command] } : {}), stdin, ports: [{ containerPort: 8080 }] }],
    },
  });

test.before(async () => {
  k8s = await clientNode();
  nl = await upLab(NAME, SUBNET);
  kc = new k8s.KubeConfig();
  kc.loadFromFile(nl.kc);
  await kubectl(nl.kc, ['delete', 'namespace', NS, '--wait=true', '--ignore-not-found']);
  await kubectlOk(nl.kc, ['create', 'namespace', NS]);
  await kubectlOk(nl.kc, ['apply', '-f', '-'], podYaml('web', nl.testapp));
  await kubectlOk(nl.kc, ['apply', '-f', '-'], podYaml('reader', nl.testapp, 'while read l; do echo "got:$l"; done', true));
  await kubectlOk(nl.kc, ['wait', '-n', NS, '--for=condition=Ready', 'pod/web', 'pod/reader', '--timeout=120s']);
});

test.after.always(async () => {
  if (nl) await kubectl(nl.kc, ['delete', 'namespace', NS, '--wait=false', '--ignore-not-found']);
  await downLab(NAME, SUBNET);
});

interface ExecRun {
  stdout: string;
  stderr: string;
  status?: K.V1Status;
  protocol: string;
}

/** client-node's Exec to completion (the WebSocket closed). */
async function nodeExec(command: string[], o: { stdin?: string; tty?: { rows: number; columns: number }; container?: string } = {}): Promise<ExecRun> {
  const out = new PassThrough();
  const err = new PassThrough();
  if (o.tty) Object.assign(out, o.tty);
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => (stdout += d));
  err.on('data', (d) => (stderr += d));
  const stdin = o.stdin === undefined ? null : new PassThrough();
  let status: K.V1Status | undefined;
  const ws = await new k8s.Exec(kc).exec(NS, 'web', o.container ?? 'c', command, out, o.tty ? null : err, stdin, !!o.tty, (s) => (status = s));
  const closed = new Promise<void>((res) => ws.on('close', () => res()));
  if (stdin) stdin.end(o.stdin);
  await closed;
  return { stdout, stderr, status, protocol: ws.protocol };
}

test.serial('[sig-cli] [hawser] client-node Exec over WebSocket v5: output, stderr and the exit code in the status channel', async (t) => {
  const ok = await nodeExec(['sh', '-c', 'echo out; echo err >&2']);
  t.is(ok.protocol, 'v5.channel.k8s.io');
  t.is(ok.stdout, 'out\n');
  t.is(ok.stderr, 'err\n');
  t.is(ok.status?.status, 'Success');
  const failed = await nodeExec(['sh', '-c', 'exit 7']);
  t.is(failed.status?.status, 'Failure');
  t.is(failed.status?.reason, 'NonZeroExitCode');
  t.deepEqual(failed.status?.details?.causes, [{ reason: 'ExitCode', message: '7' }]);
});

test.serial('[sig-cli] [hawser] client-node Exec: stdin reaches the command and its end (v5 close signal) ends it', async (t) => {
  const r = await nodeExec(['sh', '-c', 'cat; echo done'], { stdin: 'line one\nline two\n' });
  t.is(r.stdout, 'line one\nline two\ndone\n');
  t.is(r.status?.status, 'Success');
});

test.serial('[sig-cli] [hawser] client-node Exec with a TTY: the terminal size sent on the resize channel is the one the command sees', async (t) => {
  const r = await nodeExec(['sh', '-c', 'sleep 1; stty size'], { tty: { rows: 37, columns: 101 } });
  t.is(r.stdout.trim(), '37 101');
  t.is(r.status?.status, 'Success');
});

test.serial('[sig-cli] [hawser] client-node Attach: stdin goes to the running container and its output comes back', async (t) => {
  const out = new PassThrough();
  let stdout = '';
  out.on('data', (d) => (stdout += d));
  const stdin = new PassThrough();
  const ws = await new k8s.Attach(kc).attach(NS, 'reader', 'c', out, null, stdin, false);
  t.teardown(() => ws.close());
  stdin.write('hello\n');
  await eventually('the attached container to echo', async () => stdout.includes('got:hello'), 20_000, 200);
  t.is(ws.protocol, 'v5.channel.k8s.io');
});

test.serial("[sig-cli] [hawser] client-node PortForward: an HTTP request through the forwarded port gets the pod's answer", async (t) => {
  const out = new PassThrough();
  let body = '';
  out.on('data', (d) => (body += d));
  const input = new PassThrough();
  const ws = (await new k8s.PortForward(kc).portForward(NS, 'web', [8080], out, null, input)) as WebSocket;
  t.teardown(() => ws.close());
  input.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  await eventually('the HTTP answer', async () => body.includes('\r\n\r\nweb'), 20_000, 200);
  t.regex(body, /^HTTP\/1\.1 200/);
});

test.serial('[sig-cli] [hawser] client-node informer sees every add, update and delete', async (t) => {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const informer = k8s.makeInformer(
    kc,
    `/api/v1/namespaces/${NS}/configmaps`,
    () => core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'informer-test=1' }),
    'informer-test=1',
  );
  const seen: string[] = [];
  informer.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
  informer.on('update', (o) => seen.push(`update ${o.metadata?.name} ${(o as K.V1ConfigMap).data?.v}`));
  informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
  await informer.start();
  t.teardown(() => informer.stop());
  const want: string[] = [];
  for (let i = 0; i < 5; i++) {
    const name = `cm-${i}`;
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name, labels: { 'informer-test': '1' } }, data: { v: '0' } } });
    await core.patchNamespacedConfigMap(
      { namespace: NS, name, body: { data: { v: '1' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await core.deleteNamespacedConfigMap({ namespace: NS, name });
    want.push(`add ${name}`, `update ${name} 1`, `delete ${name}`);
  }
  await eventually('every event', async () => seen.length >= want.length, 20_000, 200);
  t.deepEqual(seen, want);
});

/** The open file descriptors of a process. */
const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

interface Answer {
  status?: number;
  body: string;
  protocol?: string;
  messages: Buffer[];
}

/** One raw WebSocket request with the admin's client certificate; resolves with the refusal or what came before the close. */
function wsRequest(path: string, protocols: string[]): Promise<Answer> {
  const tls = kc.getCurrentUser()!;
  const cluster = kc.getCurrentCluster()!;
  const ws = new WebSocket(`${cluster.server.replace(/^https/, 'wss')}${path}`, protocols, {
    cert: Buffer.from(tls.certData!, 'base64'),
    key: Buffer.from(tls.keyData!, 'base64'),
    ca: Buffer.from(cluster.caData!, 'base64'),
  });
  return new Promise((resolve) => {
    const messages: Buffer[] = [];
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body, messages }));
    });
    ws.on('message', (m: Buffer) => messages.push(m));
    ws.on('close', () => resolve({ body: '', protocol: ws.protocol, messages }));
    ws.on('error', () => undefined);
  });
}

test.serial('[sig-cli] [hawser] bad streaming input gets the upstream answer and leaks no socket in the API server or the kubelet', async (t) => {
  const base = `/api/v1/namespaces/${NS}/pods/web`;
  const unknown = () => wsRequest(`${base}/exec?command=true&stdout=true`, ['bogus.k8s.io']);
  const missing = () => wsRequest(`${base}/exec?command=true&stdout=true&container=nope`, ['v5.channel.k8s.io']);
  const closedPort = () => wsRequest(`${base}/portforward?ports=9999`, ['v4.channel.k8s.io']);
  // proxies: a Service with no endpoints, and a pod port nothing listens on (the lab's API server routes to pods)
  await kubectlOk(nl.kc, ['create', 'service', 'clusterip', 'empty', '--tcp=80:8080', '-n', NS]);
  const noEndpoints = () => rawRequest(nl.kc, 'GET', `/api/v1/namespaces/${NS}/services/empty:80/proxy/`);
  const refused = () => rawRequest(nl.kc, 'GET', `${base}:9999/proxy/`);
  const ne = await noEndpoints();
  t.is(ne.status, 503);
  t.like(JSON.parse(ne.text), { kind: 'Status', reason: 'ServiceUnavailable', message: 'no endpoints available for service "empty"', code: 503 });
  const rf = await refused();
  t.is(rf.status, 503);
  t.like(JSON.parse(rf.text), { kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
  t.regex(JSON.parse(rf.text).message, /^error trying to reach service: .*ECONNREFUSED/);
  // an unknown subprotocol reaches the runtime's WebSocket handshake, which refuses it with 403 (golang.org/x/net/websocket)
  t.is((await unknown()).status, 403);
  const m = await missing();
  t.is(m.status, 400);
  t.like(JSON.parse(m.body), { kind: 'Status', reason: 'BadRequest', message: 'container nope is not valid for pod web', code: 400 });
  // upstream's port-forward over WebSocket: each port's error channel (1) says why, after its 2-byte port prefix
  const pf = await closedPort();
  t.is(pf.protocol, 'v4.channel.k8s.io');
  const err = pf.messages.find((x) => x[0] === 1 && x.length > 3);
  t.regex(err?.subarray(3).toString() ?? '', /9999/);
  const server = pidOf(pidFileOf(nl.lab, 'control-plane'))!;
  const kubelets = nl.lab.nodes.map((n) => pidOf(pidFileOf(nl.lab, nodeProcId(n, 'kubelet')))!);
  const before = [fds(server), ...kubelets.map(fds)];
  for (let i = 0; i < 100; i++) await Promise.all([unknown(), missing(), closedPort(), noEndpoints(), refused()]);
  await new Promise((r) => setTimeout(r, 2000));
  const after = [fds(server), ...kubelets.map(fds)];
  t.log(`open fds (API server, kubelets) before ${before.join(', ')}, after 500 bad requests ${after.join(', ')}`);
  after.forEach((n, i) => t.true(n <= before[i]! + 5, `process ${i}: ${before[i]} fds before, ${n} after`));
});

/** A process's resident memory in bytes. */
const rss = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

test.serial('[sig-cli] [hawser] a WebSocket exec client that stops reading does not make the API server buffer the output', async (t) => {
  const MB = 1 << 20;
  const total = 64 * MB;
  const server = pidOf(pidFileOf(nl.lab, 'control-plane'))!;
  const tls = kc.getCurrentUser()!;
  const cluster = kc.getCurrentCluster()!;
  const cmd = ['head', '-c', String(total), '/dev/zero'].map((c) => `command=${c}`).join('&');
  const ws = new WebSocket(`${cluster.server.replace(/^https/, 'wss')}/api/v1/namespaces/${NS}/pods/web/exec?${cmd}&stdout=true`, ['v5.channel.k8s.io'], {
    cert: Buffer.from(tls.certData!, 'base64'),
    key: Buffer.from(tls.keyData!, 'base64'),
    ca: Buffer.from(cluster.caData!, 'base64'),
  });
  let got = 0;
  let before = 0;
  ws.on('message', (m: Buffer) => {
    if (m[0] === 1) got += m.length - 1;
  });
  const closed = new Promise<void>((r) => {
    ws.on('close', () => r());
    ws.on('error', () => r());
  });
  // the client stops reading as soon as the session is up: the container writes 64 MB at once
  await new Promise<void>((r) =>
    ws.on('open', () => {
      before = rss(server);
      ws.pause();
      r();
    }),
  );
  await new Promise((r) => setTimeout(r, 8000));
  const held = rss(server) - before;
  ws.resume();
  await closed;
  t.log(`API server RSS grew ${(held / MB).toFixed(1)} MB while the client read nothing of ${total / MB} MB`);
  t.is(got, total, 'every byte arrives once the client reads again');
  t.true(held < 24 * MB, `the API server held ${(held / MB).toFixed(1)} MB for a client that read nothing`);
});

/** Debian's python3 (the one python3-kubernetes is installed for) running helpers/python-clients.py; its JSON answer. */
function python<T>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const p = spawn('/usr/bin/python3', [PY, ...args], { env: { ...process.env, KUBECONFIG: nl.kc } });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), 150_000);
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(stdout) as T);
      else reject(new Error(`python3 ${args.join(' ')} exited ${code}: ${stderr}`));
    });
  });
}

test.serial('[sig-cli] [hawser] python3-kubernetes stream(): exec output, stdin and the exit code', async (t) => {
  const r = await python<{ preloaded: string; stdout: string; returncode: number }>(['exec', NS, 'web']);
  // stdout and stderr are separate pipes and channels: both lines arrive, in either order (CI saw err first)
  t.deepEqual(r.preloaded.split('\n').sort(), ['', 'err', 'out']);
  t.is(r.stdout, 'got:hello\n');
  t.is(r.returncode, 5);
});

test.serial('[sig-cli] [hawser] python3-kubernetes portforward(): an HTTP request through the forwarded port', async (t) => {
  const r = await python<{ response: string; error: string | null }>(['portforward', NS, 'web']);
  t.regex(r.response, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nweb\n$/);
  t.is(r.error, null);
});

test.serial('[sig-cli] [hawser] python3-kubernetes watch (watch=True) sees every add, change and delete', async (t) => {
  const r = await python<{ seen: string[] }>(['watch', NS, '4']);
  t.deepEqual(
    r.seen,
    [0, 1, 2, 3].flatMap((i) => [`ADDED py-${i} 0`, `MODIFIED py-${i} 1`, `DELETED py-${i} 1`]),
  );
});
