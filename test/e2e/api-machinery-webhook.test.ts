// [sig-api-machinery] AdmissionWebhook, mirroring upstream's webhook.go where the checks need only
// the API and a webhook: discovery of admissionregistration.k8s.io, and listing, patching and
// updating webhook configurations taking effect, matchConditions stored, refused and honoured. Upstream runs its sample webhook as a pod behind
// a Service; here it is a process on 127.0.0.1 (helpers/admission-webhook.ts) named by URL, which
// the API server (root namespace of the lab) reaches; the Service path is covered by
// test/integration/apiserver-webhooks.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import test, { type ExecutionContext } from 'ava';
import { conformance, until, type Kube } from '../conformance/fixture.ts';

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
