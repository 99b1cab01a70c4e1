// [sig-network] Proxy: pods/proxy and services/proxy carry every HTTP method to a pod and back,
// with a path after /proxy and with only a query, as upstream's test/e2e/network/proxy.go checks
// with agnhost's `porter --json-response`. Our test image is busybox, so the pod serves the same
// answer with `nc -ll -e` and a few lines of sh: {"Method":<the request's method>,"Body":$SERVE_PORT_80}.
// The API server reaches the pod directly (on the netns lab through its routes to the podCIDRs).
// "should proxy through a service and a pod" needs HTTPS too: the test image's /bin/porter
// (images/testapp/porter.c) answers SERVE_PORT_<n> and SERVE_TLS_PORT_<n> as agnhost porter does.
import type { ExecutionContext } from 'ava';
import { conformance, until, waitReady, type Ctx } from '../conformance/fixture.ts';
import { deployment, pod, service, template } from '../conformance/manifests.ts';
import { rawRequest } from '../conformance/raw.ts';

const it = conformance('net-proxy', { timeoutMs: 180_000 });

/** agnhost porter --json-response on port 80, in sh: reads the request (and its body), answers JSON. */
const PORTER = [
  'cr=$(printf "\\r"); len=0',
  'read -r method path rest',
  'while read -r h; do h=${h%"$cr"}; [ -z "$h" ] && break; case "$h" in [Cc]ontent-[Ll]ength:*) len=${h#*:}; len=${len# };; esac; done',
  '[ "$len" -gt 0 ] 2>/dev/null && head -c "$len" >/dev/null',
  'body="{\\"Method\\":\\"$method\\",\\"Body\\":\\"$SERVE_PORT_80\\"}"',
  'printf "HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: %s\\r\\nConnection: close\\r\\n\\r\\n" "${#body}"',
  '[ "$method" = HEAD ] || printf "%s" "$body"',
].join('\n');

const porter = (name: string, image: string, labels: Record<string, string>, msg: string) =>
  pod(name, image, {
    labels,
    ports: [],
    restartPolicy: 'Never',
    container: 'agnhost',
    command: ['nc', '-ll', '-p', '80', '-e', 'sh', '-c', PORTER],
    env: [{ name: 'SERVE_PORT_80', value: msg }],
  });

/** upstream's validateProxyVerbRequest, polled as upstream polls it: 200, and for all but HEAD the JSON echo. */
async function expectVerb(t: ExecutionContext, c: Ctx, path: string, verb: string, msg: string): Promise<void> {
  const r = await until(
    `${verb} ${path} to answer 200 from the pod`,
    async () => {
      const x = await rawRequest(c.env.kubeconfig, verb, path);
      return x.status === 200 ? x : undefined;
    },
    60_000,
    250,
  );
  if (verb === 'HEAD') return void t.pass();
  t.deepEqual(JSON.parse(r.text), { Method: verb, Body: msg }, `${verb} ${path}`);
}

async function podAndService(c: Ctx, svc: string, labels: Record<string, string>): Promise<void> {
  c.k.create(porter('agnhost', c.env.image, labels, 'foo'), service(svc, { labels, selector: labels, ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] }));
  await waitReady(c.k, ['agnhost']);
}

it('[sig-network] Proxy version v1 A set of valid responses are returned for both pod and service ProxyWithPath [Conformance]', async (t, c) => {
  await podAndService(c, 'test-service', { test: 'response' });
  const verbs = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'];
  for (const v of verbs) await expectVerb(t, c, `/api/v1/namespaces/${c.ns}/pods/agnhost/proxy/some/path/with/${v}`, v, 'foo');
  for (const v of verbs) await expectVerb(t, c, `/api/v1/namespaces/${c.ns}/services/test-service/proxy/some/path/with/${v}`, v, 'foo');
});

it('[sig-network] Proxy version v1 A set of valid responses are returned for both pod and service Proxy [Conformance]', async (t, c) => {
  const svc = 'e2e-proxy-test-service';
  await podAndService(c, svc, { 'e2e-test': 'proxy-endpoints' });
  const pods = `/api/v1/namespaces/${c.ns}/pods/agnhost/proxy`;
  const services = `/api/v1/namespaces/${c.ns}/services/${svc}/proxy`;
  for (const v of ['DELETE', 'OPTIONS', 'PATCH', 'POST', 'PUT']) {
    await expectVerb(t, c, `${pods}?method=${v}`, v, 'foo');
    await expectVerb(t, c, `${services}?method=${v}`, v, 'foo');
  }
  // GET and HEAD without a path after /proxy: upstream's 301 to .../proxy/
  for (const v of ['GET', 'HEAD']) {
    for (const base of [pods, services]) {
      const r = await rawRequest(c.env.kubeconfig, v, `${base}?method=${v}`);
      t.is(r.status, 301, `${v} ${base}`);
      t.is(r.headers.location, `${base}/?method=${v}`);
    }
  }
});

/** upstream's proxyAttempts: every case is tried this many times, the cases of one round side by side */
const PROXY_ATTEMPTS = 20;
/** upstream's proxyHTTPCallTimeout */
const PROXY_CALL_MS = 30_000;

it('[sig-network] Proxy version v1 should proxy through a service and a pod [Conformance]', async (t, c) => {
  const labels = { 'proxy-service-target': 'true' };
  const created = c.k.ok(
    ['create', '-f', '-', '-o', 'name'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { generateName: 'proxy-service-' },
      spec: {
        selector: labels,
        ports: [
          { name: 'portname1', port: 80, targetPort: 'dest1' },
          { name: 'portname2', port: 81, targetPort: 162 },
          { name: 'tlsportname1', port: 443, targetPort: 'tlsdest1' },
          { name: 'tlsportname2', port: 444, targetPort: 462 },
        ],
      },
    }),
  );
  const svc = created.trim().replace(/^service\//, '');
  // upstream's Deployment of one agnhost porter, serving the variables' values; Recreate strategy
  const env = Object.entries({
    SERVE_PORT_80: '<a href="/rewriteme">test</a>',
    SERVE_PORT_1080: '<a href="/rewriteme">test</a>',
    SERVE_PORT_160: 'foo',
    SERVE_PORT_162: 'bar',
    SERVE_TLS_PORT_443: '<a href="/tlsrewriteme">test</a>',
    SERVE_TLS_PORT_460: 'tls baz',
    SERVE_TLS_PORT_462: 'tls qux',
  }).map(([name, value]) => ({ name, value }));
  const tpl = template(c.env.image, labels, {
    command: ['porter'],
    env,
    ports: [
      { containerPort: 80 },
      { name: 'dest1', containerPort: 160 },
      { name: 'dest2', containerPort: 162 },
      { name: 'tlsdest1', containerPort: 460 },
      { name: 'tlsdest2', containerPort: 462 },
    ],
  });
  tpl.spec.containers[0].readinessProbe = { httpGet: { port: 80 }, initialDelaySeconds: 1, timeoutSeconds: 5, periodSeconds: 10 };
  const d = deployment(svc, c.env.image, 1, labels);
  c.k.create({ ...d, spec: { ...d.spec, strategy: { type: 'Recreate' }, template: tpl } });
  const name = await until(
    "the Deployment's pod to be Ready",
    () => {
      const pods = c.k.json<{ items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[] }>([
        'get',
        'pods',
        '-l',
        'proxy-service-target=true',
      ]).items;
      const ready = pods.filter((p) => (p.status?.conditions ?? []).some((x) => x.type === 'Ready' && x.status === 'True'));
      return ready.length === 1 ? ready[0]!.metadata.name : undefined;
    },
    120_000,
    1000,
  );
  await until(`endpoints of ${svc}`, () => (c.k.get('endpoints', svc)?.subsets ?? []).some((s: { addresses?: unknown[] }) => s.addresses?.length), 60_000);

  /** utilnet.JoinSchemeNamePort: a scheme needs all three segments */
  const join = (scheme: string, n: string, port: string) => (scheme ? `${scheme}:${n}:${port}` : port ? `${n}:${port}` : n);
  const svcURL = (scheme: string, port: string) => `/api/v1/namespaces/${c.ns}/services/${join(scheme, svc, port)}/proxy`;
  const podURL = (scheme: string, port: string) => `/api/v1/namespaces/${c.ns}/pods/${join(scheme, name, port)}/proxy`;
  const expectations: Record<string, string> = {
    [svcURL('', 'portname1') + '/']: 'foo',
    [svcURL('http', 'portname1') + '/']: 'foo',
    [svcURL('', 'portname2') + '/']: 'bar',
    [svcURL('http', 'portname2') + '/']: 'bar',
    [svcURL('https', 'tlsportname1') + '/']: 'tls baz',
    [svcURL('https', 'tlsportname2') + '/']: 'tls qux',
    // an HTML page's links come back rewritten under the proxy path
    [podURL('', '') + '/']: `<a href="${podURL('', '')}/rewriteme">test</a>`,
    [podURL('', '1080') + '/']: `<a href="${podURL('', '1080')}/rewriteme">test</a>`,
    [podURL('http', '1080') + '/']: `<a href="${podURL('http', '1080')}/rewriteme">test</a>`,
    [podURL('', '160') + '/']: 'foo',
    [podURL('http', '160') + '/']: 'foo',
    [podURL('', '162') + '/']: 'bar',
    [podURL('http', '162') + '/']: 'bar',
    [podURL('https', '443') + '/']: `<a href="${podURL('https', '443')}/tlsrewriteme">test</a>`,
    [podURL('https', '460') + '/']: 'tls baz',
    [podURL('https', '462') + '/']: 'tls qux',
  };
  const errs: string[] = [];
  for (let i = 0; i < PROXY_ATTEMPTS; i++) {
    await Promise.all(
      Object.entries(expectations).map(async ([path, want]) => {
        const start = Date.now();
        try {
          const r = await rawRequest(c.env.kubeconfig, 'GET', path, PROXY_CALL_MS);
          const took = Date.now() - start;
          if (r.status !== 200) errs.push(`${i}: path ${path} gave status: ${r.status} ${r.text.slice(0, 200)}`);
          else if (r.text !== want) errs.push(`${i}: path ${path}: wanted ${want}, got ${r.text}`);
          if (took > PROXY_CALL_MS) errs.push(`${i}: path ${path} took ${took} ms > ${PROXY_CALL_MS} ms`);
        } catch (e) {
          errs.push(`${i}: path ${path} gave error: ${(e as Error).message}`);
        }
      }),
    );
  }
  if (errs.length) t.log(`pod ${name} logs:\n${c.k.run(['logs', name]).stdout}`);
  t.deepEqual(errs, [], `${errs.length} of ${PROXY_ATTEMPTS * Object.keys(expectations).length} proxy calls failed`);
});
