// Admission webhooks and an aggregated API served by a pod of the lab, as issue #17 asks to see
// them and as upstream's AdmissionWebhook and Aggregator tests deploy theirs: a Deployment of the
// lab's testapp image running porter (images/testapp/porter-webhook.c, porter-apiservice.c) with
// its serving certificate from a TLS Secret, behind a Service; webhook configurations and an
// APIService name that Service with the caBundle of the CA that signed the certificate, so the
// API server reaches the pod's address and verifies it as `porter.<ns>.svc`. A user's kubectl
// sees the denials, the mutations, webhook timeouts under failurePolicy Fail and Ignore, and the
// aggregated group in discovery and `kubectl get`. The other webhook and aggregator mirrors
// (api-machinery-webhook, -aggregator) use processes on 127.0.0.1 instead.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { issueCert, loadOrCreateCA } from '../../agents/control-plane/pki.ts';
import { clusterEnv, conformance, Kube, until, waitReady, type Ctx } from '../conformance/fixture.ts';

const it = conformance('hookpod', { timeoutMs: 180_000 });
const env = clusterEnv();
/** where porter runs: a namespace of its own, shared by the file's tests */
const serverNs = `hookpod-server-${Math.random().toString(36).slice(2, 7)}`;
let caBundle = '';
let podName = '';

const WEBHOOK_PORT = 443;
const API_PORT = 7443;

/** Starts porter in a Deployment behind the Service `porter` and waits for its pod to be Ready. */
test.before(async (t) => {
  if (!env) return;
  t.timeout(150_000);
  const kc = new Kube(env.kubeconfig);
  const k = new Kube(env.kubeconfig, serverNs);
  const dir = mkdtempSync(join(tmpdir(), 'hookpod-ca-'));
  try {
    const ca = await loadOrCreateCA(dir, 'hookpod-e2e-ca');
    const serving = await issueCert(ca, { cn: 'porter', sans: [`porter.${serverNs}.svc`], usage: 'server' });
    caBundle = Buffer.from(ca.certPem).toString('base64');
    kc.ok(['create', 'namespace', serverNs]);
    k.create(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'porter-tls' },
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': Buffer.from(serving.certPem).toString('base64'), 'tls.key': Buffer.from(serving.keyPem).toString('base64') },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'porter' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'porter' } },
          template: {
            metadata: { labels: { app: 'porter' } },
            spec: {
              containers: [
                {
                  name: 'porter',
                  image: env.image,
                  command: ['/bin/porter'],
                  env: [
                    { name: 'SERVE_WEBHOOK_PORT', value: '8443' },
                    { name: 'SERVE_APISERVICE_PORT', value: '9443' },
                    { name: 'SERVE_TLS_CERT_FILE', value: '/certs/tls.crt' },
                    { name: 'SERVE_TLS_KEY_FILE', value: '/certs/tls.key' },
                  ],
                  volumeMounts: [{ name: 'certs', mountPath: '/certs', readOnly: true }],
                  readinessProbe: { httpGet: { scheme: 'HTTPS', path: '/readyz', port: 8443 }, periodSeconds: 1 },
                },
              ],
              volumes: [{ name: 'certs', secret: { secretName: 'porter-tls' } }],
            },
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'porter' },
        spec: {
          selector: { app: 'porter' },
          ports: [
            { name: 'webhook', port: WEBHOOK_PORT, targetPort: 8443 },
            { name: 'api', port: API_PORT, targetPort: 9443 },
          ],
        },
      },
    );
    podName = await until('the porter pod', () => k.json(['get', 'pods', '-l', 'app=porter']).items[0]?.metadata.name as string | undefined, 60_000);
    await waitReady(k, [podName], 120_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
test.after.always(() => {
  if (env) new Kube(env.kubeconfig).run(['delete', 'namespace', serverNs, '--wait=false']);
});

/** One webhook calling porter's `path` through the Service, for configmap creates in the test's namespace. */
function hook(c: Ctx, name: string, path: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    clientConfig: { service: { namespace: serverNs, name: 'porter', path, port: WEBHOOK_PORT }, caBundle },
    rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }],
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': c.ns } },
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    ...extra,
  };
}

/** Registers a webhook configuration, removed after the test. */
function register(t: { teardown(fn: () => void): void }, c: Ctx, kind: 'Validating' | 'Mutating', hooks: Record<string, unknown>[]): string {
  const name = `${c.ns}-${kind.toLowerCase()}`;
  c.kc.create({ apiVersion: 'admissionregistration.k8s.io/v1', kind: `${kind}WebhookConfiguration`, metadata: { name }, webhooks: hooks });
  t.teardown(() => {
    c.kc.run(['delete', `${kind.toLowerCase()}webhookconfiguration`, name, '--ignore-not-found']);
  });
  return name;
}

const configMap = (name: string, data: Record<string, string>) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });

it('[sig-api-machinery] [hawser] a validating and a mutating webhook served by a pod deny and mutate configmap creates', async (t, c) => {
  register(t, c, 'Validating', [hook(c, 'deny-unwanted-configmap-data.k8s.io', '/configmaps')]);
  register(t, c, 'Mutating', [hook(c, 'adding-configmap-data-stage-1.k8s.io', '/mutating-configmaps'), hook(c, 'add-label.k8s.io', '/add-label')]);

  // the configurations take effect within moments (the API server's informer)
  const denied = await until(
    'the pod webhook to deny the unwanted configmap',
    () => {
      const r = c.k.run(['create', '-f', '-'], configMap('unwanted', { 'webhook-e2e-test': 'webhook-disallow' }));
      if (r.code === 0) c.k.ok(['delete', 'configmap', 'unwanted']);
      return r.code !== 0 && r.stderr;
    },
    30_000,
    200,
  );
  t.regex(
    denied,
    /error when creating "STDIN": admission webhook "deny-unwanted-configmap-data\.k8s\.io" denied the request: the configmap contains unwanted key and value/,
  );
  t.is(c.k.get('configmap', 'unwanted'), undefined, 'nothing stored');

  const created = JSON.parse(c.k.ok(['create', '-f', '-', '-o', 'json'], configMap('mutated', { 'mutation-start': 'yes' })));
  t.deepEqual(created.data, { 'mutation-start': 'yes', 'mutation-stage-1': 'yes' }, 'stage 1 added by the mutating webhook');
  t.is(created.metadata.labels?.['added-label'], 'yes', 'label added by the second mutating webhook');
  t.deepEqual(c.k.json(['get', 'configmap', 'mutated']).data, created.data, 'stored mutated');
  t.regex(c.k.ok(['get', 'configmap', 'mutated', '--show-labels']), /added-label=yes/);
});

it('[sig-api-machinery] [hawser] a pod webhook that answers after 5 s is cut at timeoutSeconds 1: the create fails under failurePolicy Fail and passes under Ignore', async (t, c) => {
  const name = register(t, c, 'Validating', [
    hook(c, 'allow-configmap-with-delay-webhook.k8s.io', '/always-allow-delay-5s', { timeoutSeconds: 1, failurePolicy: 'Fail' }),
  ]);
  const failed = await until(
    'the slow webhook to be called',
    () => {
      const r = c.k.run(['create', 'configmap', `slow-${Date.now()}`]);
      return r.code !== 0 && r.stderr;
    },
    30_000,
    200,
  );
  t.regex(failed, /failed calling webhook "allow-configmap-with-delay-webhook\.k8s\.io": .*deadline exceeded/);

  c.kc.ok([
    'patch',
    'validatingwebhookconfiguration',
    name,
    '--type=json',
    '-p',
    JSON.stringify([{ op: 'replace', path: '/webhooks/0/failurePolicy', value: 'Ignore' }]),
  ]);
  await until('the Ignore policy in effect', () => c.k.run(['create', 'configmap', `ignored-${Date.now()}`]).code === 0, 30_000, 200);
  const start = Date.now();
  c.k.ok(['create', 'configmap', 'ignored']);
  const ms = Date.now() - start;
  t.truthy(c.k.get('configmap', 'ignored'), 'created under Ignore');
  t.true(ms >= 1000 && ms < 4500, `the create waited for the 1 s timeout, not for the 5 s answer (${ms} ms)`);
});

it('[sig-api-machinery] [hawser] an aggregated API served by a pod becomes Available, appears in discovery and answers kubectl get through the API server', async (t, c) => {
  const name = 'v1.porter.hawser.local';
  c.kc.create({
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name },
    spec: {
      service: { namespace: serverNs, name: 'porter', port: API_PORT },
      group: 'porter.hawser.local',
      version: 'v1',
      caBundle,
      groupPriorityMinimum: 1000,
      versionPriority: 15,
    },
  });
  t.teardown(() => {
    c.kc.run(['delete', 'apiservice', name, '--ignore-not-found']);
  });
  await until(
    'the APIService Available',
    () => (c.kc.json(['get', 'apiservice', name]).status?.conditions ?? []).some((x: any) => x.type === 'Available' && x.status === 'True'),
    60_000,
  );
  t.regex(c.kc.ok(['get', 'apiservice', name]), new RegExp(`^${name.replace(/\./g, '\\.')}\\s+${serverNs}/porter\\s+True\\s`, 'm'));
  t.regex(c.kc.ok(['api-resources', '--api-group=porter.hawser.local']), /^porters\s+porter\.hawser\.local\/v1\s+false\s+Porter$/m);
  t.true(c.kc.ok(['api-versions']).split('\n').includes('porter.hawser.local/v1'));

  const list = c.kc.json(['get', 'porters']);
  t.deepEqual(
    list.items.map((p: any) => [p.kind, p.metadata.name]),
    [['Porter', podName]],
    'the list comes from the pod (named after its hostname)',
  );
  t.regex(c.kc.ok(['get', 'porters']), new RegExp(`^${podName}\\s`, 'm'));
  t.is(c.kc.json(['get', 'porter', podName]).spec.servedBy, podName);
  const missing = c.kc.run(['get', 'porter', 'nope']);
  t.regex(missing.stderr, /porters\.porter\.hawser\.local "nope" not found/);
});
