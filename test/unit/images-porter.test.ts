// The test image's porter (images/testapp/porter.c), compiled as the image ships it and run on
// loopback: what upstream's Proxy test relies on of agnhost porter (each SERVE_PORT_<n> over HTTP,
// each SERVE_TLS_PORT_<n> over TLS with a self-signed certificate, any method answered with 200
// and the text), a static binary that needs no libc in the image, and a bad variable refused.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import test from 'ava';
import { compilePorter } from '../../images/testapp/recipe.ts';
import { until } from '../conformance/fixture.ts';

const dir = mkdtempSync(join(tmpdir(), 'porter-'));
const bin = join(dir, 'porter');
test.before(() => compilePorter(bin));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** A free loopback port: bound by the kernel's choice, then released for porter. */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

interface Reply {
  status: number;
  type: string | undefined;
  body: string;
  issuer?: string;
}

function request(scheme: 'http' | 'https', port: number, method: string, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const opts = { host: '127.0.0.1', port, path: '/some/path', method, agent: false as const, timeout: 5000, rejectUnauthorized: false };
    const r = (scheme === 'http' ? http : https).request(opts, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (x: string) => (text += x));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: res.headers['content-type'],
          body: text,
          issuer: scheme === 'https' ? (res.socket as TLSSocket).getPeerCertificate().issuer?.CN : undefined,
        }),
      );
    });
    r.on('timeout', () => r.destroy(new Error('no answer')));
    r.on('error', reject);
    r.end(body);
  });
}

function run(env: Record<string, string>): ChildProcess {
  return spawn(bin, [], { env, stdio: ['ignore', 'ignore', 'pipe'] });
}

test('porter is a static binary: it runs in an image without libc', (t) => {
  const r = spawnSync('ldd', [bin], { encoding: 'utf8' });
  t.regex(`${r.stdout}${r.stderr}`, /not a dynamic executable/);
});

test('porter answers every SERVE_PORT_<n> over HTTP and every SERVE_TLS_PORT_<n> over TLS with its text', async (t) => {
  const [html, plain, tls] = [await freePort(), await freePort(), await freePort()];
  const p = run({ [`SERVE_PORT_${html}`]: '<a href="/rewriteme">test</a>', [`SERVE_PORT_${plain}`]: 'foo', [`SERVE_TLS_PORT_${tls}`]: 'tls baz' });
  t.teardown(() => p.kill('SIGKILL'));
  await until(
    'porter to listen',
    () =>
      request('https', tls, 'GET').then(
        () => true,
        () => false,
      ),
    10_000,
    100,
  );

  const page = await request('http', html, 'GET');
  t.deepEqual(
    page,
    { status: 200, type: 'text/html; charset=utf-8', body: '<a href="/rewriteme">test</a>', issuer: undefined },
    'HTML as Go sniffs it, so the API server rewrites its links',
  );
  t.deepEqual(
    await request('http', plain, 'POST', 'x'.repeat(100_000)),
    { status: 200, type: 'text/plain; charset=utf-8', body: 'foo', issuer: undefined },
    'a request body is read and any method answered',
  );
  t.is((await request('http', plain, 'HEAD')).body, '', 'HEAD: no body');
  t.deepEqual(
    await request('https', tls, 'PUT', 'x'),
    { status: 200, type: 'text/plain; charset=utf-8', body: 'tls baz', issuer: 'porter' },
    "TLS with porter's own self-signed certificate",
  );
  await t.throwsAsync(request('http', tls, 'GET'), undefined, 'a TLS port does not answer plain HTTP');

  const replies = await Promise.all(Array.from({ length: 30 }, () => request('https', tls, 'GET')));
  t.true(
    replies.every((r) => r.body === 'tls baz'),
    'connections side by side',
  );

  const exit = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
  p.kill('SIGTERM');
  t.is(await exit, 0, 'SIGTERM stops it at once (it may be PID 1)');
});

for (const [name, env, message] of [
  ['a port that is not a number', { SERVE_PORT_http: 'x' }, /bad environment variable .*SERVE_PORT_http=x/],
  ['a port out of range', { SERVE_TLS_PORT_70000: 'x' }, /bad environment variable .*SERVE_TLS_PORT_70000=x/],
  ['the same port twice', { SERVE_PORT_8080: 'a', SERVE_TLS_PORT_8080: 'b' }, /port given twice/],
  ['no port at all', { PATH: '/bin' }, /no SERVE_PORT_<n>, SERVE_TLS_PORT_<n>, SERVE_WEBHOOK_PORT or SERVE_APISERVICE_PORT/],
] as const) {
  test(`porter exits non-zero with a message on ${name}`, (t) => {
    const r = spawnSync(bin, [], { env, encoding: 'utf8', timeout: 5000 });
    t.is(r.status, 1);
    t.regex(r.stderr, message);
  });
}
