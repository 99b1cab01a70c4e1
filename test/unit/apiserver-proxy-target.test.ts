// The pure half of the proxy subresources: upstream's `[scheme:]name[:port]` split, the
// addresses it refuses to proxy to, the endpoint a Service proxy picks and the link rewriting.
import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { proxyToBackend } from '../../agents/control-plane/apiserver/backend-proxy.ts';
import { ApiError, logLevelOf } from '../../agents/control-plane/apiserver/errors.ts';
import { checkProxyable, serviceProxyTarget, splitSchemeNamePort } from '../../agents/control-plane/apiserver/proxy-target.ts';
import { rewriteHtml, rewriteURL } from '../../agents/control-plane/apiserver/proxy-rewrite.ts';
import type { Obj } from '../../agents/control-plane/apiserver/strategies/types.ts';

test('splitSchemeNamePort accepts name, name:port and http(s):name:port only', (t) => {
  t.deepEqual(splitSchemeNamePort('web'), { scheme: '', name: 'web', port: '' });
  t.deepEqual(splitSchemeNamePort('web:8080'), { scheme: '', name: 'web', port: '8080' });
  t.deepEqual(splitSchemeNamePort('https:web:tls'), { scheme: 'https', name: 'web', port: 'tls' });
  for (const bad of ['ftp:web:80', ':80', 'a:b:c:d', '']) t.is(splitSchemeNamePort(bad), undefined, bad);
});

test('checkProxyable refuses no address, loopback and link-local, as IsProxyableIP', (t) => {
  for (const bad of ['', '127.0.0.1', '127.9.9.9', '169.254.169.254', '224.0.0.1', '::1', 'fe80::1', 'ff02::1', 'not-an-ip'])
    t.throws(() => checkProxyable(bad), { message: 'address not allowed' }, bad);
  for (const good of ['10.244.1.5', '198.18.0.1', 'fd00::5']) t.notThrows(() => checkProxyable(good));
});

test('serviceProxyTarget maps a port number to its name and picks only ready endpoints of that port', (t) => {
  const svc = {
    metadata: { name: 's' },
    spec: {
      ports: [
        { name: 'web', port: 80 },
        { name: 'admin', port: 81 },
      ],
    },
  } as Obj;
  const slices = [
    { metadata: { name: 'a' }, ports: [{ name: 'admin', port: 9000 }], endpoints: [{ addresses: ['10.0.0.9'] }] },
    {
      metadata: { name: 'b' },
      ports: [{ name: 'web', port: 8080 }],
      endpoints: [
        { addresses: ['10.0.0.1'], conditions: { ready: false } },
        { addresses: ['10.0.0.2'], conditions: { ready: true } },
      ],
    },
  ] as Obj[];
  const q = new URLSearchParams('x=1');
  t.like(
    serviceProxyTarget(svc, slices, { scheme: '', name: 's', port: '80' }, '/p', q, () => 0),
    { scheme: 'http', host: '10.0.0.2', port: 8080, path: '/p?x=1' },
  );
  t.like(
    serviceProxyTarget(svc, slices, { scheme: 'https', name: 's', port: 'admin' }, '', q, () => 0),
    { scheme: 'https', host: '10.0.0.9', port: 9000, path: '/?x=1' },
  );
  t.throws(() => serviceProxyTarget(svc, [], { scheme: '', name: 's', port: '80' }, '', q), { message: 'no endpoints available for service "s"' });
  t.throws(() => serviceProxyTarget(svc, slices, { scheme: '', name: 's', port: '82' }, '', q), { message: 'no service port 82 found for service "s"' });
});

test('rewriteURL prefixes absolute paths on the backend and leaves relative links and other hosts', (t) => {
  const p = '/api/v1/namespaces/n/pods/p/proxy';
  t.is(rewriteURL('/a/b/', p, '10.0.0.1:80'), `${p}/a/b/`);
  t.is(rewriteURL('/a?x=1#f', p, '10.0.0.1:80'), `${p}/a?x=1#f`);
  t.is(rewriteURL('http://10.0.0.1:80/a', p, '10.0.0.1:80'), `${p}/a`);
  t.is(rewriteURL(`${p}/already`, p, 'h'), `${p}/already`);
  t.is(rewriteURL('rel/x', p, 'h'), 'rel/x');
  t.is(rewriteURL('http://elsewhere/x', p, 'h'), 'http://elsewhere/x');
  t.is(rewriteURL('//cdn.example/x', p, 'h'), '//cdn.example/x');
  t.is(rewriteHtml(`<p title="/t"><a class='x' href='/r'>/text</a>`, p), `<p title="/t"><a class='x' href='${p}/r'>/text</a>`);
});

test('a backend that cannot answer is logged as a warning, other 5xx as errors, 4xx and timeouts not at all', async (t) => {
  const svc: Obj = { metadata: { name: 's' }, spec: { ports: [{ name: 'http', port: 80 }] } };
  const q = new URLSearchParams();
  const caught = (fn: () => unknown): ApiError => {
    try {
      fn();
    } catch (e) {
      if (e instanceof ApiError) return e;
    }
    throw new Error('no ApiError thrown');
  };
  t.is(logLevelOf(caught(() => serviceProxyTarget(svc, [], { scheme: '', name: 's', port: '80' }, '', q))), 'warn', 'no endpoints');
  t.is(logLevelOf(caught(() => serviceProxyTarget(svc, [], { scheme: '', name: 's', port: '81' }, '', q))), 'warn', 'no such Service port');
  // a refused connection to the backend (port 1 on loopback answers RST), from a real request
  const server = http.createServer((req, res) => {
    proxyToBackend({ scheme: 'http', host: '127.0.0.1', port: 1, path: '/', kubelet: false }, undefined, req, res, undefined).then(
      () => res.end('proxied?'),
      (e: unknown) => res.end(e instanceof ApiError ? `${e.code} ${logLevelOf(e)}` : String(e)),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const { port } = server.address() as AddressInfo;
  const refused = await new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/' }, (r) => {
        let b = '';
        r.on('data', (d) => (b += d));
        r.on('end', () => resolve(b));
      })
      .on('error', reject);
  });
  t.is(refused, '503 warn', 'a refused backend connection');
  t.is(logLevelOf(new ApiError(500, 'InternalError', 'x')), 'error');
  t.is(logLevelOf(new ApiError(504, 'Timeout', 'x')), undefined);
  t.is(logLevelOf(new ApiError(404, 'NotFound', 'x')), undefined);
});
