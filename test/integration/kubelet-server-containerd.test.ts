// The kubelet server against a real containerd: pods made from V1Pod objects with the kubelet's own
// CRI configs (labels, log paths), the server running inside the node's network namespace as the
// kubelet does (so the relay reaches containerd's streaming server on that namespace's 127.0.0.1),
// and the test reaching it the way the API server would: TLS with a client certificate. The test
// sits in the root namespace, so it tunnels that TLS through a unix socket the server's process
// forwards to :10250, and offers plain loopback ports ("front proxies", each with one identity)
// for HTTP clients that cannot present certificates themselves (the ws-based stream client).
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { issueCert, loadOrCreateCA, type KeyPair } from '../../agents/control-plane/pki.ts';
import { execStream, portForwardStream } from '../../agents/kubelet/cri/stream-client.ts';
import { startThrowawayNode, type ThrowawayNode } from '../support/throwaway-node.ts';
import type { ContainerConfig, PodSandboxConfig } from '../../agents/kubelet/cri/api-types.ts';
import { containerConfig, sandboxConfig } from '../../agents/kubelet/pods/cri-config.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const serverModule = fileURLToPath(new URL('../../agents/kubelet/server/server.ts', import.meta.url));
const clientModule = fileURLToPath(new URL('../../agents/kubelet/cri/client.ts', import.meta.url));

/** Polls `check` every 100 ms until it returns a value, for at most `ms`. */
async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

// the kubelet server in a node process inside the node's netns, with a unix-socket door to :10250
const CHILD = `
import { readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
const cfg = JSON.parse(process.env.KS_CONFIG);
const { startKubeletServer } = await import(cfg.serverModule);
const { CriClient } = await import(cfg.clientModule);
const cri = new CriClient(cfg.socket);
const server = await startKubeletServer({
  bindAddress: '0.0.0.0', port: 10250, tlsDir: cfg.tlsDir, clientCA: readFileSync(cfg.caFile),
  nodeName: cfg.nodeName, nodeIP: '127.0.0.1', cri, podLogDir: cfg.podLogDir,
  pods: () => JSON.parse(readFileSync(cfg.podsFile, 'utf8')),
});
const door = createServer((c) => {
  const u = connect(10250, '127.0.0.1');
  c.pipe(u); u.pipe(c);
  c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
  c.on('close', () => u.destroy()); u.on('close', () => c.destroy());
});
door.listen(cfg.door, () => console.log('ready'));
// the test holds stdin open; when it closes (or the test process dies), shut down
process.stdin.on('end', async () => { door.close(); await server.close(); cri.close(); process.exit(0); });
process.stdin.resume();
`;

interface Harness {
  node: ThrowawayNode;
  pod: V1Pod;
  name: string;
  ids: { sandbox: string; app: string; logger0: string; logger1: string };
  /** base URL of a front proxy presenting `who` (or no certificate) to the kubelet */
  front(who?: KeyPair): Promise<string>;
  certs: { apiserver: KeyPair; admin: KeyPair; alice: KeyPair };
}

const LOGGER_SCRIPT = [
  'echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three; sleep 1.2; echo four',
  'i=0; while [ ! -e /tmp/go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done',
  'echo five; sleep 600',
].join('\n');

async function harness(t: import('ava').ExecutionContext): Promise<Harness> {
  const node = await startThrowawayNode();
  t.teardown(async () => {
    const problems = await node.teardown();
    if (problems.length) console.error('teardown problems:', problems);
  });
  const { env, work } = node;
  const nodeName = `node-${randomBytes(3).toString('hex')}`;
  const name = `web-${randomBytes(3).toString('hex')}`;
  const image = node.image('testapp');
  const logger: V1Container = { name: 'logger', image, command: ['sh', '-c', LOGGER_SCRIPT] };
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: randomUUID() },
    spec: { nodeName, hostNetwork: true, containers: [{ name: 'app', image }, logger] },
  };
  const podLogDir = join(work, 'pods');
  // the kubelet's translation types enums as numbers, which the CRI client accepts too
  const sbConfig = sandboxConfig(pod, 0, {
    podLogRoot: podLogDir,
    cgroupRoot: env.cgroupParent,
    dns: { servers: [], searches: [], options: [] },
  }) as unknown as PodSandboxConfig;
  const cri = env.client;
  const sandbox = await cri.runPodSandbox(sbConfig);
  await cri.pullImage(image);
  const start = async (c: V1Container, attempt: number) => {
    const id = await cri.createContainer(sandbox, containerConfig(pod, c, attempt) as unknown as ContainerConfig, sbConfig);
    await cri.startContainer(id);
    return id;
  };
  const app = await start(pod.spec!.containers[0]!, 0);
  // the logger's first run exits at once; the kubelet would start attempt 1, and so does the test
  const logger0 = await start({ ...logger, command: ['sh', '-c', 'echo run-zero; exit 3'] }, 0);
  await until('logger attempt 0 to exit', 5_000, async () => ((await cri.containerStatus(logger0)).status?.state === 'CONTAINER_EXITED' ? true : undefined));
  const logger1 = await start(logger, 1);

  const ca = await loadOrCreateCA(join(work, 'ca'));
  const certs = {
    apiserver: await issueCert(ca, { cn: 'kube-apiserver-kubelet-client', usage: 'client' }),
    admin: await issueCert(ca, { cn: 'admin', orgs: ['system:masters'], usage: 'client' }),
    alice: await issueCert(ca, { cn: 'alice', orgs: ['devs'], usage: 'client' }),
  };
  const podsFile = join(work, 'pods.json');
  writeFileSync(podsFile, JSON.stringify([pod]));
  const tlsDir = join(work, 'kubelet-tls');
  const door = join(work, 'kubelet.door');
  const config = { serverModule, clientModule, socket: env.socket, tlsDir, caFile: join(work, 'ca', 'ca.crt'), nodeName, podLogDir, podsFile, door };
  const child: ChildProcess = spawn('nsenter', [`--net=${env.netns!.path}`, '--', process.execPath, '--import=tsx', '--input-type=module', '-e', CHILD], {
    env: { ...process.env, KS_CONFIG: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  t.teardown(async () => {
    child.stdin!.end();
    const exited = new Promise((r) => child.once('exit', r));
    if (child.exitCode === null && (await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)])) === false) child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('kubelet server did not start within 30 s')), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`kubelet server process exited with ${code}`)));
  });
  const servingCert = readFileSync(join(tlsDir, 'kubelet.crt'));

  const front = async (who?: KeyPair) => {
    const sockets = new Set<Socket>();
    const srv = createServer((c) => {
      // verifies the kubelet's self-signed certificate for the node name, as a pinned CA
      const s = tlsConnect({ path: door, servername: nodeName, ca: servingCert, cert: who?.certPem, key: who?.keyPem });
      for (const x of [c, s]) {
        sockets.add(x);
        x.on('error', () => x.destroy());
        x.on('close', () => (x === c ? s : c).destroy());
      }
      c.pipe(s);
      s.pipe(c);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    t.teardown(() => {
      for (const s of sockets) s.destroy();
      srv.close();
    });
    return `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  };
  return { node, pod, name, ids: { sandbox, app, logger0, logger1 }, front, certs };
}

const status = async (r: Response) => (await r.json()) as { kind: string; code: number; reason: string; message: string };

test('logs, exec, port-forward and authentication through the kubelet server', async (t) => {
  const started = Date.now();
  const h = await harness(t);
  t.log(`node, pod and server ready in ${Date.now() - started} ms`);
  const api = await h.front(h.certs.apiserver);
  const logsUrl = `${api}/containerLogs/default/${h.name}/logger`;
  const logs = async (q = '') => {
    const r = await fetch(`${logsUrl}${q}`);
    t.is(r.status, 200, `logs${q}`);
    return r.text();
  };

  // authentication and authorization
  const anon = await fetch(`${await h.front()}/pods`);
  t.is(anon.status, 401);
  t.like(await status(anon), { kind: 'Status', code: 401, reason: 'Unauthorized' });
  const alice = await fetch(`${await h.front(h.certs.alice)}/containerLogs/default/${h.name}/logger`);
  t.is(alice.status, 403);
  t.regex((await status(alice)).message, /user=alice/);
  const admin = await h.front(h.certs.admin);
  t.is(await (await fetch(`${admin}/healthz`)).text(), 'ok');
  const pods = (await (await fetch(`${api}/pods`)).json()) as { kind: string; items: V1Pod[] };
  t.is(pods.kind, 'PodList');
  t.deepEqual(
    pods.items.map((p) => p.metadata?.uid),
    [h.pod.metadata!.uid],
  );
  const metrics = await (await fetch(`${api}/metrics`)).text();
  t.regex(metrics, /^kubelet_running_pods 1$/m);
  t.regex(metrics, /^kubelet_running_containers\{container_state="running"\} 2$/m);
  t.regex(metrics, /^kubelet_running_containers\{container_state="exited"\} 1$/m);

  // logs with each option (the logger writes one, two (stderr), three, then four 1.2 s later)
  await until('the logger to write four', 10_000, async () => ((await logs()).includes('four') ? true : undefined));
  const fourWritten = Date.now();
  t.is(await logs(), 'one\ntwo\nthree\nfour\n');
  t.is(await logs('?tailLines=2'), 'three\nfour\n');
  t.is(await logs('?limitBytes=6'), 'one\ntw');
  t.is(await logs('?stream=Stderr'), 'two\n');
  const stamped = (await logs('?timestamps=true')).trim().split('\n');
  t.is(stamped.length, 4);
  for (const line of stamped) t.regex(line, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}) (one|two|three|four)$/);
  const fourAt = stamped[3]!.split(' ')[0]!;
  t.is(await logs(`?sinceTime=${encodeURIComponent(fourAt)}`), 'four\n');
  t.is(await logs('?sinceSeconds=3600'), 'one\ntwo\nthree\nfour\n');
  await sleep(Math.max(0, 1_300 - (Date.now() - fourWritten)));
  t.is(await logs('?sinceSeconds=1'), '', 'nothing was written in the last second');
  t.is(await logs('?previous=true'), 'run-zero\n');
  const noPrev = await fetch(`${api}/containerLogs/default/${h.name}/app?previous=true`);
  t.is(noPrev.status, 400);
  t.regex((await status(noPrev)).message, /previous terminated container "app"/);
  t.is((await fetch(`${api}/containerLogs/default/nope/logger`)).status, 404);
  t.is((await fetch(`${api}/containerLogs/default/${h.name}/nope`)).status, 404);
  t.is((await fetch(`${logsUrl}?tailLines=many`)).status, 400);

  // exec through the kubelet's upgrade relay, with the WebSocket client the CRI work uses
  const cmd = ['sh', '-c', 'read x; echo "got $x"; echo err >&2; exit 7'].map((c) => `command=${encodeURIComponent(c)}`).join('&');
  const r = await execStream(`${api}/exec/default/${h.name}/app?${cmd}&stdin=1&stdout=1&stderr=1`, { stdin: 'hello\n', timeoutMs: 10_000 });
  t.deepEqual({ stdout: r.stdout.toString(), stderr: r.stderr.toString(), exitCode: r.exitCode }, { stdout: 'got hello\n', stderr: 'err\n', exitCode: 7 });
  const uidPath = `${api}/exec/default/${h.name}/${h.pod.metadata!.uid}/app?command=hostname&stdout=1`;
  const hostname = (await execStream(uidPath, { timeoutMs: 10_000 })).stdout.toString().trim();
  t.truthy(hostname);

  // SPDY, as kube-apiserver speaks it to kubelets: the relay hands the upgrade to containerd
  const spdy = await new Promise<string>((resolve, reject) => {
    const s = netConnect(Number(new URL(api).port), '127.0.0.1', () =>
      s.write(
        `POST /exec/default/${h.name}/app?command=true&stdout=1 HTTP/1.1\r\nHost: kubelet\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n`,
      ),
    );
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no SPDY answer: ${buf}`));
    }, 10_000);
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n\r\n')) {
        clearTimeout(timer);
        s.destroy();
        resolve(buf);
      }
    });
    s.on('error', reject);
  });
  t.regex(spdy, /^HTTP\/1\.1 101 /);
  t.regex(spdy, /X-Stream-Protocol-Version: v4\.channel\.k8s\.io/i);

  // port-forward to the testapp's :8080, which answers with the hostname
  await until('httpd on :8080', 10_000, async () => {
    const res = await h.node.env.client.execSync(h.ids.app, ['sh', '-c', 'timeout 2 wget -q -O - http://127.0.0.1:8080/healthz'], 5);
    return res.exitCode === 0 ? true : undefined;
  });
  const pf = await portForwardStream(`${api}/portForward/default/${h.name}`, 8080);
  pf.write('GET / HTTP/1.0\r\n\r\n');
  const page = await new Promise<string>((resolve, reject) => {
    let b = '';
    const timer = setTimeout(() => reject(new Error(`port-forward reply incomplete: ${b}`)), 10_000);
    pf.on('data', (d: Buffer) => (b += d.toString()));
    pf.on('end', () => {
      clearTimeout(timer);
      resolve(b);
    });
    pf.on('error', reject);
  });
  t.regex(page, /^HTTP\/1\.[01] 200 OK\r\n/);
  t.is(page.split('\r\n\r\n')[1]?.trim(), hostname);

  // follow: the existing tail, then a new line, then the end of the stream when the container stops
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const res = await fetch(`${logsUrl}?follow=true&tailLines=1`, { signal: ac.signal });
  const reader = res.body!.getReader();
  let text = '';
  const readUntil = async (want: string | null) => {
    for (const end = Date.now() + 10_000; Date.now() < end; ) {
      const chunk = await Promise.race([reader.read(), sleep(end - Date.now()).then(() => ({ done: true, value: undefined, timeout: true }))]);
      if ('timeout' in chunk) break;
      if (chunk.value) text += Buffer.from(chunk.value).toString();
      if (chunk.done) return true;
      if (want !== null && text.includes(want)) return false;
    }
    return false;
  };
  await readUntil('four\n');
  t.is(text, 'four\n');
  const touched = await h.node.env.client.execSync(h.ids.logger1, ['touch', '/tmp/go'], 5);
  t.is(touched.exitCode, 0);
  await readUntil('five\n');
  t.is(text, 'four\nfive\n', 'follow saw the new line');
  await h.node.env.client.stopContainer(h.ids.logger1, 0);
  t.true(await readUntil(null), 'the follow stream ended when the container stopped');
  t.log(`whole test: ${Date.now() - started} ms`);
});
