// [sig-network] Proxy: pods/proxy and services/proxy carry every HTTP method to a pod and back,
// with a path after /proxy and with only a query, as upstream's test/e2e/network/proxy.go checks
// with agnhost's `porter --json-response`. Our test image is busybox, so the pod serves the same
// answer with `nc -ll -e` and a few lines of sh: {"Method":<the request's method>,"Body":$SERVE_PORT_80}.
// The API server reaches the pod directly (on the netns lab through its routes to the podCIDRs).
import type { ExecutionContext } from 'ava';
import { conformance, until, waitReady, type Ctx } from '../conformance/fixture.ts';
import { pod, service } from '../conformance/manifests.ts';
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

const porter = (name: string, image: string, labels: Record<string, string>, msg: string) => pod(name, image, {
  labels, ports: [], restartPolicy: 'Never', container: 'agnhost',
  command: ['nc', '-ll', '-p', '80', '-e', 'sh', '-c', PORTER], env: [{ name: 'SERVE_PORT_80', value: msg }],
});

/** upstream's validateProxyVerbRequest, polled as upstream polls it: 200, and for all but HEAD the JSON echo. */
async function expectVerb(t: ExecutionContext, c: Ctx, path: string, verb: string, msg: string): Promise<void> {
  const r = await until(`${verb} ${path} to answer 200 from the pod`, async () => {
    const x = await rawRequest(c.env.kubeconfig, verb, path);
    return x.status === 200 ? x : undefined;
  }, 60_000, 250);
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
