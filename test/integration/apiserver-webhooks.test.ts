// Admission webhooks (admissionregistration.k8s.io/v1) against a real API server and an HTTPS
// webhook on loopback with a throwaway CA: configurations are validated and defaulted as upstream;
// validating webhooks deny (the message kubectl shows), mutating ones patch what is stored;
// namespaceSelector and objectSelector skip; timeouts, bad CAs and garbage answers follow
// failurePolicy with upstream's messages and store nothing while the server keeps serving;
// DELETE webhooks see oldObject; a webhook behind a Service is reached through its EndpointSlice;
// matchConditions (CEL over object, oldObject, request) skip or call it, errors per failurePolicy.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Cluster, until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { rawClient, type RawClient } from './_https.ts';
import { jsonPatchResponse, startWebhookServer, type WebhookServer } from './_webhook-server.ts';

let c: Cluster;
let api: RawClient;
let hook: WebhookServer;

const VWC = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
const MWC = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';

fileCluster(async (cluster, own) => {
  c = cluster;
  api = own(rawClient(c.admin, 15_000));
  hook = await startWebhookServer(
    {
      // the denial's Status goes in response.status (AdmissionResponse.Result's JSON name)
      '/deny': (r) => ({ allowed: r.request.object?.metadata?.labels?.ok === 'yes', status: { message: 'configmaps need the ok label' } }),
      '/deny403': () => ({ allowed: false, status: { code: 403, reason: 'Forbidden', message: 'no thanks' } }),
      // agnhost's /configmaps: a reason and no message
      '/deny-reason': () => ({ allowed: false, status: { reason: 'the configmap contains unwanted key and value' } }),
      '/mutate': () => ({
        ...jsonPatchResponse([{ op: 'add', path: '/metadata/labels', value: { mutated: 'true' } }]),
        warnings: ['mutated by the test webhook'],
      }),
      '/allow': () => ({ allowed: true }),
      '/label-b': () => jsonPatchResponse([{ op: 'add', path: '/metadata/labels/b', value: 'set' }]),
      '/hang': 'hang',
      '/garbage': { raw: 'this is not an AdmissionReview' },
    },
    ['hooksvc.hooks-svc.svc'],
  );
});
test.after.always(async () => {
  await hook?.close();
});

interface HookSpec {
  name: string;
  path?: string;
  clientConfig?: Record<string, unknown>;
  namespace: string;
  extra?: Record<string, unknown>;
  operations?: string[];
}

/** One webhook on configmaps in namespaces labelled for the test (so tests do not see each other's). */
function webhook(s: HookSpec): Record<string, unknown> {
  return {
    name: s.name,
    clientConfig: s.clientConfig ?? { url: hook.url(s.path!), caBundle: hook.caBundle },
    rules: [{ operations: s.operations ?? ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }],
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': s.namespace } },
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    ...s.extra,
  };
}

async function config(
  t: { teardown(fn: () => Promise<void>): void },
  kind: 'validating' | 'mutating',
  name: string,
  hooks: Record<string, unknown>[],
): Promise<void> {
  const base = kind === 'validating' ? VWC : MWC;
  const r = await api.request('POST', base, {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: kind === 'validating' ? 'ValidatingWebhookConfiguration' : 'MutatingWebhookConfiguration',
    metadata: { name },
    webhooks: hooks,
  });
  if (r.status !== 201) throw new Error(`creating ${name}: ${r.status} ${r.text}`);
  t.teardown(async () => {
    await api.request('DELETE', `${base}/${name}`);
  });
}

async function namespace(name: string): Promise<void> {
  const r = await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  if (r.status !== 201) throw new Error(`namespace ${name}: ${r.status} ${r.text}`);
}

const cm = (ns: string, name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns, labels },
  data: { a: 'b' },
});
const createCM = (ns: string, name: string, labels?: Record<string, string>) =>
  api.request('POST', `/api/v1/namespaces/${ns}/configmaps`, cm(ns, name, labels));
const getCM = (ns: string, name: string) => api.request('GET', `/api/v1/namespaces/${ns}/configmaps/${name}`);
/** until the configuration is in the API server's informer: a create it must refuse is refused */
const refused = (ns: string) =>
  until('the webhook to take effect', async () => {
    const r = await api.request('POST', `/api/v1/namespaces/${ns}/configmaps?dryRun=All`, cm(ns, `probe-${Date.now()}`));
    return r.status >= 400 ? r : undefined;
  });

test.serial('configurations are validated as upstream: 422 naming the field, nothing stored', async (t) => {
  const bad = (over: Record<string, unknown>) => ({ ...webhook({ name: 'a.b.c', path: '/allow', namespace: 'x' }), ...over });
  const cases: [Record<string, unknown>[], string, string][] = [
    [[bad({ name: 'nodots' })], 'webhooks[0].name', 'should be a domain with at least three segments separated by dots'],
    [[bad({}), bad({})], 'webhooks[1].name', 'Duplicate value: "a.b.c"'],
    [[bad({ sideEffects: undefined })], 'webhooks[0].sideEffects', 'Required value: must specify one of None, NoneOnDryRun'],
    [[bad({ sideEffects: 'Some' })], 'webhooks[0].sideEffects', 'Unsupported value: "Some": supported values: "None", "NoneOnDryRun"'],
    [[bad({ admissionReviewVersions: ['v2'] })], 'webhooks[0].admissionReviewVersions', 'must include at least one of v1, v1beta1'],
    [
      [bad({ clientConfig: { url: 'http://127.0.0.1/x' } })],
      'webhooks[0].clientConfig.url',
      "'https' is the only allowed URL scheme; desired format: https://host[/path]",
    ],
    [[bad({ clientConfig: { url: 'https://u@127.0.0.1/x?a=b' } })], 'webhooks[0].clientConfig.url', 'query parameters are not permitted in the URL'],
    [[bad({ clientConfig: { service: { namespace: 'd', name: 's', path: 'x' } } })], 'webhooks[0].clientConfig.service.path', "must start with a '/'"],
    [[bad({ clientConfig: {} })], 'webhooks[0].clientConfig', 'exactly one of url or service is required'],
    [[bad({ timeoutSeconds: 31 })], 'webhooks[0].timeoutSeconds', 'the timeout value must be between 1 and 30 seconds'],
    [[bad({ failurePolicy: 'Maybe' })], 'webhooks[0].failurePolicy', 'supported values: "Fail", "Ignore"'],
    [
      [bad({ rules: [{ operations: ['CREATE', '*'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }] })],
      'webhooks[0].rules[0].operations',
      "if '*' is present, must not specify other operations",
    ],
    [
      [bad({ rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Galaxy' }] })],
      'webhooks[0].rules[0].scope',
      'supported values: "*", "Cluster", "Namespaced"',
    ],
    [
      [bad({ matchConditions: [{ name: 'm', expression: 'object.metadata.name ==' }] })],
      'webhooks[0].matchConditions[0].expression',
      'compilation failed: ERROR: <input>:1:',
    ],
    [
      [bad({ matchConditions: [{ name: 'm', expression: 'params.x == 1' }] })],
      'webhooks[0].matchConditions[0].expression',
      "compilation failed: ERROR: <input>: undeclared reference to 'params'",
    ],
    [
      [
        bad({
          matchConditions: [
            { name: 'm', expression: 'true' },
            { name: 'm', expression: 'true' },
          ],
        }),
      ],
      'webhooks[0].matchConditions[1].name',
      'Duplicate value: "m"',
    ],
    [[bad({ matchConditions: [{ name: 'm' }] })], 'webhooks[0].matchConditions[0].expression', 'Required value'],
  ];
  for (const [i, [hooks, field, text]] of cases.entries()) {
    const name = `bad-${i}`;
    const r = await api.request('POST', VWC, {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name },
      webhooks: hooks,
    });
    t.is(r.status, 422, `${field}: ${r.text}`);
    t.is(r.body.reason, 'Invalid');
    const cause = (r.body.details?.causes ?? []).find((x: { field: string }) => x.field === field);
    t.truthy(cause, `${field} not named in ${r.text}`);
    t.true(r.body.message.includes(text), `${r.body.message} lacks ${text}`);
    t.is((await api.request('GET', `${VWC}/${name}`)).status, 404);
  }
});

test.serial('configurations get upstream defaults and kubectl lists them', async (t) => {
  await config(t, 'mutating', 'defaults', [
    {
      name: 'd.hawser.test',
      clientConfig: { service: { namespace: 'default', name: 's' } },
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['secrets'] }],
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
    },
  ]);
  const got = (await api.request('GET', `${MWC}/defaults`)).body.webhooks[0];
  t.like(got, { failurePolicy: 'Fail', matchPolicy: 'Equivalent', namespaceSelector: {}, objectSelector: {}, timeoutSeconds: 10, reinvocationPolicy: 'Never' });
  t.is(got.rules[0].scope, '*');
  t.is(got.clientConfig.service.port, 443);
  const out = await c.ok(['get', 'mutatingwebhookconfigurations']);
  t.regex(out, /NAME\s+WEBHOOKS\s+AGE\n(.*\n)*defaults\s+1\s/);
  t.regex(await c.ok(['explain', 'validatingwebhookconfiguration.webhooks.sideEffects']), /sideEffects/);
});

test.serial('a validating webhook denies a create with its message, shown by kubectl; nothing stored', async (t) => {
  await namespace('hooks-deny');
  await config(t, 'validating', 'deny', [webhook({ name: 'deny.hawser.test', path: '/deny', namespace: 'hooks-deny' })]);
  const r = await refused('hooks-deny');
  t.is(r.status, 400);
  t.is(r.body.message, 'admission webhook "deny.hawser.test" denied the request: configmaps need the ok label');
  const k = await c.kubectl(['create', 'configmap', 'nope', '-n', 'hooks-deny', '--from-literal=a=b']);
  t.not(k.code, 0);
  t.true(k.stderr.includes('admission webhook "deny.hawser.test" denied the request: configmaps need the ok label'), k.stderr);
  t.is((await getCM('hooks-deny', 'nope')).status, 404);
  t.is((await createCM('hooks-deny', 'fine', { ok: 'yes' })).status, 201);
  // the AdmissionReview as upstream builds it
  const req = hook.received('/deny').at(-1)!.request;
  t.like(req, {
    kind: { group: '', version: 'v1', kind: 'ConfigMap' },
    resource: { group: '', version: 'v1', resource: 'configmaps' },
    name: 'fine',
    namespace: 'hooks-deny',
    operation: 'CREATE',
    dryRun: false,
    userInfo: { username: 'admin' },
    options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
  });
  t.is(req.oldObject, null);
  t.is(req.object.metadata.name, 'fine');
  // a Status the webhook gives is kept (code, reason), its message prefixed
  await config(t, 'validating', 'deny403', [webhook({ name: 'deny403.hawser.test', path: '/deny403', namespace: 'hooks-deny' })]);
  const f = await until('the 403 webhook', async () => {
    const x = await createCM('hooks-deny', `forbidden-${Date.now()}`, { ok: 'yes' });
    return x.status === 403 ? x : undefined;
  });
  t.like(f.body, { reason: 'Forbidden', message: 'admission webhook "deny403.hawser.test" denied the request: no thanks' });
  // a reason without a message is the explanation (upstream's ToStatusErr), the code 400
  await config(t, 'validating', 'deny-reason', [webhook({ name: 'deny-reason.hawser.test', path: '/deny-reason', namespace: 'hooks-deny' })]);
  const d = await until('the reason-only webhook', async () => {
    const x = await createCM('hooks-deny', `reasoned-${Date.now()}`, { ok: 'yes' });
    return x.status === 400 ? x : undefined;
  });
  t.like(d.body, {
    code: 400,
    reason: 'the configmap contains unwanted key and value',
    message: 'admission webhook "deny-reason.hawser.test" denied the request: the configmap contains unwanted key and value',
  });
});

test.serial('a mutating webhook adds a label by JSONPatch before validation; it is stored and its warning reaches kubectl', async (t) => {
  await namespace('hooks-mutate');
  await config(t, 'mutating', 'mutate', [webhook({ name: 'mutate.hawser.test', path: '/mutate', namespace: 'hooks-mutate' })]);
  const created = await until('the mutation', async () => {
    const x = await createCM('hooks-mutate', `m-${Date.now()}`);
    return x.body.metadata?.labels?.mutated === 'true' ? x : undefined;
  });
  t.is(created.status, 201);
  t.is((await getCM('hooks-mutate', created.body.metadata.name)).body.metadata.labels.mutated, 'true');
  const k = await c.kubectl(['create', 'configmap', 'by-kubectl', '-n', 'hooks-mutate', '--from-literal=a=b']);
  t.is(k.code, 0, k.stderr);
  t.true(k.stderr.includes('Warning: mutated by the test webhook'), k.stderr);
  t.is(JSON.parse(await c.ok(['get', 'configmap', 'by-kubectl', '-n', 'hooks-mutate', '-o', 'json'])).metadata.labels.mutated, 'true');
});

test.serial('namespaceSelector and objectSelector skip the webhook', async (t) => {
  await namespace('hooks-sel');
  await namespace('hooks-other');
  await config(t, 'validating', 'selectors', [
    webhook({
      name: 'sel.hawser.test',
      path: '/deny',
      namespace: 'hooks-sel',
      extra: { objectSelector: { matchExpressions: [{ key: 'skip', operator: 'DoesNotExist' }] } },
    }),
  ]);
  await refused('hooks-sel');
  t.is((await createCM('hooks-other', 'elsewhere')).status, 201, 'namespaceSelector does not match: not called');
  t.is((await createCM('hooks-sel', 'skipped', { skip: 'yes' })).status, 201, 'objectSelector does not match: not called');
  t.is((await createCM('hooks-sel', 'caught')).status, 400);
});

test.serial('matchConditions: all true calls the webhook, any false skips it, an error follows failurePolicy', async (t) => {
  await namespace('hooks-cel');
  const conds = [
    { name: 'not-system', expression: "!request.userInfo.username.startsWith('system:')" },
    { name: 'not-exempt', expression: "!has(object.metadata.labels) || !('exempt' in object.metadata.labels)" },
  ];
  await config(t, 'validating', 'cel', [webhook({ name: 'cel.hawser.test', path: '/deny', namespace: 'hooks-cel', extra: { matchConditions: conds } })]);
  await refused('hooks-cel');
  t.is((await createCM('hooks-cel', 'called')).status, 400, 'both true: called, and it denies');
  t.is((await createCM('hooks-cel', 'skipped', { exempt: 'yes' })).status, 201, 'one false: not called');
  t.false(hook.received('/deny').some((r) => r.request.name === 'skipped'));
  // an evaluation error (no such key) with none false: Fail refuses with a 403 and calls nothing
  const broken = [{ name: 'broken', expression: "object.data.missing == 'x'" }];
  await config(t, 'validating', 'cel-fail', [
    webhook({ name: 'celfail.hawser.test', path: '/allow', namespace: 'hooks-cel', extra: { matchConditions: broken } }),
  ]);
  const f = await until('the failing condition', async () => {
    const x = await createCM('hooks-cel', `f-${Date.now()}`, { exempt: 'yes' });
    return x.status === 403 ? x : undefined;
  });
  t.is(f.body.reason, 'Forbidden');
  t.regex(f.body.message, /^configmaps "f-\d+" is forbidden: expression 'object.data.missing == 'x'' resulted in error: .*missing/);
  await api.request('DELETE', `${VWC}/cel-fail`);
  // the same error under Ignore skips the webhook
  await config(t, 'validating', 'cel-ignore', [
    webhook({ name: 'celignore.hawser.test', path: '/deny', namespace: 'hooks-cel', extra: { matchConditions: broken, failurePolicy: 'Ignore' } }),
  ]);
  await until('the ignored condition', async () => ((await createCM('hooks-cel', `i-${Date.now()}`, { exempt: 'yes' })).status === 201 ? true : undefined));
  t.is((await createCM('hooks-cel', 'ignored', { exempt: 'yes' })).status, 201);
  t.false(hook.received('/deny').some((r) => r.request.name === 'ignored'));
});

test.serial('a hanging webhook times out after timeoutSeconds: 500 under Fail, admitted under Ignore; the server keeps serving', async (t) => {
  await namespace('hooks-hang');
  await config(t, 'validating', 'hang', [webhook({ name: 'hang.hawser.test', path: '/hang', namespace: 'hooks-hang', extra: { timeoutSeconds: 1 } })]);
  const started = Date.now();
  const pending = until('the hanging webhook', async () => {
    const x = await createCM('hooks-hang', `h-${Date.now()}`);
    return x.status === 500 ? x : undefined;
  });
  // meanwhile other requests are answered at once
  const other = await api.request('GET', '/api/v1/namespaces');
  t.is(other.status, 200);
  t.true(other.ms < 500, `a list took ${other.ms} ms while the webhook hung`);
  const r = await pending;
  t.true(Date.now() - started < 8000);
  t.like(r.body, { reason: 'InternalError', code: 500 });
  t.is(
    r.body.message,
    `Internal error occurred: failed calling webhook "hang.hawser.test": failed to call webhook: Post "${hook.url('/hang')}?timeout=1s": context deadline exceeded`,
  );
  t.is(
    (await api.request('GET', '/api/v1/namespaces/hooks-hang/configmaps')).body.items.filter((x: { metadata: { name: string } }) =>
      x.metadata.name.startsWith('h-'),
    ).length,
    0,
  );
  await api.request('DELETE', `${VWC}/hang`);
  await config(t, 'validating', 'hang-ignore', [
    webhook({ name: 'hang.hawser.test', path: '/hang', namespace: 'hooks-hang', extra: { timeoutSeconds: 1, failurePolicy: 'Ignore' } }),
  ]);
  const before = hook.received('/hang').length;
  const ok = await until('the Ignore configuration', async () => {
    const x = await createCM('hooks-hang', `i-${Date.now()}`);
    return x.status === 201 && hook.received('/hang').length > before ? x : undefined;
  });
  t.true(ok.ms >= 900, `admitted after the timeout (${ok.ms} ms)`);
});

test.serial('a bad caBundle, a wrong CA and a garbage answer are clear errors with nothing stored', async (t) => {
  await namespace('hooks-bad');
  const garbageCA = Buffer.from('not a certificate').toString('base64');
  const clusterCA = Buffer.from(readFileSync(join(c.dir, 'tls', 'ca.crt'))).toString('base64');
  const cases: [string, Record<string, unknown>, string][] = [
    [
      'badca',
      { url: hook.url('/allow'), caBundle: garbageCA },
      'failed calling webhook "badca.hawser.test": could not get REST client: unable to load root certificates: unable to parse bytes as PEM block',
    ],
    [
      'wrongca',
      { url: hook.url('/allow'), caBundle: clusterCA },
      `failed calling webhook "wrongca.hawser.test": failed to call webhook: Post "${hook.url('/allow')}?timeout=10s": tls: failed to verify certificate: x509: certificate signed by unknown authority`,
    ],
    [
      'garbage',
      { url: hook.url('/garbage'), caBundle: hook.caBundle },
      'failed calling webhook "garbage.hawser.test": failed to call webhook: couldn\'t get version/kind; json parse error: ',
    ],
  ];
  for (const [name, clientConfig, message] of cases) {
    await config(t, 'validating', name, [webhook({ name: `${name}.hawser.test`, clientConfig, namespace: 'hooks-bad' })]);
    const r = await refused('hooks-bad');
    t.is(r.status, 500, r.text);
    t.true(r.body.message.startsWith(`Internal error occurred: ${message}`), r.body.message);
    t.is((await createCM('hooks-bad', name)).status, 500);
    t.is((await getCM('hooks-bad', name)).status, 404);
    await api.request('DELETE', `${VWC}/${name}`);
  }
  t.is((await api.request('GET', '/version')).status, 200);
});

test.serial('a DELETE webhook sees oldObject and can refuse the deletion', async (t) => {
  await namespace('hooks-del');
  t.is((await createCM('hooks-del', 'keep')).status, 201);
  await config(t, 'validating', 'del', [webhook({ name: 'del.hawser.test', path: '/deny', namespace: 'hooks-del', operations: ['DELETE'] })]);
  const r = await until('the DELETE webhook', async () => {
    const x = await api.request('DELETE', '/api/v1/namespaces/hooks-del/configmaps/keep');
    return x.status === 400 ? x : undefined;
  });
  t.is(r.body.message, 'admission webhook "del.hawser.test" denied the request: configmaps need the ok label');
  t.is((await getCM('hooks-del', 'keep')).status, 200);
  const req = hook.received('/deny').at(-1)!.request;
  t.like(req, { operation: 'DELETE', name: 'keep', namespace: 'hooks-del', options: { kind: 'DeleteOptions' } });
  t.is(req.object, null);
  t.is(req.oldObject.metadata.name, 'keep');
});

test.serial('a webhook behind a Service is called at its EndpointSlice address with the service name verified', async (t) => {
  await namespace('hooks-svc');
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'hooksvc', namespace: 'hooks-svc' },
    spec: { ports: [{ name: 'https', port: 443, targetPort: hook.port }] },
  };
  t.is((await api.request('POST', '/api/v1/namespaces/hooks-svc/services', svc)).status, 201);
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'hooksvc-manual',
      namespace: 'hooks-svc',
      labels: { 'kubernetes.io/service-name': 'hooksvc', 'endpointslice.kubernetes.io/managed-by': 'test' },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
    ports: [{ name: 'https', port: hook.port, protocol: 'TCP' }],
  };
  t.is((await api.request('POST', '/apis/discovery.k8s.io/v1/namespaces/hooks-svc/endpointslices', slice)).status, 201);
  await config(t, 'validating', 'svc', [
    webhook({
      name: 'svc.hawser.test',
      namespace: 'hooks-svc',
      clientConfig: { service: { namespace: 'hooks-svc', name: 'hooksvc', path: '/deny' }, caBundle: hook.caBundle },
    }),
  ]);
  const r = await refused('hooks-svc');
  t.is(r.body.message, 'admission webhook "svc.hawser.test" denied the request: configmaps need the ok label');
  t.is((await createCM('hooks-svc', 'labelled', { ok: 'yes' })).status, 201);
});

test.serial('UPDATE webhooks see the old and new object; an IfNeeded webhook is called again once when a later one changed the object', async (t) => {
  await namespace('hooks-upd');
  await config(t, 'mutating', 'a-first', [
    webhook({ name: 'first.hawser.test', path: '/allow', namespace: 'hooks-upd', operations: ['CREATE', 'UPDATE'], extra: { reinvocationPolicy: 'IfNeeded' } }),
  ]);
  await config(t, 'mutating', 'b-second', [
    webhook({ name: 'second.hawser.test', path: '/label-b', namespace: 'hooks-upd', operations: ['CREATE', 'UPDATE'] }),
  ]);
  const created = await until('both mutating webhooks', async () => {
    const x = await createCM('hooks-upd', `u-${Date.now()}`, { a: '1' });
    return x.body.metadata?.labels?.b === 'set' && hook.received('/allow').some((r) => r.request.object?.metadata?.name === x.body.metadata.name)
      ? x
      : undefined;
  });
  const name = created.body.metadata.name;
  const calls = hook.received('/allow').filter((r) => r.request.object?.metadata?.name === name);
  t.is(calls.length, 2, 'called, then called again after the second webhook added a label');
  t.is(calls[0].request.object.metadata.labels.b, undefined);
  t.is(calls[1].request.object.metadata.labels.b, 'set');
  // a merge patch is an UPDATE with both objects
  const before = hook.received('/label-b').length;
  const p = await api.request(
    'PATCH',
    `/api/v1/namespaces/hooks-upd/configmaps/${name}`,
    { metadata: { labels: { b: null, c: '3' } } },
    'application/merge-patch+json',
  );
  t.is(p.status, 200, p.text);
  t.like(p.body.metadata.labels, { b: 'set', c: '3' });
  const upd = hook.received('/label-b').slice(before)[0].request;
  t.is(upd.operation, 'UPDATE');
  t.is(upd.oldObject.metadata.labels.b, 'set');
  t.is(upd.object.metadata.labels.b, undefined);
  t.is(upd.options.kind, 'UpdateOptions');
});
