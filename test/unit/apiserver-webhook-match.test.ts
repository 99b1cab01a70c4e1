// Which admission webhooks a request calls (rules with wildcards and subresources, scope, the
// namespace whose labels decide, object selectors), how an answer is checked, and the dry-run
// refusal of a webhook with side effects: pure or without a network.
import test from 'ava';
import { namespaceToCheck, objectSelectorMatches, type RequestTarget, ruleMatches } from '../../agents/control-plane/apiserver/admission/match.ts';
import { verifyResponse } from '../../agents/control-plane/apiserver/admission/review.ts';
import { WebhookDispatcher } from '../../agents/control-plane/apiserver/admission/dispatcher.ts';
import type { Webhook } from '../../agents/control-plane/apiserver/admission/types.ts';
import { ApiError } from '../../agents/control-plane/apiserver/errors.ts';

const target = (over: Partial<RequestTarget> = {}): RequestTarget => ({
  operation: 'CREATE',
  group: '',
  version: 'v1',
  resource: 'pods',
  subresource: '',
  namespace: 'default',
  ...over,
});
const rule = (resources: string[], over: Record<string, unknown> = {}) => ({
  operations: ['CREATE'],
  apiGroups: [''],
  apiVersions: ['v1'],
  resources,
  ...over,
});

test('resources match upstream: * is main resources only, pods/* every subresource (and, as upstream, pods itself), */status one subresource of all', (t) => {
  t.true(ruleMatches(rule(['*']), target()));
  t.false(ruleMatches(rule(['*']), target({ subresource: 'status' })));
  t.true(ruleMatches(rule(['pods/*']), target({ subresource: 'exec' })));
  t.true(ruleMatches(rule(['pods/*']), target()), 'upstream splits pods/* into pods and a * subresource, which also matches none');
  t.true(ruleMatches(rule(['*/status']), target({ resource: 'services', subresource: 'status' })));
  t.true(ruleMatches(rule(['*/*']), target({ subresource: 'binding' })));
  t.false(ruleMatches(rule(['pods']), target({ resource: 'configmaps' })));
  t.false(ruleMatches(rule(['pods'], { apiGroups: ['apps'] }), target()));
  t.true(
    ruleMatches(
      rule(['deployments'], { apiGroups: ['*'], apiVersions: ['*'], operations: ['*'] }),
      target({ group: 'apps', resource: 'deployments', operation: 'DELETE' }),
    ),
  );
  t.false(ruleMatches(rule(['pods'], { operations: ['UPDATE'] }), target()));
});

test('scope: a Namespace is cluster-scoped even though its namespace is its name', (t) => {
  t.true(ruleMatches(rule(['pods'], { scope: 'Namespaced' }), target()));
  t.false(ruleMatches(rule(['pods'], { scope: 'Cluster' }), target()));
  t.true(ruleMatches(rule(['nodes'], { scope: 'Cluster' }), target({ resource: 'nodes', namespace: '' })));
  t.true(ruleMatches(rule(['namespaces'], { scope: 'Cluster' }), target({ resource: 'namespaces', namespace: 'team-a' })));
  t.false(ruleMatches(rule(['namespaces'], { scope: 'Namespaced' }), target({ resource: 'namespaces', namespace: 'team-a' })));
});

test('namespaceSelector: cluster-scoped objects always pass, a Namespace is judged by its own labels', (t) => {
  const h: Webhook = { name: 'a.b.c', namespaceSelector: { matchLabels: { env: 'prod' } } };
  t.is(namespaceToCheck(h, target()), 'default');
  t.is(namespaceToCheck(h, target({ resource: 'nodes', namespace: '' })), undefined);
  t.is(namespaceToCheck(h, target({ resource: 'namespaces', namespace: 'team-a' })), 'team-a');
  t.is(namespaceToCheck({ name: 'a.b.c', namespaceSelector: {} }, target()), undefined);
});

test('objectSelector matches the new or the old object; no object does not match a non-empty selector', (t) => {
  const h: Webhook = { name: 'a.b.c', objectSelector: { matchLabels: { app: 'x' } } };
  const o = (labels: Record<string, string>) => ({ metadata: { name: 'n', labels } });
  t.true(objectSelectorMatches(h, o({ app: 'x' }), undefined));
  t.true(objectSelectorMatches(h, o({}), o({ app: 'x' })));
  t.false(objectSelectorMatches(h, o({ app: 'y' }), undefined));
  t.false(objectSelectorMatches(h, undefined, undefined));
  t.true(objectSelectorMatches({ name: 'a.b.c', objectSelector: {} }, undefined, undefined));
});

test('answers are checked as upstream VerifyAdmissionResponse', (t) => {
  const env = (response: unknown, apiVersion = 'admission.k8s.io/v1') => JSON.stringify({ apiVersion, kind: 'AdmissionReview', response });
  t.throws(() => verifyResponse(env(undefined), 'u1', 'v1', false), { message: 'webhook response was absent' });
  t.throws(() => verifyResponse(env({ uid: 'other', allowed: true }), 'u1', 'v1', false), { message: 'expected response.uid="u1", got "other"' });
  t.throws(() => verifyResponse(env({ uid: 'u1', allowed: true }, 'admission.k8s.io/v1beta1'), 'u1', 'v1', false), {
    message: 'expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got admission.k8s.io/v1beta1, Kind=AdmissionReview',
  });
  t.throws(() => verifyResponse(env({ uid: 'u1', allowed: true, patch: 'W10=' }), 'u1', 'v1', true), {
    message: 'webhook returned response.patch but not response.patchType',
  });
  t.throws(() => verifyResponse(env({ uid: 'u1', allowed: true, patch: 'W10=', patchType: 'JSONPatch' }), 'u1', 'v1', false), {
    message: 'validating webhook may not return response.patch',
  });
  t.like(verifyResponse(env({ uid: 'u1', allowed: true, warnings: ['w'] }), 'u1', 'v1', false), { allowed: true, warnings: ['w'] });
});

test('a dry run refuses a webhook whose sideEffects are not None or NoneOnDryRun, before calling it', async (t) => {
  const hook = (sideEffects: string): Webhook => ({
    name: `${sideEffects.toLowerCase()}.hawser.test`,
    sideEffects,
    admissionReviewVersions: ['v1'],
    failurePolicy: 'Ignore',
    clientConfig: { url: 'https://127.0.0.1:1/never' },
    rules: [rule(['pods'])],
    namespaceSelector: {},
    objectSelector: {},
  });
  const lookups = { namespace: async () => undefined, service: async () => undefined, slices: async () => [] };
  const scope = {
    group: '',
    version: 'v1',
    kind: 'Pod',
    resource: 'pods',
    subresource: '',
    name: '',
    namespace: 'default',
    user: { name: 'u', groups: [] },
    dryRun: true,
    warnings: [],
    options: () => ({}),
  };
  const some = new WebhookDispatcher({ webhooks: { mutating: [], validating: [hook('Some')], policies: [] } }, lookups).forRequest(scope)!;
  const e = await t.throwsAsync(some.validate('CREATE', { metadata: { name: 'p', namespace: 'default' } }, undefined));
  t.true(e instanceof ApiError);
  t.like((e as ApiError).toStatus(), { code: 400, reason: 'BadRequest', message: 'admission webhook "some.hawser.test" does not support dry run' });
  // NoneOnDryRun is called (here: refused connection, failurePolicy Ignore)
  const none = new WebhookDispatcher({ webhooks: { mutating: [], validating: [hook('NoneOnDryRun')], policies: [] } }, lookups).forRequest(scope)!;
  await t.notThrowsAsync(none.validate('CREATE', { metadata: { name: 'p', namespace: 'default' } }, undefined));
});
