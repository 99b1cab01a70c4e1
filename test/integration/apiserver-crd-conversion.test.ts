// CRD conversion webhooks against a real API server, kubectl and an HTTPS conversion webhook on
// loopback (upstream's sample: v1 hostPort <-> v2 host and port): Webhook conversion is validated
// with upstream's 422s; objects are stored in the storage version and converted on get, list,
// watch and on writes in another version; lists mixing stored versions convert only what needs it;
// a webhook that fails or answers wrongly is a 500 with upstream's message, nothing is stored and
// the server keeps serving.
import test from 'ava';
import { type Cluster, until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { rawClient, type RawClient } from './_https.ts';
import { conversionResponse, hostPortConverter, startWebhookServer, type WebhookServer } from './_webhook-server.ts';

let c: Cluster;
let api: RawClient;
let hook: WebhookServer;

const GROUP = 'stable.example.com';
const CRD_NAME = `hostports.${GROUP}`;
const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const path = (v: string, name = '') => `/apis/${GROUP}/${v}/namespaces/default/hostports${name ? `/${name}` : ''}`;

fileCluster(async (cluster, own) => {
  c = cluster;
  api = own(rawClient(c.admin, 15_000));
  hook = await startWebhookServer(
    {
      '/convert': conversionResponse(hostPortConverter),
      '/wrong-uid': {
        review: (r) => ({
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'ConversionReview',
          response: { uid: 'not-yours', convertedObjects: r.request.objects, result: { status: 'Success' } },
        }),
      },
      '/renames': conversionResponse((o, apiVersion) => ({ ...hostPortConverter(o, apiVersion), metadata: { ...o.metadata, name: 'other' } })),
      '/drops': {
        review: (r) => ({
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'ConversionReview',
          response: { uid: r.request.uid, convertedObjects: [], result: { status: 'Success' } },
        }),
      },
      '/fails': {
        review: (r) => ({
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'ConversionReview',
          response: { uid: r.request.uid, result: { status: 'Failure', message: 'cannot convert today' } },
        }),
      },
      '/labels': conversionResponse((o, apiVersion) => ({
        ...hostPortConverter(o, apiVersion),
        metadata: { ...o.metadata, labels: { ...o.metadata.labels, converted: 'yes' }, resourceVersion: '1' },
      })),
    },
    ['convsvc.default.svc'],
  );
});
test.after.always(async () => {
  await hook?.close();
});

const versions = (storage: 'v1' | 'v2') => [
  { name: 'v1', served: true, storage: storage === 'v1', schema: { openAPIV3Schema: { type: 'object', properties: { hostPort: { type: 'string' } } } } },
  {
    name: 'v2',
    served: true,
    storage: storage === 'v2',
    schema: { openAPIV3Schema: { type: 'object', properties: { host: { type: 'string' }, port: { type: 'string' } } } },
  },
];

const crd = (hookPath: string, storage: 'v1' | 'v2' = 'v1', conversion?: Record<string, unknown>) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: CRD_NAME },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: { plural: 'hostports', singular: 'hostport', kind: 'HostPort' },
    versions: versions(storage),
    conversion: conversion ?? {
      strategy: 'Webhook',
      webhook: { clientConfig: { url: hook.url(hookPath), caBundle: hook.caBundle }, conversionReviewVersions: ['v1', 'v1beta1'] },
    },
  },
});

const cr = (name: string, v: 'v1' | 'v2', labels: Record<string, string> = {}) => ({
  apiVersion: `${GROUP}/${v}`,
  kind: 'HostPort',
  metadata: { name, namespace: 'default', labels },
  ...(v === 'v1' ? { hostPort: 'localhost:8080' } : { host: 'example.org', port: '9090' }),
});

/** Creates or replaces the CRD and waits until both versions are served with it. */
async function useCRD(body: Record<string, any>): Promise<void> {
  const cur = await api.request('GET', `${CRDS}/${CRD_NAME}`);
  const r =
    cur.status === 200 ? await api.request('PUT', `${CRDS}/${CRD_NAME}`, { ...body, metadata: cur.body.metadata }) : await api.request('POST', CRDS, body);
  if (r.status >= 300) throw new Error(`CRD write: ${r.status} ${r.text}`);
  await until(
    'the CRD is Established',
    async () => (await api.request('GET', `${CRDS}/${CRD_NAME}`)).body?.status?.conditions?.some((x: any) => x.type === 'Established' && x.status === 'True'),
    20_000,
  );
  // (a list may fail in conversion: served is anything but 404)
  await until(
    'both versions are served',
    async () => (await api.request('GET', path('v1'))).status !== 404 && (await api.request('GET', path('v2'))).status !== 404,
    20_000,
  );
  // a changed CRD reaches the served strategy through an informer on loopback (milliseconds): tests
  // that depend on the change wait for its effect
}

async function dropCRD(): Promise<void> {
  await api.request('DELETE', `${CRDS}/${CRD_NAME}`);
  await until('the CRD is gone', async () => (await api.request('GET', `${CRDS}/${CRD_NAME}`)).status === 404, 30_000);
}

test.serial('Webhook conversion is validated with upstream 422s naming the field; nothing stored', async (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ strategy: 'Webhook' }, 'spec.conversion.webhookClientConfig: Required value: required when strategy is set to Webhook'],
    [
      { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'], clientConfig: {} } },
      'spec.conversion.webhookClientConfig: Required value: exactly one of url or service is required',
    ],
    [
      { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'], clientConfig: { url: 'http://example.com/convert' } } },
      'spec.conversion.webhookClientConfig.url: Invalid value: "http": \'https\' is the only allowed URL scheme',
    ],
    [
      { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'], clientConfig: { service: { namespace: 'default' } } } },
      'spec.conversion.webhookClientConfig.service.name: Required value: service name is required',
    ],
    [{ strategy: 'Webhook', webhook: { clientConfig: { url: 'https://example.com/convert' } } }, 'spec.conversion.conversionReviewVersions: Required value'],
    [
      { strategy: 'Webhook', webhook: { clientConfig: { url: 'https://example.com/convert' }, conversionReviewVersions: ['v2'] } },
      'spec.conversion.conversionReviewVersions: Invalid value: ["v2"]: must include at least one of v1, v1beta1',
    ],
    [
      { strategy: 'None', webhook: { clientConfig: { url: 'https://example.com/convert' } } },
      'spec.conversion.webhookClientConfig: Forbidden: should not be set when strategy is not set to Webhook',
    ],
  ];
  for (const [conversion, message] of cases) {
    const r = await api.request('POST', CRDS, crd('/convert', 'v1', conversion));
    t.is(r.status, 422, JSON.stringify(conversion));
    t.true(r.body.message.includes(message), `${r.body.message}\n wanted ${message}`);
  }
  t.is((await api.request('GET', `${CRDS}/${CRD_NAME}`)).status, 404);
});

test.serial('objects are stored in the storage version and converted on get, list, watch and writes (kubectl both ways)', async (t) => {
  t.teardown(dropCRD);
  await useCRD(crd('/convert'));
  await c.ok(['create', '-f', '-'], { input: JSON.stringify(cr('one', 'v1', { app: 'a' })) });
  const two = await api.request('POST', path('v2'), cr('two', 'v2', { app: 'b' }));
  t.is(two.status, 201, two.text);
  t.like(two.body, { apiVersion: `${GROUP}/v2`, host: 'example.org', port: '9090' });
  t.false('hostPort' in two.body);
  // the v2 create was sent to the webhook for the storage version
  t.true(hook.received('/convert').some((r) => r.request.desiredAPIVersion === `${GROUP}/v1` && r.request.objects[0].metadata.name === 'two'));

  const v2 = JSON.parse(await c.ok(['get', `hostports.v2.${GROUP}`, 'one', '-o', 'json']));
  t.like(v2, { apiVersion: `${GROUP}/v2`, host: 'localhost', port: '8080', metadata: { name: 'one', labels: { app: 'a' } } });
  t.false('hostPort' in v2);
  const v1 = JSON.parse(await c.ok(['get', `hostports.v1.${GROUP}`, 'two', '-o', 'json']));
  t.like(v1, { apiVersion: `${GROUP}/v1`, hostPort: 'example.org:9090' });

  // lists in v2 with label and field selectors
  const byLabel = JSON.parse(await c.ok(['get', `hostports.v2.${GROUP}`, '-l', 'app=a', '-o', 'json']));
  t.deepEqual(
    byLabel.items.map((i: any) => [i.metadata.name, i.apiVersion, i.host]),
    [['one', `${GROUP}/v2`, 'localhost']],
  );
  const byField = JSON.parse(await c.ok(['get', `hostports.v2.${GROUP}`, '--field-selector', 'metadata.name=two', '-o', 'json']));
  t.deepEqual(
    byField.items.map((i: any) => [i.metadata.name, i.port]),
    [['two', '9090']],
  );
  const page = await api.request('GET', `${path('v2')}?limit=1`);
  t.is(page.body.items.length, 1);
  t.is(page.body.items[0].apiVersion, `${GROUP}/v2`);

  // a merge patch in v2 lands in storage through the webhook; v1 reads it back
  await c.ok(['patch', `hostports.v2.${GROUP}`, 'one', '--type=merge', '-p', '{"port":"7070"}']);
  t.is(JSON.parse(await c.ok(['get', `hostports.v1.${GROUP}`, 'one', '-o', 'json'])).hostPort, 'localhost:7070');
  // an update in v2 of what was read in v2
  const cur = (await api.request('GET', path('v2', 'two'))).body;
  const put = await api.request('PUT', path('v2', 'two'), { ...cur, host: 'example.net' });
  t.is(put.status, 200, put.text);
  t.is((await api.request('GET', path('v1', 'two'))).body.hostPort, 'example.net:9090');

  // a server-side apply in v2 creates and then changes an object stored in v1
  await c.ok(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(cr('three', 'v2')) });
  await c.ok(['apply', '--server-side', '-f', '-'], { input: JSON.stringify({ ...cr('three', 'v2'), port: '9191' }) });
  t.is((await api.request('GET', path('v1', 'three'))).body.hostPort, 'example.org:9191');
  await c.ok(['delete', `hostports.v2.${GROUP}`, 'three']);

  // a watch in v2 gets converted objects
  const w = await api.request('GET', `${path('v2')}?watch=true&timeoutSeconds=1`);
  const events = w.text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.deepEqual(events.map((e) => [e.type, e.object.apiVersion, e.object.metadata.name, e.object.host]).sort(), [
    ['ADDED', `${GROUP}/v2`, 'one', 'localhost'],
    ['ADDED', `${GROUP}/v2`, 'two', 'example.net'],
  ]);

  // delete through v2
  await c.ok(['delete', `hostports.v2.${GROUP}`, 'one', 'two']);
  t.is((await api.request('GET', path('v1'))).body.items.length, 0);
});

test.serial('a list mixing stored versions converts only the objects in another version; labels the webhook sets are kept', async (t) => {
  t.teardown(dropCRD);
  await useCRD(crd('/convert'));
  t.is((await api.request('POST', path('v1'), cr('old', 'v1'))).status, 201);
  await useCRD(crd('/convert', 'v2'));
  // the served strategy has the new storage version once a v2 create no longer goes to the webhook
  await until(
    'v2 is stored as v2',
    async () => {
      const before = hook.received('/convert').length;
      const probe = await api.request('POST', path('v2'), cr(`probe-${before}`, 'v2'));
      await api.request('DELETE', path('v2', probe.body.metadata.name));
      return hook.received('/convert').length === before;
    },
    20_000,
    200,
  );
  t.is((await api.request('POST', path('v2'), cr('new', 'v2'))).status, 201);
  const before = hook.received('/convert').length;
  const v1 = (await api.request('GET', path('v1'))).body;
  t.deepEqual(
    v1.items.map((i: any) => [i.metadata.name, i.apiVersion, i.hostPort]),
    [
      ['new', `${GROUP}/v1`, 'example.org:9090'],
      ['old', `${GROUP}/v1`, 'localhost:8080'],
    ],
  );
  const sent = hook.received('/convert').slice(before);
  t.deepEqual(
    sent.map((r) => r.request.objects.map((o: any) => o.metadata.name)),
    [['new']],
    'only the v2-stored object went to the webhook',
  );
  const v2 = JSON.parse(await c.ok(['get', `hostports.v2.${GROUP}`, '-o', 'json']));
  t.deepEqual(
    v2.items.map((i: any) => [i.metadata.name, i.apiVersion, i.host, i.port]),
    [
      ['new', `${GROUP}/v2`, 'example.org', '9090'],
      ['old', `${GROUP}/v2`, 'localhost', '8080'],
    ],
  );

  // labels and annotations are the only metadata a webhook may change
  await useCRD(crd('/labels', 'v2'));
  const old = await until(
    'the labelling webhook answers',
    async () => {
      const o = (await api.request('GET', path('v2', 'old'))).body;
      return o.metadata.labels?.converted && o;
    },
    10_000,
  );
  t.is(old.metadata.labels.converted, 'yes');
  t.not(old.metadata.resourceVersion, '1');
});

test.serial('a webhook behind a Service is called at its EndpointSlice address with the service name verified', async (t) => {
  t.teardown(async () => {
    await dropCRD();
    await api.request('DELETE', '/api/v1/namespaces/default/services/convsvc');
    await api.request('DELETE', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/convsvc-manual');
  });
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'convsvc', namespace: 'default' },
    spec: { ports: [{ name: 'https', port: 443, targetPort: hook.port }] },
  };
  t.is((await api.request('POST', '/api/v1/namespaces/default/services', svc)).status, 201);
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'convsvc-manual',
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': 'convsvc', 'endpointslice.kubernetes.io/managed-by': 'test' },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
    ports: [{ name: 'https', port: hook.port, protocol: 'TCP' }],
  };
  t.is((await api.request('POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', slice)).status, 201);
  await useCRD(
    crd('/convert', 'v1', {
      strategy: 'Webhook',
      webhook: {
        clientConfig: { service: { name: 'convsvc', namespace: 'default', path: '/convert' }, caBundle: hook.caBundle },
        conversionReviewVersions: ['v1'],
      },
    }),
  );
  const stored = await api.request('GET', `${CRDS}/${CRD_NAME}`);
  t.is(stored.body.spec.conversion.webhook.clientConfig.service.port, 443, 'defaulted');
  t.is((await api.request('POST', path('v1'), cr('via-svc', 'v1'))).status, 201);
  const v2 = await api.request('GET', path('v2', 'via-svc'));
  t.is(v2.status, 200, v2.text);
  t.like(v2.body, { host: 'localhost', port: '8080' });
  // a Service that does not exist is upstream's failed call
  await useCRD(
    crd('/convert', 'v1', {
      strategy: 'Webhook',
      webhook: { clientConfig: { service: { name: 'nosvc', namespace: 'default' }, caBundle: hook.caBundle }, conversionReviewVersions: ['v1'] },
    }),
  );
  const none = await until(
    'the Service-less webhook is used',
    async () => {
      const x = await api.request('GET', path('v2', 'via-svc'));
      return x.status === 500 && x;
    },
    10_000,
  );
  t.is(none.body.message, `conversion webhook for ${GROUP}/v1, Kind=HostPort failed: Post "https://nosvc.default.svc/": service "nosvc" not found`);
});

test.serial("a failing or wrong webhook is a 500 with upstream's message, nothing is stored and the server keeps serving", async (t) => {
  t.teardown(dropCRD);
  await useCRD(crd('/convert'));
  t.is((await api.request('POST', path('v1'), cr('kept', 'v1'))).status, 201);
  const gvk = `${GROUP}/v1, Kind=HostPort`;
  const cases: [string, string][] = [
    ['/wrong-uid', `conversion webhook for ${gvk} failed: expected response.uid=`],
    ['/renames', `conversion webhook for ${gvk} returned invalid converted object at index 0: must have the same name: kept != other`],
    ['/drops', `conversion webhook for ${gvk} returned 0 objects, expected 1`],
    ['/fails', `conversion webhook for ${gvk} failed: cannot convert today`],
  ];
  for (const [p, message] of cases) {
    await useCRD(crd(p));
    const r = await until(
      'the new webhook answers',
      async () => {
        const x = await api.request('GET', path('v2', 'kept'));
        return x.body?.message?.startsWith(message) && x;
      },
      10_000,
    );
    t.is(r.status, 500, p);
    t.true(r.body.message.startsWith(message), `${r.body.message}\n wanted ${message}`);
    const out = await c.kubectl(['get', `hostports.v2.${GROUP}`]);
    t.not(out.code, 0);
    t.true(out.stderr.includes(`Error from server: ${message}`), out.stderr);
  }
  // a create in v2 that cannot be converted to the storage version stores nothing
  const created = await api.request('POST', path('v2'), cr('never', 'v2'));
  t.is(created.status, 500);
  t.true(created.body.message.startsWith(`conversion webhook for ${GROUP}/v2, Kind=HostPort failed: cannot convert today`), created.body.message);
  t.deepEqual(
    (await api.request('GET', path('v1'))).body.items.map((i: any) => i.metadata.name),
    ['kept'],
  );
  // an unreachable webhook: Go's wording of the refused connection
  await hook.close();
  await useCRD(crd('/convert'));
  const down = await until(
    'the /convert URL is called',
    async () => {
      const x = await api.request('GET', path('v2', 'kept'));
      return x.body?.message?.includes('/convert"') && x;
    },
    10_000,
  );
  t.is(down.status, 500);
  t.regex(
    down.body.message,
    new RegExp(
      `^conversion webhook for ${gvk.replace(/[./]/g, '\\$&')} failed: Post "https://127\\.0\\.0\\.1:\\d+/convert": dial tcp 127\\.0\\.0\\.1:\\d+: connect: connection refused$`,
    ),
  );
  // the storage version is still served, and so is everything else
  t.is((await api.request('GET', path('v1', 'kept'))).status, 200);
  t.is((await api.request('GET', '/api/v1/namespaces/default')).status, 200);
});
