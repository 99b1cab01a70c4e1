// The probers and lifecycle handlers against real servers on loopback: HTTP (status codes,
// redirects, headers, timeouts), TCP, and the gRPC health protocol served by @grpc/grpc-js, with
// the messages users see in Unhealthy events.
import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { createServer as createHttp, type Server as HttpServer } from 'node:http';
import { createServer as createTcp, type AddressInfo } from 'node:net';
import type { V1Pod } from '@kubernetes/client-node';
import { decodeRequest, encodeResponse, HEALTH_CHECK_METHOD } from '../../agents/kubelet/probes/grpc-health.ts';
import { runHandler } from '../../agents/kubelet/probes/handlers.ts';
import { runProbe, type ProbeTarget } from '../../agents/kubelet/probes/probers.ts';

const listen = (s: HttpServer | ReturnType<typeof createTcp>) =>
  new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
const closed = async () => {
  const s = createTcp();
  const p = await listen(s);
  await new Promise((r) => s.close(r));
  return p;
};

const seen: { url?: string; ua?: string; header?: string }[] = [];
let http: HttpServer;
let httpPort: number;

test.before(async () => {
  http = createHttp((req, res) => {
    seen.push({ url: req.url, ua: req.headers['user-agent'], header: req.headers['x-probe'] as string });
    if (req.url === '/healthz') return void res.end('ok');
    if (req.url === '/redirect-ok') return void res.writeHead(302, { Location: '/healthz' }).end();
    if (req.url === '/redirect-away') return void res.writeHead(302, { Location: 'http://example.invalid/' }).end();
    if (req.url === '/slow') return void setTimeout(() => res.end('late'), 3000);
    res.writeHead(503).end('down');
  });
  httpPort = await listen(http);
});
test.after.always(() => {
  http.closeAllConnections();
  http.close();
});

const target = (ports: { name?: string; containerPort: number }[] = [], exec?: ProbeTarget['exec']): ProbeTarget => ({
  containerId: 'cid',
  podIP: '127.0.0.1',
  ports,
  exec: exec ?? (async () => ({ exitCode: 0, output: '' })),
});

test("httpGet: 2xx succeeds with kube-probe as user agent and the probe's headers; 503 fails with upstream's message", async (t) => {
  const ok = await runProbe(
    { httpGet: { path: '/healthz', port: 'web', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] } },
    target([{ name: 'web', containerPort: httpPort }]),
  );
  t.deepEqual(ok, { ok: true, output: 'ok' });
  t.like(seen.at(-1), { url: '/healthz', ua: 'kube-probe/1.35', header: 'yes' });
  t.deepEqual(await runProbe({ httpGet: { path: '/down', port: httpPort } }, target()), { ok: false, output: 'HTTP probe failed with statuscode: 503' });
});

test('httpGet: redirects on the same host are followed, to another host end the probe successfully', async (t) => {
  t.deepEqual(await runProbe({ httpGet: { path: '/redirect-ok', port: httpPort } }, target()), { ok: true, output: 'ok' });
  t.deepEqual(await runProbe({ httpGet: { path: '/redirect-away', port: httpPort } }, target()), { ok: true, output: 'Probe terminated redirects' });
});

test('httpGet: timeoutSeconds bounds the wait; a closed port is connection refused', async (t) => {
  const began = Date.now();
  const slow = await runProbe({ httpGet: { path: '/slow', port: httpPort }, timeoutSeconds: 1 }, target());
  t.false(slow.ok);
  t.is(slow.output, `Get "http://127.0.0.1:${httpPort}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`);
  t.true(Date.now() - began < 2500);
  const port = await closed();
  t.deepEqual(await runProbe({ httpGet: { path: '/', port } }, target()), {
    ok: false,
    output: `Get "http://127.0.0.1:${port}/": dial tcp 127.0.0.1:${port}: connect: connection refused`,
  });
});

test('tcpSocket: a listening port succeeds, a closed one is refused', async (t) => {
  t.true((await runProbe({ tcpSocket: { port: httpPort } }, target())).ok);
  const port = await closed();
  t.deepEqual(await runProbe({ tcpSocket: { port } }, target()), { ok: false, output: `dial tcp 127.0.0.1:${port}: connect: connection refused` });
});

test('exec: the exit code decides; the output is the message', async (t) => {
  const calls: unknown[] = [];
  const exec: ProbeTarget['exec'] = async (id, cmd, timeout) => {
    calls.push([id, cmd, timeout]);
    return { exitCode: cmd[0] === 'true' ? 0 : 1, output: 'cat: nope' };
  };
  t.true((await runProbe({ exec: { command: ['true'] }, timeoutSeconds: 3 }, target([], exec))).ok);
  t.deepEqual(await runProbe({ exec: { command: ['cat', 'nope'] } }, target([], exec)), { ok: false, output: 'cat: nope' });
  t.deepEqual(calls[0], ['cid', ['true'], 3]);
});

test("grpc: SERVING succeeds; NOT_SERVING, a server without the service, and no server fail with upstream's messages", async (t) => {
  const server = new grpc.Server();
  const statuses: Record<string, number> = { '': 1, sick: 2 };
  // the request is wrapped in an object: grpc-js takes a falsy request ('' service) for no request
  server.register(
    HEALTH_CHECK_METHOD,
    (call: grpc.ServerUnaryCall<{ service: string }, number>, cb: grpc.sendUnaryData<number>) => {
      if (!(call.request.service in statuses)) return cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' } as grpc.ServiceError, null);
      cb(null, statuses[call.request.service]);
    },
    encodeResponse,
    (b: Buffer) => ({ service: decodeRequest(b) }),
    'unary',
  );
  const port = await new Promise<number>((r, j) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
  t.teardown(() => server.forceShutdown());
  t.deepEqual(await runProbe({ grpc: { port } }, target()), { ok: true, output: '' });
  t.deepEqual(await runProbe({ grpc: { port, service: 'sick' } }, target()), { ok: false, output: 'service unhealthy (responded with "NOT_SERVING")' });
  t.deepEqual(await runProbe({ grpc: { port, service: 'other' } }, target()), { ok: false, output: 'error: health rpc probe failed: unknown service' });
  const bare = new grpc.Server();
  const barePort = await new Promise<number>((r, j) => bare.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
  t.teardown(() => bare.forceShutdown());
  t.regex(
    (await runProbe({ grpc: { port: barePort } }, target())).output,
    /^this server does not implement the grpc health protocol \(grpc\.health\.v1\.Health\)/,
  );
  const gone = await closed();
  t.deepEqual(await runProbe({ grpc: { port: gone }, timeoutSeconds: 1 }, target()), {
    ok: false,
    output: `timeout: failed to connect service "127.0.0.1:${gone}" within 1s: context deadline exceeded`,
  });
});

const pod: V1Pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u' }, spec: { containers: [{ name: 'c', image: 'i' }] } };

test('lifecycle handlers: exec failure message, httpGet, sleep bounded by the grace period', async (t) => {
  const exec: ProbeTarget['exec'] = async () => ({ exitCode: 2, output: 'boom' });
  const r = await runHandler(pod, pod.spec!.containers[0], { exec: { command: ['sh', '-c', 'exit 2'] } }, target([], exec), 0);
  t.false(r.ok);
  t.is(
    r.output,
    'Exec lifecycle hook (["sh","-c","exit 2"]) for Container "c" in Pod "p_ns(u)" failed - error: command \'sh -c exit 2\' exited with 2: boom, message: "boom"',
  );
  t.true((await runHandler(pod, pod.spec!.containers[0], { httpGet: { path: '/healthz', port: httpPort } }, target(), 5)).ok);
  const bad = await runHandler(pod, pod.spec!.containers[0], { httpGet: { path: '/down', port: httpPort } }, target(), 5);
  t.regex(bad.output, /^HTTP lifecycle hook \(\/down\) for Container "c" in Pod "p_ns\(u\)" failed - error: HTTP probe failed with statuscode: 503$/);
  const began = Date.now();
  t.true((await runHandler(pod, pod.spec!.containers[0], { sleep: { seconds: 30 } }, target(), 1)).ok);
  t.true(Date.now() - began < 1500, 'a sleep hook does not outlast the grace period');
});
