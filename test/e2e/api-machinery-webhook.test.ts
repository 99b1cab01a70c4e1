// [sig-api-machinery] AdmissionWebhook, mirroring upstream's webhook.go where the checks need only
// the API and a webhook: discovery of admissionregistration.k8s.io, and listing, patching and
// updating webhook configurations taking effect, matchConditions stored, refused and honoured. Upstream runs its sample webhook as a pod behind
// a Service; here it is a process on 127.0.0.1 (helpers/admission-webhook.ts) named by URL, which
// the API server (root namespace of the lab) reaches; the Service path is covered by
// test/integration/apiserver-webhooks.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import test, { type ExecutionContext } from 'ava';
import { conformance, until, waitReady, type Kube } from '../conformance/fixture.ts';

const it = conformance('webhook');
let child: ChildProcess | undefined;
let hook: { port: number; caBundle: string } | undefined;

test.before(async () => {
  child = spawn(process.execPath, ['--import=tsx', 'test/e2e/helpers/admission-webhook.ts'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child!.stdout! }).once('line', resolve);
    child!.once('exit', (code) => reject(new Error(`the webhook process exited (${code})`)));
  });
  hook = JSON.parse(line);
});
test.after.always(() => {
  child?.stdin?.end();
  child?.kill('SIGTERM');
});

const rule = (operations: string[]) => ({ operations, apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] });

/** upstream newDenyConfigMapWebhookFixture / newMutateConfigMapWebhookFixture, scoped to the test's namespace */
function configMapHook(ns: string, name: string, path: string): Record<string, unknown> {
  return {
    name,
    clientConfig: { url: `https://127.0.0.1:${hook!.port}${path}`, caBundle: hook!.caBundle },
    rules: [rule(['CREATE'])],
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
    sideEffects: 'None',
    admissionReviewVersions: ['v1', 'v1beta1'],
  };
}

const nonCompliant = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { 'webhook-e2e-test': 'webhook-disallow' } });
const toBeMutated = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { 'mutation-start': 'yes' } });
const uid = () => `cm-${Math.random().toString(36).slice(2, 10)}`;

/** Creates a non-compliant configmap (deleting it again if admitted); true when it was denied. */
function denied(k: Kube): boolean {
  const name = uid();
  const r = k.run(['create', '-f', '-'], JSON.stringify(nonCompliant(name)));
  if (r.code === 0) {
    k.ok(['delete', 'configmap', name]);
    return false;
  }
  if (!r.stderr.includes('denied')) throw new Error(`configmap create failed without a denial: ${r.stderr}`);
  return true;
}

/** Creates a configmap to be mutated (deleting it again); true when the webhook added mutation-stage-1. */
function mutated(k: Kube): boolean {
  const name = uid();
  const created = JSON.parse(k.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(toBeMutated(name))));
  k.ok(['delete', 'configmap', name]);
  return created.data?.['mutation-stage-1'] === 'yes';
}

it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should include webhook resources in discovery documents [Conformance]', async (t, c) => {
  const groups = JSON.parse(c.kc.ok(['get', '--raw', '/apis'])).groups as any[];
  const g = groups.find((x) => x.name === 'admissionregistration.k8s.io');
  t.truthy(g, 'admissionregistration.k8s.io in /apis');
  t.true(g.versions.some((v: any) => v.groupVersion === 'admissionregistration.k8s.io/v1'));
  t.is(g.preferredVersion.groupVersion, 'admissionregistration.k8s.io/v1');
  const group = JSON.parse(c.kc.ok(['get', '--raw', '/apis/admissionregistration.k8s.io']));
  t.true(group.versions.some((v: any) => v.groupVersion === 'admissionregistration.k8s.io/v1'));
  const resources = JSON.parse(c.kc.ok(['get', '--raw', '/apis/admissionregistration.k8s.io/v1'])).resources as any[];
  t.truthy(resources.find((r) => r.name === 'mutatingwebhookconfigurations'));
  t.truthy(resources.find((r) => r.name === 'validatingwebhookconfigurations'));
});

type Kind = 'validating' | 'mutating';
const KINDS = { validating: 'ValidatingWebhookConfiguration', mutating: 'MutatingWebhookConfiguration' } as const;

/** The test's webhook of that kind, and whether it now acts on a create (denies or mutates). */
function fixture(kind: Kind, c: { ns: string; k: Kube }): { hook: Record<string, unknown>; acts: () => boolean } {
  return kind === 'validating'
    ? { hook: configMapHook(c.ns, 'deny-unwanted-configmap-data.k8s.io', '/configmaps'), acts: () => denied(c.k) }
    : { hook: configMapHook(c.ns, 'adding-configmap-data-stage-1.k8s.io', '/mutating-configmaps'), acts: () => mutated(c.k) };
}

/** upstream: register, update the rule to UPDATE only (creates pass untouched), patch it back to CREATE (they are acted on) */
async function patchingUpdating(kind: Kind, t: ExecutionContext, c: { ns: string; k: Kube; kc: Kube }): Promise<void> {
  const name = `${c.ns}-${kind}`;
  const resource = `${kind}webhookconfiguration`;
  const f = fixture(kind, c);
  c.kc.create({ apiVersion: 'admissionregistration.k8s.io/v1', kind: KINDS[kind], metadata: { name }, webhooks: [f.hook] });
  t.teardown(() => {
    c.kc.run(['delete', resource, name]);
  });
  await until('the webhook acts', f.acts, 30_000, 100);
  const h = c.kc.json(['get', resource, name]);
  h.webhooks[0].rules[0].operations = ['UPDATE'];
  c.kc.ok(['replace', '-f', '-'], JSON.stringify(h));
  await until('creates untouched once the webhook is for UPDATE only', () => !f.acts(), 30_000, 100);
  c.kc.ok(['patch', resource, name, '--type=json', '-p', '[{"op": "replace", "path": "/webhooks/0/rules/0/operations", "value": ["CREATE"]}]']);
  await until('creates acted on again after the patch', f.acts, 30_000, 100);
  t.pass();
}

/** upstream: 10 labelled configurations are listed by label, act, are removed by DeleteCollection, and act no more */
async function listing(kind: Kind, t: ExecutionContext, c: { ns: string; k: Kube; kc: Kube }): Promise<void> {
  const resource = `${kind}webhookconfigurations`;
  const label = `e2e-list-test-uuid=${c.ns}`;
  t.teardown(() => {
    c.kc.run(['delete', resource, '-l', label]);
  });
  const f = fixture(kind, c);
  c.kc.create(
    ...Array.from({ length: 10 }, (_, i) => ({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: KINDS[kind],
      metadata: { name: `${c.ns}-${i}`, labels: { 'e2e-list-test-uuid': c.ns } },
      webhooks: [f.hook],
    })),
  );
  t.is(c.kc.json(['get', resource, '-l', label]).items.length, 10);
  await until('the webhooks act', f.acts, 30_000, 100);
  // upstream's DeleteCollection with the label selector
  c.kc.ok(['delete', '--raw', `/apis/admissionregistration.k8s.io/v1/${resource}?labelSelector=${encodeURIComponent(label)}`]);
  t.is(c.kc.json(['get', resource, '-l', label]).items.length, 0);
  await until('no webhook left to act', () => !f.acts(), 30_000, 100);
}

it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] patching/updating a validating webhook should work [Conformance]', (t, c) =>
  patchingUpdating('validating', t, c));
it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] patching/updating a mutating webhook should work [Conformance]', (t, c) =>
  patchingUpdating('mutating', t, c));
it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] listing validating webhooks should work [Conformance]', (t, c) =>
  listing('validating', t, c));
it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] listing mutating webhooks should work [Conformance]', (t, c) => listing('mutating', t, c));

it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should mutate configmap [Conformance]', async (t, c) => {
  const name = `${c.ns}-mutate-configmap`;
  c.kc.create({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name },
    webhooks: [
      configMapHook(c.ns, 'adding-configmap-data-stage-1.k8s.io', '/mutating-configmaps'),
      configMapHook(c.ns, 'adding-configmap-data-stage-2.k8s.io', '/mutating-configmaps'),
    ],
  });
  t.teardown(() => {
    c.kc.run(['delete', 'mutatingwebhookconfiguration', name]);
  });
  const data = await until(
    'both stages applied',
    () => {
      const cmName = uid();
      const created = JSON.parse(c.k.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(toBeMutated(cmName))));
      c.k.ok(['delete', 'configmap', cmName]);
      return created.data?.['mutation-stage-2'] ? created.data : undefined;
    },
    30_000,
    100,
  );
  t.deepEqual(data, { 'mutation-start': 'yes', 'mutation-stage-1': 'yes', 'mutation-stage-2': 'yes' });
});

it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should honor timeout [Conformance]', async (t, c) => {
  const name = `${c.ns}-slow`;
  const register = (failurePolicy: string, timeoutSeconds?: number) => {
    c.kc.run(['delete', 'validatingwebhookconfiguration', name]);
    const h = {
      ...configMapHook(c.ns, 'allow-configmap-with-delay-webhook.k8s.io', '/always-allow-delay-5s'),
      failurePolicy,
      ...(timeoutSeconds ? { timeoutSeconds } : {}),
    };
    c.kc.create({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name }, webhooks: [h] });
  };
  t.teardown(() => {
    c.kc.run(['delete', 'validatingwebhookconfiguration', name]);
  });
  /** a configmap create: its error text (undefined when created, then deleted) and how long it took */
  const attempt = () => {
    const started = Date.now();
    const r = c.k.run(['create', 'configmap', 'e2e-test-slow-webhook-configmap']);
    const ms = Date.now() - started;
    if (r.code === 0) c.k.ok(['delete', 'configmap', 'e2e-test-slow-webhook-configmap']);
    return { err: r.code === 0 ? undefined : r.stderr, ms };
  };
  // timeout 1s shorter than the webhook's 5s, Fail: the request fails early naming the call
  register('Fail', 1);
  const early = await until(
    'the slow webhook to time out',
    () => {
      const a = attempt();
      return a.err ? a : undefined;
    },
    30_000,
    100,
  );
  t.true(early.err!.includes('context deadline exceeded') && early.err!.includes('/always-allow-delay-5s?timeout=1s'), early.err);
  t.true(early.ms < 5000, `failed after ${early.ms} ms`);
  // Ignore: no error, after the 1s timeout
  register('Ignore', 1);
  const ignored = await until(
    'the Ignore webhook to be called',
    () => {
      const a = attempt();
      return !a.err && a.ms >= 900 ? a : undefined;
    },
    30_000,
    100,
  );
  t.true(ignored.ms < 5000);
  // 10s (and the default, 10s) is longer than the webhook's 5s: no error, after the webhook answered
  for (const timeout of [10, undefined]) {
    register('Fail', timeout);
    await until(
      `the ${timeout ?? 'default'} timeout webhook to admit after 5s`,
      () => {
        const a = attempt();
        if (a.err) throw new Error(a.err);
        return a.ms >= 4900 ? a : undefined;
      },
      60_000,
      100,
    );
  }
  t.pass();
});

it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should not be able to mutate or prevent deletion of webhook configuration objects [Conformance]', async (t, c) => {
  const url = (path: string) => ({ url: `https://127.0.0.1:${hook!.port}${path}`, caBundle: hook!.caBundle });
  const onConfigs = (name: string, path: string, operations: string[]) => ({
    name,
    clientConfig: url(path),
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    rules: [
      {
        operations,
        apiGroups: ['admissionregistration.k8s.io'],
        apiVersions: ['*'],
        resources: ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations'],
      },
    ],
  });
  const deny = `${c.ns}-deny-configs`;
  // it also denies configmaps in the test's namespace, which shows when it is in effect
  const denyConfigs = onConfigs('deny-webhook-configuration-deletions.k8s.io', '/always-deny', ['CREATE', 'UPDATE', 'DELETE']);
  const denyAlso = {
    ...denyConfigs,
    rules: [...denyConfigs.rules, rule(['CREATE'])],
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': c.ns } },
  };
  const label = `${c.ns}-label-configs`;
  c.kc.create(
    { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: deny }, webhooks: [denyAlso] },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: label },
      webhooks: [onConfigs('add-label-to-webhook-configurations.k8s.io', '/add-label', ['CREATE'])],
    },
  );
  t.teardown(() => {
    c.kc.run(['delete', 'validatingwebhookconfiguration', deny]);
    c.kc.run(['delete', 'mutatingwebhookconfiguration', label]);
  });
  await until('the deny webhook in effect', () => c.k.run(['create', 'configmap', uid()]).stderr.includes('this webhook denies all requests'), 30_000, 100);
  for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'] as const) {
    const name = `${c.ns}-dummy-${kind.toLowerCase()}`;
    const dummy = {
      ...onConfigs('dummy.k8s.io', '/always-deny', ['CREATE']),
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['invalid'] }],
    };
    c.kc.create({ apiVersion: 'admissionregistration.k8s.io/v1', kind, metadata: { name, labels: { dummy: 'yes' } }, webhooks: [dummy] });
    const got = c.kc.json(['get', kind.toLowerCase(), name]);
    t.is(got.metadata.labels['added-label'], undefined, `${kind} was not mutated`);
    c.kc.ok(['delete', kind.toLowerCase(), name]);
    t.is(c.kc.get(kind.toLowerCase(), name), undefined, `${kind} deletion was not prevented`);
  }
});

/** upstream newValidatingWebhookWithMatchConditions / newMutatingWebhookWithMatchConditions */
function withConditions(kind: Kind, c: { ns: string }, matchConditions: { name: string; expression: string }[]): Record<string, unknown> {
  const hook =
    kind === 'validating'
      ? configMapHook(c.ns, 'validation-webhook-with-match-conditions.k8s.io', '/always-deny')
      : configMapHook(c.ns, 'adding-configmap-data.k8s.io', '/mutating-configmaps');
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: KINDS[kind],
    metadata: { name: `${c.ns}-${kind}-conditions` },
    webhooks: [{ ...hook, matchConditions }],
  };
}

/** upstream: created with one condition and read back, updated to two and read back */
function conditionsStored(kind: Kind, t: ExecutionContext, c: { ns: string; kc: Kube }): void {
  const production = { name: 'expression-1', expression: "object.metadata.namespace == 'production'" };
  const staging = { name: 'expression-2', expression: "object.metadata.namespace == 'staging'" };
  const o = withConditions(kind, c, [production]);
  const name = (o.metadata as { name: string }).name;
  const resource = `${kind}webhookconfiguration`;
  c.kc.create(o);
  t.teardown(() => {
    c.kc.run(['delete', resource, name]);
  });
  const got = c.kc.json(['get', resource, name]);
  t.deepEqual(got.webhooks[0].matchConditions, [production]);
  got.webhooks[0].matchConditions = [production, staging];
  c.kc.ok(['replace', '-f', '-'], JSON.stringify(got));
  t.deepEqual(c.kc.json(['get', resource, name]).webhooks[0].matchConditions, [production, staging]);
}

/** upstream: an expression that does not compile is refused with "compilation failed" */
function conditionsRefused(kind: Kind, t: ExecutionContext, c: { ns: string; kc: Kube }): void {
  const r = c.kc.run(['create', '-f', '-'], JSON.stringify(withConditions(kind, c, [{ name: 'invalid-expression-1', expression: '... [] bad expression' }])));
  t.not(r.code, 0);
  t.true(r.stderr.includes('compilation failed'), r.stderr);
}

it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should be able to create and update validating webhook configurations with match conditions [Conformance]', (t, c) =>
  conditionsStored('validating', t, c));
it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should be able to create and update mutating webhook configurations with match conditions [Conformance]', (t, c) =>
  conditionsStored('mutating', t, c));
it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should reject validating webhook configurations with invalid match conditions [Conformance]', (t, c) =>
  conditionsRefused('validating', t, c));
it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should reject mutating webhook configurations with invalid match conditions [Conformance]', (t, c) =>
  conditionsRefused('mutating', t, c));

it("[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should mutate everything except 'skip-me' configmaps [Conformance]", async (t, c) => {
  const name = `${c.ns}-skip-me`;
  c.kc.create({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name },
    webhooks: [
      {
        ...configMapHook(c.ns, 'adding-configmap-data-stage-1.k8s.io', '/mutating-configmaps'),
        matchConditions: [{ name: 'skip-me', expression: "object.metadata.name != 'skip-me'" }],
      },
    ],
  });
  t.teardown(() => {
    c.kc.run(['delete', 'mutatingwebhookconfiguration', name]);
  });
  await until('the webhook acts', () => mutated(c.k), 30_000, 100);
  const created = JSON.parse(c.k.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(toBeMutated(uid()))));
  t.deepEqual(created.data, { 'mutation-start': 'yes', 'mutation-stage-1': 'yes' });
  const skipped = JSON.parse(c.k.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(toBeMutated('skip-me'))));
  t.deepEqual(skipped.data, { 'mutation-start': 'yes' });
});

// ---- the pod, custom resource, CRD, fail-closed and attach mirrors (upstream's agnhost paths in helpers/admission-webhook.ts)

/** Labels the test's namespace `<ns>=true`, as upstream's labelNamespace with f.UniqueName, for the selectors below. */
function labelled(c: { ns: string; kc: Kube }): { [k: string]: string } {
  c.kc.ok(['label', 'namespace', c.ns, `${c.ns}=true`]);
  return { [c.ns]: 'true' };
}

/** A webhook of the test (upstream's fixtures): by URL to the helper process, on `rules`, in namespaces labelled `<ns>=true`. */
function testHook(
  c: { ns: string },
  name: string,
  path: string,
  rules: Record<string, unknown>[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name,
    clientConfig: { url: `https://127.0.0.1:${hook!.port}${path}`, caBundle: hook!.caBundle },
    rules,
    namespaceSelector: { matchLabels: { [c.ns]: 'true' } },
    sideEffects: 'None',
    admissionReviewVersions: ['v1', 'v1beta1'],
    ...extra,
  };
}

/** upstream newValidatingIsReadyWebhookFixture: denies configmaps labelled as this test's markers (fail open) */
const isReady = (c: { ns: string }, kind: Kind) =>
  testHook(c, `${kind}-is-webhook-configuration-ready.k8s.io`, '/always-deny', [rule(['CREATE'])], {
    failurePolicy: 'Ignore',
    namespaceSelector: {},
    objectSelector: { matchLabels: { [`${c.ns}-marker`]: 'true' } },
  });

/** Registers a configuration with the ready marker webhook last, removed after the test; returns once the API server calls it (upstream's waitWebhookConfigurationReady). */
async function registered(t: ExecutionContext, c: { ns: string; k: Kube; kc: Kube }, kind: Kind, hooks: Record<string, unknown>[]): Promise<void> {
  const name = `${c.ns}-${kind}-${Math.random().toString(36).slice(2, 7)}`;
  c.kc.create({ apiVersion: 'admissionregistration.k8s.io/v1', kind: KINDS[kind], metadata: { name }, webhooks: [...hooks, isReady(c, kind)] });
  t.teardown(() => {
    c.kc.run(['delete', `${kind}webhookconfiguration`, name]);
  });
  const marker = () => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: uid(), labels: { [`${c.ns}-marker`]: 'true' } } });
  await until(
    'the webhook configuration to be ready',
    () => {
      const m = marker();
      const r = c.k.run(['create', '-f', '-'], JSON.stringify(m));
      if (r.code === 0) c.k.run(['delete', 'configmap', m.metadata.name]);
      return r.stderr.includes('denied');
    },
    30_000,
    100,
  );
}

const POD_RULE = { operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] };
const pod = (name: string, image: string, container: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { containers: [{ name: container, image }] },
});

it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should be able to deny pod and configmap creation [Conformance]', async (t, c) => {
  const sel = labelled(c);
  // upstream's failingWebhook: no caBundle, so every call fails; Ignore lets requests through
  const failOpen = {
    ...testHook(c, 'fail-open.k8s.io', '/configmaps', [rule(['CREATE'])]),
    clientConfig: { url: `https://127.0.0.1:${hook!.port}/configmaps` },
    failurePolicy: 'Ignore',
  };
  await registered(t, c, 'validating', [
    testHook(c, 'deny-unwanted-pod-container-name-and-label.k8s.io', '/pods', [POD_RULE]),
    testHook(c, 'deny-unwanted-configmap-data.k8s.io', '/configmaps', [rule(['CREATE', 'UPDATE', 'DELETE'])], {
      namespaceSelector: { matchLabels: sel, matchExpressions: [{ key: 'skip-webhook-admission', operator: 'NotIn', values: ['yes'] }] },
    }),
    failOpen,
  ]);
  const denied = c.k.run(
    ['create', '-f', '-'],
    JSON.stringify(pod('disallowed-pod', c.env.altImage, 'webhook-disallow', { 'webhook-e2e-test': 'webhook-disallow' })),
  );
  t.not(denied.code, 0);
  t.true(denied.stderr.includes('the pod contains unwanted container name'), denied.stderr);
  t.true(denied.stderr.includes('the pod contains unwanted label'), denied.stderr);
  // a pod the webhook never answers for: refused after the default 10 s timeout, not created
  const hanging = c.k.run(['create', '-f', '-'], JSON.stringify(pod('hanging-pod', c.env.altImage, 'wait-forever', { 'webhook-e2e-test': 'wait-forever' })));
  t.not(hanging.code, 0);
  t.true(hanging.stderr.includes('webhook') && hanging.stderr.includes('deadline'), hanging.stderr);
  t.is(c.k.get('pod', 'hanging-pod'), undefined);
  const cm = c.k.run(['create', '-f', '-'], JSON.stringify(nonCompliant('disallowed-configmap')));
  t.true(cm.stderr.includes('the configmap contains unwanted key and value'), cm.stderr);
  c.k.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'allowed-configmap' }, data: { admit: 'this' } });
  const allowed = c.k.json(['get', 'configmap', 'allowed-configmap']);
  allowed.data['webhook-e2e-test'] = 'webhook-disallow';
  const put = c.k.run(['replace', '-f', '-'], JSON.stringify(allowed));
  t.true(put.stderr.includes('the configmap contains unwanted key and value'), `PUT: ${put.stderr}`);
  const patch = c.k.run(['patch', 'configmap', 'allowed-configmap', '--type=strategic', '-p', '{"data":{"webhook-e2e-test":"webhook-disallow"}}']);
  t.true(patch.stderr.includes('the configmap contains unwanted key and value'), `PATCH: ${patch.stderr}`);
  // a namespace the configmap webhook's selector leaves out
  const skip = `${c.ns}-skip`;
  c.kc.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: skip, labels: { ...sel, 'skip-webhook-admission': 'yes' } } });
  t.teardown(() => {
    c.kc.run(['delete', 'namespace', skip, '--wait=false']);
  });
  c.kc.ok(['-n', skip, 'create', '-f', '-'], JSON.stringify(nonCompliant('disallowed-configmap')));
});

it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should be able to deny attaching pod [Conformance]', async (t, c) => {
  labelled(c);
  c.k.create(pod('to-be-attached-pod', c.env.altImage, 'container1'));
  await waitReady(c.k, ['to-be-attached-pod']);
  await registered(t, c, 'validating', [
    testHook(c, 'deny-attaching-pod.k8s.io', '/pods/attach', [{ operations: ['CONNECT'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods/attach'] }]),
  ]);
  const r = c.k.run(['attach', `--namespace=${c.ns}`, 'to-be-attached-pod', '-i', '-c=container1'], '');
  t.not(r.code, 0);
  t.true(r.stderr.includes("attaching to pod 'to-be-attached-pod' is not allowed"), r.stderr);
});

const TEST_GROUP = 'webhook.example.com';

/** upstream's CreateTestCRD / createAdmissionWebhookMultiVersionTestCRDWithV1Storage: a namespaced CRD with these versions, served before it returns */
async function testCRD(
  t: ExecutionContext,
  c: { ns: string; k: Kube; kc: Kube },
  versions: Record<string, unknown>[],
): Promise<{ name: string; plural: string; kind: string; crd: Record<string, any> }> {
  const plural = `e2e-test-${c.ns}-crds`;
  const kind = `E2eTest${c.ns.replace(/[^a-z0-9]/g, '')}Crd`;
  const name = `${plural}.${TEST_GROUP}`;
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name },
    spec: { group: TEST_GROUP, scope: 'Namespaced', names: { plural, singular: `e2e-test-${c.ns}-crd`, kind, listKind: `${kind}List` }, versions },
  };
  c.kc.create(crd);
  t.teardown(() => {
    c.kc.run(['delete', 'crd', name, '--wait=false']);
  });
  c.kc.ok(['wait', '--for=condition=Established', `crd/${name}`, '--timeout=30s']);
  const served = versions.map((v) => v.name as string);
  await until('every version is served', () => served.every((v) => c.k.run(['get', `${plural}.${v}.${TEST_GROUP}`]).code === 0), 30_000, 200);
  return { name, plural, kind, crd };
}

const preserving = (name: string, storage: boolean) => ({
  name,
  served: true,
  storage,
  schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
});

const crRule = (plural: string, operations: string[], versions: string[]) => ({
  operations,
  apiGroups: [TEST_GROUP],
  apiVersions: versions,
  resources: [plural],
});

it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should be able to deny custom resource creation, update and deletion [Conformance]', async (t, c) => {
  labelled(c);
  const d = await testCRD(t, c, [preserving('v1', true)]);
  await registered(t, c, 'validating', [
    testHook(c, 'deny-unwanted-custom-resource-data.k8s.io', '/custom-resource', [crRule(d.plural, ['CREATE', 'UPDATE', 'DELETE'], ['v1'])]),
  ]);
  const cr = (name: string, value: string) => ({ apiVersion: `${TEST_GROUP}/v1`, kind: d.kind, metadata: { name }, data: { 'webhook-e2e-test': value } });
  const created = c.k.run(['create', '-f', '-'], JSON.stringify(cr('cr-instance-1', 'webhook-disallow')));
  t.not(created.code, 0);
  t.true(created.stderr.includes('the custom resource contains unwanted data'), created.stderr);
  c.k.create(cr('cr-instance-2', 'webhook-nondeletable'));
  const resource = `${d.plural}.v1.${TEST_GROUP}`;
  const update = (value: string) => {
    const o = c.k.json([`get`, resource, 'cr-instance-2']);
    o.data['webhook-e2e-test'] = value;
    return c.k.run(['replace', '-f', '-'], JSON.stringify(o));
  };
  const bad = update('webhook-disallow');
  t.not(bad.code, 0);
  t.true(bad.stderr.includes('the custom resource contains unwanted data'), bad.stderr);
  const del = c.k.run(['delete', resource, 'cr-instance-2']);
  t.not(del.code, 0);
  t.true(del.stderr.includes('the custom resource cannot be deleted because it contains unwanted key and value'), del.stderr);
  const good = update('webhook-allow');
  t.is(good.code, 0, good.stderr);
  c.k.ok(['delete', resource, 'cr-instance-2']);
});

/** upstream registerMutatingWebhookForCustomResource: stage 1 on create and update, stage 2 on create */
function crMutators(c: { ns: string }, plural: string, versions: string[]): Record<string, unknown>[] {
  return [
    testHook(c, 'mutate-custom-resource-data-stage-1.k8s.io', '/mutating-custom-resource', [crRule(plural, ['CREATE', 'UPDATE'], versions)]),
    testHook(c, 'mutate-custom-resource-data-stage-2.k8s.io', '/mutating-custom-resource', [crRule(plural, ['CREATE'], versions)]),
  ];
}

const toBeMutatedCR = (kind: string) => ({ apiVersion: `${TEST_GROUP}/v1`, kind, metadata: { name: 'cr-instance-1' }, data: { 'mutation-start': 'yes' } });

it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should mutate custom resource [Conformance]', async (t, c) => {
  labelled(c);
  const d = await testCRD(t, c, [preserving('v1', true)]);
  await registered(t, c, 'mutating', crMutators(c, d.plural, ['v1']));
  const got = JSON.parse(c.k.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(toBeMutatedCR(d.kind))));
  t.deepEqual(got.data, { 'mutation-start': 'yes', 'mutation-stage-1': 'yes', 'mutation-stage-2': 'yes' });
});

it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should mutate custom resource with different stored version [Conformance]', async (t, c) => {
  labelled(c);
  const d = await testCRD(t, c, [preserving('v1', true), preserving('v2', false)]);
  await registered(t, c, 'mutating', crMutators(c, d.plural, ['v1', 'v2']));
  c.k.create(toBeMutatedCR(d.kind));
  // upstream: the CRD's storage version becomes v2, then the object is patched through v2
  c.kc.ok(['patch', 'crd', d.name, '--type=merge', '-p', JSON.stringify({ spec: { versions: [preserving('v1', false), preserving('v2', true)] } })]);
  await until('v2 is the storage version', () => c.kc.json(['get', 'crd', d.name]).status?.storedVersions?.includes('v2'), 30_000, 200);
  const patched = JSON.parse(
    c.k.ok(['patch', `${d.plural}.v2.${TEST_GROUP}`, 'cr-instance-1', '--type=json', '-p', '[{"op":"add","path":"/dummy","value":"test"}]', '-o', 'json']),
  );
  t.deepEqual(patched.data, { 'mutation-start': 'yes', 'mutation-stage-1': 'yes', 'mutation-stage-2': 'yes' });
  t.is(patched.dummy, 'test');
});

it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should mutate custom resource with pruning [Conformance]', async (t, c) => {
  labelled(c);
  // mutation-stage-2 is left out of the schema, so it is pruned after the webhooks added it
  const pruning = (name: string, storage: boolean) => ({
    name,
    served: true,
    storage,
    schema: {
      openAPIV3Schema: {
        type: 'object',
        properties: { data: { type: 'object', properties: { 'mutation-start': { type: 'string' }, 'mutation-stage-1': { type: 'string' } } } },
      },
    },
  });
  const d = await testCRD(t, c, [pruning('v1', true), pruning('v2', false)]);
  await registered(t, c, 'mutating', crMutators(c, d.plural, ['v1', 'v2']));
  const got = JSON.parse(c.k.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(toBeMutatedCR(d.kind))));
  t.deepEqual(got.data, { 'mutation-start': 'yes', 'mutation-stage-1': 'yes' });
});

it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should deny crd creation [Conformance]', async (t, c) => {
  const sel = { [c.ns]: 'true' };
  await registered(t, c, 'validating', [
    testHook(
      c,
      'deny-crd-with-unwanted-label.k8s.io',
      '/crd',
      [{ operations: ['CREATE'], apiGroups: ['apiextensions.k8s.io'], apiVersions: ['*'], resources: ['customresourcedefinitions'] }],
      {
        namespaceSelector: {},
        objectSelector: { matchLabels: sel },
      },
    ),
  ]);
  const plural = `e2e-test-${c.ns}-deny-crds`;
  const kind = `E2eTest${c.ns.replace(/[^a-z0-9]/g, '')}DenyCrd`;
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${TEST_GROUP}`, labels: { ...sel, 'webhook-e2e-test': 'webhook-disallow' } },
    spec: {
      group: TEST_GROUP,
      scope: 'Namespaced',
      names: { plural, singular: plural.slice(0, -1), kind, listKind: `${kind}List` },
      versions: [preserving('v1', true)],
    },
  };
  t.teardown(() => {
    c.kc.run(['delete', 'crd', crd.metadata.name, '--ignore-not-found', '--wait=false']);
  });
  const r = c.kc.run(['create', '-f', '-'], JSON.stringify(crd));
  t.not(r.code, 0);
  t.true(r.stderr.includes('the crd contains unwanted label'), r.stderr);
});

it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should mutate pod and apply defaults after mutation [Conformance]', async (t, c) => {
  labelled(c);
  await registered(t, c, 'mutating', [testHook(c, 'adding-init-container.k8s.io', '/mutating-pods', [POD_RULE])]);
  const got = JSON.parse(c.k.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(pod('webhook-to-be-mutated', c.env.altImage, 'example'))));
  t.is(got.spec.initContainers?.length, 1, JSON.stringify(got.spec.initContainers));
  t.is(got.spec.initContainers[0].name, 'webhook-added-init-container');
  t.is(got.spec.initContainers[0].terminationMessagePolicy, 'File');
});

it('[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should unconditionally reject operations on fail closed webhook [Conformance]', async (t, c) => {
  const sel = labelled(c);
  // no caBundle: the call always fails, and Fail refuses the request
  await registered(t, c, 'validating', [
    {
      ...testHook(c, 'fail-closed.k8s.io', '/configmaps', [rule(['CREATE'])]),
      clientConfig: { url: `https://127.0.0.1:${hook!.port}/configmaps` },
      failurePolicy: 'Fail',
      namespaceSelector: { matchLabels: sel, matchExpressions: [{ key: 'fail-closed-webhook', operator: 'In', values: ['yes'] }] },
    },
  ]);
  const failNs = `${c.ns}-fail`;
  c.kc.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: failNs, labels: { ...sel, 'fail-closed-webhook': 'yes' } } });
  t.teardown(() => {
    c.kc.run(['delete', 'namespace', failNs, '--wait=false']);
  });
  const r = c.kc.run(['-n', failNs, 'create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'foo' } }));
  t.not(r.code, 0);
  t.true(r.stderr.includes('(InternalError)'), r.stderr);
});
