// The ingress controller's pure decisions (agents/ingress/routes.ts): class ownership, host and
// path matching as the Ingress spec defines it, conflicts, TLS by SNI, endpoint resolution, status.
import test from 'ava';
import {
  buildRoutes,
  certFor,
  desiredStatus,
  endpointsFor,
  isOurs,
  match,
  missingReferences,
  pathMatches,
  type IngressObj,
} from '../../agents/ingress/routes.ts';

const svc = (name: string, number = 80) => ({ service: { name, port: { number } } });
const ing = (name: string, spec: IngressObj['spec'], created = '2026-01-01T00:00:00Z'): IngressObj => ({
  metadata: { namespace: 'ns', name, creationTimestamp: created },
  spec,
});
const b = (service: string, port: number | string = 80) => ({ namespace: 'ns', service, port });

test('Prefix matches by path element; Exact only the path; "/" matches everything', (t) => {
  const p = { path: '/foo', exact: false };
  t.true(pathMatches(p, '/foo'));
  t.true(pathMatches(p, '/foo/'));
  t.true(pathMatches(p, '/foo/bar'));
  t.false(pathMatches(p, '/foobar'));
  t.false(pathMatches({ path: '/foo', exact: true }, '/foo/'));
  t.true(pathMatches({ path: '/', exact: false }, '/anything'));
});

test('the longest matching path wins, Exact before Prefix of the same path; a trailing slash is ignored', (t) => {
  const r = buildRoutes([
    ing('a', {
      rules: [
        {
          host: 'a.example.com',
          http: {
            paths: [
              { path: '/', pathType: 'Prefix', backend: svc('root') },
              { path: '/api/', pathType: 'Prefix', backend: svc('api') },
              { path: '/api', pathType: 'Exact', backend: svc('exact') },
              { path: '/api/v2', pathType: 'ImplementationSpecific', backend: svc('v2') },
            ],
          },
        },
      ],
    }),
  ]);
  t.deepEqual(match(r, 'a.example.com', '/api'), b('exact'));
  t.deepEqual(match(r, 'a.example.com', '/api/x'), b('api'));
  t.deepEqual(match(r, 'a.example.com', '/api/v2/y'), b('v2'));
  t.deepEqual(match(r, 'A.Example.com:8080', '/apix'), b('root'));
});

test('exact host, then a one-label wildcard, then rules without a host, then the default backend', (t) => {
  const r = buildRoutes([
    ing('a', {
      defaultBackend: svc('default'),
      rules: [
        { host: 'a.example.com', http: { paths: [{ path: '/only', pathType: 'Prefix', backend: svc('a') }] } },
        { host: '*.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: svc('wild') }] } },
        { http: { paths: [{ path: '/any', pathType: 'Prefix', backend: svc('any') }] } },
      ],
    }),
  ]);
  t.deepEqual(match(r, 'a.example.com', '/only/x'), b('a'));
  t.deepEqual(match(r, 'a.example.com', '/other'), b('wild'), 'a path the host lacks falls to the wildcard');
  t.deepEqual(match(r, 'b.example.com', '/'), b('wild'));
  t.deepEqual(match(r, 'x.b.example.com', '/any'), b('any'), 'a wildcard covers one label only');
  t.deepEqual(match(r, 'example.com', '/nothing'), b('default'));
  t.is(match(buildRoutes([]), 'x', '/'), undefined);
});

test('a rule an older Ingress already routes stays with the older one, and the conflict is reported', (t) => {
  const rule = (s: string) => ({ rules: [{ host: 'h.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: svc(s) }] } }] });
  const r = buildRoutes([ing('new', rule('new'), '2026-01-02T00:00:00Z'), ing('old', rule('old'), '2026-01-01T00:00:00Z')]);
  t.deepEqual(match(r, 'h.example.com', '/'), b('old'));
  t.deepEqual(r.problems, ['ns/new: h.example.com/ is already routed by an older Ingress']);
});

test('TLS hosts map to their Secret, wildcards included', (t) => {
  const r = buildRoutes([
    ing('a', {
      defaultBackend: svc('x'),
      tls: [
        { hosts: ['secure.example.com'], secretName: 's1' },
        { hosts: ['*.wild.com'], secretName: 's2' },
      ],
    }),
  ]);
  t.is(certFor(r, 'secure.example.com'), 'ns/s1');
  t.is(certFor(r, 'a.wild.com'), 'ns/s2');
  t.is(certFor(r, 'other.com'), undefined);
});

test('a backend resolves through the Service port (by number or name) to the ready endpoints of its slices', (t) => {
  const services = [{ metadata: { namespace: 'ns', name: 'web' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }];
  const slices = [
    {
      metadata: { namespace: 'ns', name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [
        { addresses: ['10.1.0.5'], conditions: { ready: true } },
        { addresses: ['10.1.0.6'], conditions: { ready: false } },
      ],
    },
  ];
  t.deepEqual(endpointsFor(b('web', 80), services, slices), [{ ip: '10.1.0.5', port: 8080 }]);
  t.deepEqual(endpointsFor(b('web', 'http'), services, slices), [{ ip: '10.1.0.5', port: 8080 }]);
  t.deepEqual(endpointsFor(b('web', 81), services, slices), []);
  t.deepEqual(endpointsFor(b('missing', 80), services, slices), []);
});

test('ours: a class naming our controller, or the legacy annotation; status lists the node addresses sorted', (t) => {
  const classes = [
    { metadata: { name: 'hawser' }, spec: { controller: 'hawser.io/ingress' } },
    { metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
  ];
  t.true(isOurs(ing('a', { ingressClassName: 'hawser' }), classes));
  t.false(isOurs(ing('a', { ingressClassName: 'nginx' }), classes));
  t.false(isOurs(ing('a', {}), classes));
  t.true(isOurs({ metadata: { annotations: { 'kubernetes.io/ingress.class': 'hawser' } }, spec: {} }, classes));
  t.deepEqual(desiredStatus(['10.71.0.3', '10.71.0.2', '10.71.0.3']), { ingress: [{ ip: '10.71.0.2' }, { ip: '10.71.0.3' }] });
  t.deepEqual(desiredStatus([]), {});
});

test('missing Services and TLS Secrets are named once per Ingress; present ones are not', (t) => {
  const i = ing('a', {
    defaultBackend: svc('web'),
    tls: [
      { hosts: ['h'], secretName: 'gone' },
      { hosts: ['k'], secretName: 'here' },
    ],
    rules: [
      {
        host: 'h',
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: svc('web') },
            { path: '/x', pathType: 'Prefix', backend: svc('nope') },
          ],
        },
      },
    ],
  });
  t.deepEqual(
    missingReferences([i], new Set(['ns/web']), new Set(['ns/here'])).map((p) => `${p.reason}: ${p.message}`),
    [
      'ServiceNotFound: service "ns/nope" not found: requests routed to it are answered 503',
      'SecretNotFound: TLS secret "ns/gone" not found: its hosts are served the default certificate',
    ],
  );
});
