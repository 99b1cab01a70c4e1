// The kubelet server in-process on loopback with a fake runtime: TLS client-certificate
// authentication, authorization, routing and Status errors, log following (growth, rotation, exit)
// and the upgrade relay, against a stand-in streaming server. No root, no containerd.
import { loopbackKubeletServer } from '../support/kubelet-server.ts';
import test from 'ava';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import type { V1Pod } from '@kubernetes/client-node';
import { issueCert, loadOrCreateCA, type KeyPair } from '../../agents/control-plane/pki.ts';
import type {
  Container__Output as Container,
  ContainerStatus__Output as ContainerStatus,
  ExecRequest,
  PodSandbox__Output as PodSandbox,
} from '../../agents/kubelet/cri/api-types.ts';
import type { KubeletServer, ServerCri } from '../../agents/kubelet/server/server.ts';

const T = (s: number) => `2026-01-02T03:04:0${s}.000000000Z`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Env {
  server: KubeletServer;
  ca: string;
  admin: KeyPair;
  apiserver: KeyPair;
  alice: KeyPair;
  stranger: KeyPair;
  logFile: string;
  podLogDir: string;
  state: { app: Container['state']; execs: ExecRequest[]; streamUrl: string };
}

const pod: V1Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', uid: 'uid-1' },
  spec: { containers: [{ name: 'app', image: 'img' }] },
};

async function setup(t: import('ava').ExecutionContext): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-http-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await loadOrCreateCA(join(dir, 'ca'));
  const other = await loadOrCreateCA(join(dir, 'other-ca'));
  const podLogDir = join(dir, 'pods');
  const logFile = join(podLogDir, 'default_web_uid-1', 'app', '0.log');
  mkdirSync(join(podLogDir, 'default_web_uid-1', 'app'), { recursive: true });
  writeFileSync(logFile, `${T(1)} stdout F one\n${T(2)} stderr F two\n${T(3)} stdout F three\n`);
  const state: Env['state'] = { app: 'CONTAINER_RUNNING', execs: [], streamUrl: '' };
  const container = (): Container => ({
    id: 'c-app',
    podSandboxId: 's-1',
    metadata: { name: 'app', attempt: 0 },
    image: null,
    imageRef: '',
    state: state.app,
    createdAt: 1,
    labels: { 'io.kubernetes.pod.uid': 'uid-1', 'io.kubernetes.container.name': 'app' },
    annotations: {},
    imageId: '',
  });
  const sandbox: PodSandbox = {
    id: 's-1',
    metadata: null,
    state: 'SANDBOX_READY',
    createdAt: 1,
    labels: { 'io.kubernetes.pod.uid': 'uid-1' },
    annotations: {},
    runtimeHandler: '',
  };
  const cri: ServerCri = {
    listPodSandbox: async () => [sandbox],
    listContainers: async (f) => (f?.labelSelector?.['io.kubernetes.container.name'] === 'app' || !f ? [container()] : []),
    containerStatus: async () => ({ status: { ...container(), logPath: logFile } as unknown as ContainerStatus, info: {} }),
    exec: async (req) => {
      state.execs.push(req);
      return state.streamUrl;
    },
    attach: async () => state.streamUrl,
    portForward: async () => state.streamUrl,
  };
  const server = await loopbackKubeletServer(t, dir, ca.certPem, { cri, podLogDir, pods: () => [pod] });
  const { readFileSync } = await import('node:fs');
  return {
    server,
    ca: readFileSync(server.servingCertFile, 'utf8'),
    admin: await issueCert(ca, { cn: 'admin', orgs: ['system:masters'], usage: 'client' }),
    apiserver: await issueCert(ca, { cn: 'kube-apiserver-kubelet-client', usage: 'client' }),
    alice: await issueCert(ca, { cn: 'alice', orgs: ['devs'], usage: 'client' }),
    stranger: await issueCert(other, { cn: 'admin', orgs: ['system:masters'], usage: 'client' }),
    logFile,
    podLogDir,
    state,
  };
}

interface Reply {
  status: number;
  type: string;
  body: string;
}

function get(env: Env, path: string, who?: KeyPair, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: env.server.port, path, method, ca: env.ca, servername: 'node-1', cert: who?.certPem, key: who?.keyPem, timeout: 10_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const status = (r: Reply) => JSON.parse(r.body) as { kind: string; code: number; reason: string; message: string };

test('authentication and authorization', async (t) => {
  const env = await setup(t);
  const none = await get(env, '/pods');
  t.is(none.status, 401);
  t.like(status(none), { kind: 'Status', code: 401, reason: 'Unauthorized' });
  t.is((await get(env, '/healthz', env.stranger)).status, 401, 'a certificate from another CA is nobody');
  const alice = await get(env, '/pods', env.alice);
  t.is(alice.status, 403);
  t.like(status(alice), { code: 403, reason: 'Forbidden', message: 'Forbidden (user=alice, verb=get, resource=nodes, subresource=proxy)' });
  t.is((await get(env, '/healthz', env.admin)).body, 'ok');
  t.is((await get(env, '/healthz', env.apiserver)).body, 'ok');
});

test('pods, metrics and errors', async (t) => {
  const env = await setup(t);
  const pods = await get(env, '/pods', env.admin);
  t.is(pods.type, 'application/json');
  t.like(JSON.parse(pods.body), { kind: 'PodList', apiVersion: 'v1', items: [{ metadata: { name: 'web' } }] });
  const m = await get(env, '/metrics', env.apiserver);
  t.regex(m.body, /^kubelet_running_pods 1$/m);
  t.regex(m.body, /^kubelet_running_containers\{container_state="running"\} 1$/m);
  t.regex(m.body, /^kubelet_node_name\{node="node-1"\} 1$/m);
  t.regex(m.body, /^kubelet_http_requests_total\{method="GET",path="pods",server_type="readwrite",long_running="false"\} 1$/m);
  t.regex(m.body, /^process_cpu_seconds_total /m);
  const cases: [string, number, RegExp, string?][] = [
    ['/nothing/here', 404, /could not find/],
    ['/containerLogs/default/ghost/app', 404, /pods "ghost" not found/],
    ['/containerLogs/default/web/ghost', 404, /container "ghost" not found in pod "web"/],
    ['/containerLogs/default/web/app?tailLines=x', 400, /tailLines/],
    ['/containerLogs/default/web/app?tailLines=-2', 422, /tailLines/],
    ['/containerLogs/default/web/app?previous=true', 400, /previous terminated container "app" in pod "web" not found/],
    ['/exec/default/web/app?command=ls&stdout=1', 400, /Upgrade request required/],
    ['/pods', 405, /not allowed/, 'POST'],
  ];
  for (const [path, code, msg, method] of cases) {
    const r = await get(env, path, env.admin, method);
    t.is(r.status, code, path);
    t.is(r.type, 'application/json', path);
    t.regex(status(r).message, msg, path);
  }
});

test('container logs with options', async (t) => {
  const env = await setup(t);
  const logs = (q: string) => get(env, `/containerLogs/default/web/app${q}`, env.apiserver).then((r) => r.body);
  t.is(await logs(''), 'one\ntwo\nthree\n');
  t.is(await logs('?tailLines=1'), 'three\n');
  t.is(await logs('?timestamps=true&tailLines=1'), `${T(3)} three\n`);
  t.is(await logs(`?sinceTime=${encodeURIComponent('2026-01-02T03:04:02Z')}`), 'two\nthree\n');
  t.is(await logs('?limitBytes=6'), 'one\ntw');
  t.is(await logs('?stream=Stdout'), 'one\nthree\n');
  t.is(await logs('?sinceSeconds=60'), '', 'the lines are from 2026-01-02, long before the last minute');
});

test('follow streams appended lines, crosses a rotation and ends when the container stops', async (t) => {
  const env = await setup(t);
  const chunks: string[] = [];
  let ended = false;
  const done = new Promise<void>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: env.server.port,
        path: '/containerLogs/default/web/app?follow=true&tailLines=1',
        ca: env.ca,
        servername: 'node-1',
        cert: env.admin.certPem,
        key: env.admin.keyPem,
      },
      (res) => {
        res.setEncoding('utf8');
        res.on('data', (d: string) => chunks.push(d));
        res.on('end', () => {
          ended = true;
          resolve();
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
  const waitFor = async (text: string) => {
    for (let i = 0; i < 50 && !chunks.join('').includes(text); i++) await sleep(100);
    t.true(chunks.join('').includes(text), `saw ${JSON.stringify(text)} in ${JSON.stringify(chunks.join(''))}`);
  };
  await waitFor('three\n');
  // a record cut mid-write, then a line split into a partial and a final record
  appendFileSync(env.logFile, `${T(4)} stdout F fo`);
  await sleep(300);
  appendFileSync(env.logFile, `ur\n${T(5)} stdout P fi\n`);
  await sleep(300);
  appendFileSync(env.logFile, `${T(5)} stdout F ve\n`);
  await waitFor('five\n');
  // rotation as the kubelet does it: the file moves aside and the runtime reopens a new one
  renameSync(env.logFile, `${env.logFile}.1`);
  writeFileSync(env.logFile, `${T(6)} stdout F six\n`);
  await waitFor('six\n');
  t.false(ended);
  appendFileSync(env.logFile, `${T(7)} stdout F seven\n`);
  env.state.app = 'CONTAINER_EXITED';
  await Promise.race([done, sleep(5_000)]);
  t.true(ended, 'the follow ended once the container stopped');
  t.is(chunks.join(''), 'three\nfour\nfive\nsix\nseven\n');
});

/** A stand-in for the runtime's streaming server: answers 101 and echoes what follows. */
async function fakeStreamingServer(t: import('ava').ExecutionContext) {
  const heads: string[] = [];
  const sockets = new Set<Socket>();
  const srv = createServer((s) => {
    sockets.add(s);
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.off('data', onData);
      heads.push(buf.slice(0, end));
      s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n');
      const rest = buf.slice(end + 4);
      if (rest) s.write(rest);
      s.pipe(s);
    };
    s.on('data', onData);
    s.on('error', () => s.destroy());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    srv.close();
  });
  return { heads, port: (srv.address() as { port: number }).port };
}

/** Sends a raw upgrade request over TLS; resolves with the socket and the response head once it arrived. */
function upgrade(env: Env, path: string, who?: KeyPair, extra = '') {
  return new Promise<{ head: string; socket: import('node:tls').TLSSocket; rest: string }>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: env.server.port, ca: env.ca, servername: 'node-1', cert: who?.certPem, key: who?.keyPem }, () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: node-1:10250\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n${extra}`,
      );
    });
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no response head: ${JSON.stringify(buf)}`)), 5_000);
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve({ head: buf.slice(0, end), socket, rest: buf.slice(end + 4) });
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

const readMore = (socket: import('node:tls').TLSSocket, want: string, already = '') =>
  new Promise<string>((resolve) => {
    let buf = already;
    const timer = setTimeout(() => resolve(buf), 3_000);
    const on = (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.includes(want)) {
        clearTimeout(timer);
        socket.off('data', on);
        resolve(buf);
      }
    };
    if (buf.includes(want)) return resolve(buf);
    socket.on('data', on);
  });

test('exec upgrades are relayed byte for byte to the runtime URL', async (t) => {
  const env = await setup(t);
  const fake = await fakeStreamingServer(t);
  env.state.streamUrl = `http://127.0.0.1:${fake.port}/exec/t0ken`;
  const { head, socket, rest } = await upgrade(
    env,
    '/exec/default/web/uid-1/app?command=sh&command=-c&command=echo%20hi&stdout=1&stderr=1',
    env.apiserver,
    'early',
  );
  t.teardown(() => socket.destroy());
  t.regex(head, /^HTTP\/1\.1 101 /);
  t.regex(head, /X-Stream-Protocol-Version: v4\.channel\.k8s\.io/);
  t.deepEqual(env.state.execs, [{ containerId: 'c-app', cmd: ['sh', '-c', 'echo hi'], tty: false, stdin: false, stdout: true, stderr: true }]);
  t.true((await readMore(socket, 'early', rest)).includes('early'), 'bytes sent with the request reach the runtime');
  socket.write('ping-pong');
  t.true((await readMore(socket, 'ping-pong')).includes('ping-pong'));
  const seen = fake.heads[0]!.split('\r\n');
  t.is(seen[0], 'POST /exec/t0ken?command=sh&command=-c&command=echo%20hi&stdout=1&stderr=1 HTTP/1.1');
  t.true(seen.includes(`Host: 127.0.0.1:${fake.port}`));
  t.true(seen.includes('Upgrade: SPDY/3.1'));
});

test('refused upgrades answer with a Status', async (t) => {
  const env = await setup(t);
  const anon = await upgrade(env, '/exec/default/web/app?command=ls&stdout=1');
  anon.socket.destroy();
  t.regex(anon.head, /^HTTP\/1\.1 401 /);
  const wrongUid = await upgrade(env, '/portForward/default/web/uid-2?port=80', env.admin);
  const body = await readMore(wrongUid.socket, '}', wrongUid.rest);
  wrongUid.socket.destroy();
  t.regex(wrongUid.head, /^HTTP\/1\.1 404 /);
  t.like(JSON.parse(body), { kind: 'Status', code: 404, message: 'pods "web" not found' });
  const noStreams = await upgrade(env, '/attach/default/web/app', env.admin);
  noStreams.socket.destroy();
  t.regex(noStreams.head, /^HTTP\/1\.1 400 /);
  // the runtime's streaming server is gone: a 500 Status rather than a hang
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  env.state.streamUrl = `http://127.0.0.1:${(closed.address() as { port: number }).port}/portforward/x`;
  await new Promise((r) => closed.close(r));
  const dead = await upgrade(env, '/portForward/default/web?port=80', env.admin);
  dead.socket.destroy();
  t.regex(dead.head, /^HTTP\/1\.1 500 /);
});
