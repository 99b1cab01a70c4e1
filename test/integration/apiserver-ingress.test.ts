// Ingress and IngressClass (networking.k8s.io/v1, issue 19) through the real API server: each rule
// of upstream's validation is a 422 naming the field with upstream's message; IngressClass
// parameters default to scope Cluster and the controller is immutable; the DefaultIngressClass
// admission fills spec.ingressClassName on create (newest default class wins) and leaves an
// Ingress that names a class alone; ingresses/status takes only a valid loadBalancer status.
import test from 'ava';
import { type Cluster, startCluster } from './_apiserver-kit.ts';
import { causeLines as causes, rawClient, type Send } from './_raw-client.ts';

let c: Cluster;
let send: Send & { close(): void };
test.before(async () => {
  c = await startCluster('sqlite');
  send = rawClient(c.admin);
});
test.after.always(async () => {
  send?.close();
  await c?.close();
});

const ING = '/apis/networking.k8s.io/v1/namespaces/default/ingresses';
const IC = '/apis/networking.k8s.io/v1/ingressclasses';
const json = { 'content-type': 'application/json' };
const post = (path: string, body: unknown) => send({ method: 'POST', path, headers: json, body: JSON.stringify(body) });
const ingress = (name: string, spec: Record<string, unknown>, annotations?: Record<string, string>) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, ...(annotations ? { annotations } : {}) },
  spec,
});
const klass = (name: string, spec: Record<string, unknown>, isDefault = false) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name, ...(isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}) },
  spec,
});
const svc = (name: string, port: Record<string, unknown> = { number: 80 }) => ({ service: { name, port } });
const path = (p: Record<string, unknown>) => ({ rules: [{ host: 'a.example.com', http: { paths: [{ backend: svc('web'), ...p }] } }] });

test.serial('each invalid Ingress is a 422 Invalid whose causes name the field, and nothing is stored', async (t) => {
  const cases: [Record<string, unknown>, string[], Record<string, string>?][] = [
    [{}, ['spec: Invalid value: null: either `defaultBackend` or `rules` must be specified']],
    [path({ path: '/', pathType: undefined }), ['spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified']],
    [
      path({ path: '/', pathType: 'Regex' }),
      ['spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"'],
    ],
    [path({ path: 'foo', pathType: 'Prefix' }), ['spec.rules[0].http.paths[0].path: Invalid value: "foo": must be an absolute path']],
    [path({ path: '/a//b', pathType: 'Exact' }), ['spec.rules[0].http.paths[0].path: Invalid value: "/a//b": must not contain \'//\'']],
    [path({ path: '/a/..', pathType: 'Prefix' }), ['spec.rules[0].http.paths[0].path: Invalid value: "/a/..": cannot end with \'/..\'']],
    [
      path({ path: '/', pathType: 'Prefix', backend: { ...svc('web'), resource: { kind: 'Bucket', name: 'b' } } }),
      ['spec.rules[0].http.paths[0].backend: Invalid value: "": cannot set both resource and service backends'],
    ],
    [path({ path: '/', pathType: 'Prefix', backend: {} }), ['spec.rules[0].http.paths[0].backend: Invalid value: "": resource or service backend is required']],
    [
      path({ path: '/', pathType: 'Prefix', backend: svc('web', {}) }),
      ['spec.rules[0].http.paths[0].backend: Required value: port name or number is required'],
    ],
    [
      path({ path: '/', pathType: 'Prefix', backend: svc('web', { name: 'http', number: 80 }) }),
      ['spec.rules[0].http.paths[0].backend: Invalid value: "": cannot set both port name & port number'],
    ],
    [
      path({ path: '/', pathType: 'Prefix', backend: svc('web', { number: 70000 }) }),
      ['spec.rules[0].http.paths[0].backend.service.port.number: Invalid value: 70000: must be between 1 and 65535, inclusive'],
    ],
    [
      { defaultBackend: { resource: { apiGroup: 'k8s.example.com', kind: '', name: 'a/b' } } },
      ['spec.defaultBackend.resource.kind: Required value: kind is required', 'spec.defaultBackend.resource.name: Invalid value: "a/b": may not contain \'/\''],
    ],
    [{ rules: [{ host: '1.2.3.4' }] }, ['spec.rules[0].host: Invalid value: "1.2.3.4": must be a DNS name, not an IP address']],
    [
      { rules: [{ host: 'foo.*.example.com' }] },
      [
        "spec.rules[0].host: Invalid value: \"foo.*.example.com\": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ],
    ],
    [{ rules: [{ host: 'a.example.com', http: { paths: [] } }] }, ['spec.rules[0].http.paths: Required value']],
    [
      { defaultBackend: svc('web'), tls: [{ hosts: ['Bad_Host'], secretName: 'tls' }] },
      [
        "spec.tls[0].hosts[0]: Invalid value: \"Bad_Host\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ],
    ],
    [
      { defaultBackend: svc('web'), ingressClassName: 'hawser' },
      ['annotations.kubernetes.io/ingress.class: Invalid value: "nginx": can not be set when the class field is also set'],
      { 'kubernetes.io/ingress.class': 'nginx' },
    ],
  ];
  for (const [i, [spec, want, annotations]] of cases.entries()) {
    const r = await post(ING, ingress(`bad-${i}`, spec, annotations));
    t.is(r.status, 422, JSON.stringify(spec));
    t.is(r.json?.reason, 'Invalid');
    t.deepEqual(causes(r), want);
    t.regex(r.json?.message ?? '', new RegExp(`^Ingress.networking.k8s.io "bad-${i}" is invalid: `));
  }
  t.deepEqual((await send({ path: ING })).json?.items, []);
});

test.serial('valid Ingresses of every path type and a wildcard host are stored; status takes only a valid loadBalancer', async (t) => {
  const spec = {
    tls: [{ hosts: ['*.example.com'], secretName: 'wild' }],
    rules: [
      {
        host: '*.example.com',
        http: {
          paths: [
            { path: '/exact', pathType: 'Exact', backend: svc('web') },
            { path: '/p', pathType: 'Prefix', backend: svc('web', { name: 'http' }) },
            { pathType: 'ImplementationSpecific', backend: { resource: { apiGroup: 'k8s.example.com', kind: 'Bucket', name: 'b' } } },
          ],
        },
      },
    ],
  };
  const r = await post(ING, ingress('good', spec));
  t.is(r.status, 201, JSON.stringify(r.json));
  t.deepEqual(r.json?.spec, { ...spec, ingressClassName: 'hawser' }, 'stored as sent, with the built-in default class');
  const cur = r.json!;
  const put = (status: unknown) => send({ method: 'PUT', path: `${ING}/good/status`, headers: json, body: JSON.stringify({ ...cur, status }) });
  const bad = await put({ loadBalancer: { ingress: [{ ip: '300.1.1.1' }] } });
  t.is(bad.status, 422);
  t.deepEqual(causes(bad), ['status.loadBalancer.ingress[0].ip: Invalid value: "300.1.1.1": must be a valid IP address']);
  const ok = await put({ loadBalancer: { ingress: [{ ip: '10.71.0.2' }] } });
  t.is(ok.status, 200);
  t.deepEqual(ok.json?.status, { loadBalancer: { ingress: [{ ip: '10.71.0.2' }] } });
  t.is((await send({ method: 'DELETE', path: `${ING}/good` })).status, 200);
});

test.serial('IngressClass: parameters scope defaults to Cluster, bad controllers and scopes are 422s, the controller is immutable', async (t) => {
  const made = await post(IC, klass('params', { controller: 'example.com/ctl', parameters: { kind: 'Config', name: 'c' } }));
  t.is(made.status, 201);
  t.is(made.json?.spec.parameters.scope, 'Cluster');
  const cases: [Record<string, unknown>, string[]][] = [
    [{ controller: 'nodomain' }, ['spec.controller: Invalid value: "nodomain": must be a domain-prefixed path (such as "acme.io/foo")']],
    [{}, ['spec.controller: Required value']],
    [
      { controller: 'example.com/c', parameters: { kind: 'K', name: 'n', scope: 'Namespace' } },
      ["spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'"],
    ],
    [
      { controller: 'example.com/c', parameters: { kind: 'K', name: 'n', scope: 'Cluster', namespace: 'x' } },
      ["spec.parameters.namespace: Forbidden: `parameters.scope` is set to 'Cluster'"],
    ],
    [
      { controller: 'example.com/c', parameters: { kind: 'K', name: 'n', scope: 'World' } },
      ['spec.parameters.scope: Unsupported value: "World": supported values: "Cluster", "Namespace"'],
    ],
  ];
  for (const [i, [spec, want]] of cases.entries()) {
    const r = await post(IC, klass(`bad-${i}`, spec));
    t.is(r.status, 422, JSON.stringify(spec));
    t.deepEqual(causes(r), want);
  }
  const changed = await send({
    method: 'PATCH',
    path: `${IC}/params`,
    headers: { 'content-type': 'application/merge-patch+json' },
    body: '{"spec":{"controller":"example.com/other"}}',
  });
  t.is(changed.status, 422);
  t.deepEqual(causes(changed), ['spec.controller: Invalid value: "example.com/other": field is immutable']);
  t.is((await send({ method: 'DELETE', path: `${IC}/params` })).status, 200);
});

test.serial('DefaultIngressClass admission sets the newest default class on a new Ingress that names none', async (t) => {
  const basic = (name: string, extra: Record<string, unknown> = {}, annotations?: Record<string, string>) =>
    ingress(name, { defaultBackend: svc('web'), ...extra }, annotations);
  const classes = () => send({ path: IC }).then((r) => (r.json?.items ?? []) as { metadata: { name: string } }[]);
  // the control plane's own default class (if any) is set aside for this test
  const before = await classes();
  for (const k of before) await send({ method: 'DELETE', path: `${IC}/${k.metadata.name}` });
  try {
    t.is((await post(ING, basic('none'))).json?.spec.ingressClassName, undefined, 'no default class: left unset');
    t.is((await post(IC, klass('first', { controller: 'example.com/a' }, true))).status, 201);
    t.is((await post(ING, basic('one'))).json?.spec.ingressClassName, 'first');
    await new Promise((r) => setTimeout(r, 1100)); // creationTimestamp has one-second resolution
    t.is((await post(IC, klass('second', { controller: 'example.com/b' }, true))).status, 201);
    t.is((await post(ING, basic('two'))).json?.spec.ingressClassName, 'second', 'the later default wins');
    t.is((await post(ING, basic('named', { ingressClassName: 'other' }))).json?.spec.ingressClassName, 'other');
    const legacy = await post(ING, basic('legacy', {}, { 'kubernetes.io/ingress.class': 'nginx' }));
    t.is(legacy.json?.spec.ingressClassName, undefined, 'the legacy annotation names a class');
    // an update never gets a class
    const none = (await send({ path: `${ING}/none` })).json!;
    const put = await send({ method: 'PUT', path: `${ING}/none`, headers: json, body: JSON.stringify(none) });
    t.is(put.json?.spec.ingressClassName, undefined);
  } finally {
    await send({ method: 'DELETE', path: ING });
    for (const n of ['first', 'second']) await send({ method: 'DELETE', path: `${IC}/${n}` });
    for (const k of before) await post(IC, { ...k, metadata: { ...k.metadata, resourceVersion: undefined, uid: undefined } });
  }
});

test.serial('kubectl get prints the class, hosts, address and ports of an Ingress, and an IngressClass with its controller', async (t) => {
  t.is((await post(IC, klass('printed', { controller: 'example.com/p', parameters: { apiGroup: 'k8s.example.com', kind: 'Config', name: 'c' } }))).status, 201);
  const r = await post(
    ING,
    ingress('shown', { ingressClassName: 'printed', tls: [{ hosts: ['a.example.com'] }], rules: [{ host: 'a.example.com' }, { host: 'b.example.com' }] }),
  );
  t.is(r.status, 201);
  try {
    const ing = await c.kubectl(['get', 'ingress', 'shown']);
    t.regex(ing.stdout, /NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE\nshown\s+printed\s+a\.example\.com,b\.example\.com\s+80, 443\s+\d+s/);
    const ic = await c.kubectl(['get', 'ingressclass', 'printed']);
    t.regex(ic.stdout, /NAME\s+CONTROLLER\s+PARAMETERS\s+AGE\nprinted\s+example\.com\/p\s+Config\.k8s\.example\.com\/c\s+\d+s/);
  } finally {
    await send({ method: 'DELETE', path: `${ING}/shown` });
    await send({ method: 'DELETE', path: `${IC}/printed` });
  }
});
