// ValidatingAdmissionPolicy params (paramKind, the binding's paramRef) against a real API server:
// a ConfigMap named by paramRef is `params` in CEL and a change to it takes effect; the request's
// namespace is used when paramRef names none; a selector evaluates every param it selects; no
// param found follows parameterNotFoundAction (Deny: upstream's configuration error under
// failurePolicy Fail; Allow: admitted); an unknown paramKind is a configuration error.
import test from 'ava';
import { type Cluster, until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { rawClient, type RawClient } from './_https.ts';

let c: Cluster;
let api: RawClient;

fileCluster(async (cluster, own) => {
  c = cluster;
  api = own(rawClient(c.admin, 15_000));
  for (const ns of ['params-ns', 'checked'])
    if ((await api.request('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status !== 201) throw new Error(`namespace ${ns}`);
});

const VAP = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies';
const VAPB = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings';
const CM = (ns: string) => `/api/v1/namespaces/${ns}/configmaps`;

const policy = (name: string, paramKind = { apiVersion: 'v1', kind: 'ConfigMap' }) => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicy',
  metadata: { name },
  spec: {
    paramKind,
    matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }] },
    validations: [
      {
        expression: 'size(object.data) <= int(params.data.maxKeys)',
        messageExpression: "'at most ' + params.data.maxKeys + ' keys (' + params.metadata.name + ')'",
      },
    ],
  },
});

const binding = (name: string, policyName: string, paramRef: Record<string, unknown>) => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicyBinding',
  metadata: { name },
  spec: {
    policyName,
    paramRef,
    validationActions: ['Deny'],
    matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'checked' } } },
  },
});

const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
/** A dry-run create of a configmap with n keys in the checked namespace: the status and message. */
async function tryKeys(n: number): Promise<{ status: number; message: string }> {
  const r = await api.request('POST', `${CM('checked')}?dryRun=All`, { metadata: { name: `cm-${n}` }, data: keys(n) });
  return { status: r.status, message: r.body?.message ?? '' };
}

async function setup(t: { teardown(fn: () => Promise<void>): void }, objs: [string, Record<string, any>][]): Promise<void> {
  t.teardown(async () => {
    for (const [p, o] of objs.slice().reverse()) await api.request('DELETE', `${p}/${o.metadata.name}`);
  });
  for (const [p, o] of objs) {
    const r = await api.request('POST', p, o);
    if (r.status !== 201) throw new Error(`${p}: ${r.status} ${r.text}`);
  }
}

test.serial('params from a named ConfigMap are `params` in CEL; changing it takes effect; deleting it denies (Deny)', async (t) => {
  await setup(t, [
    [CM('params-ns'), { metadata: { name: 'limits' }, data: { maxKeys: '1' } }],
    [VAP, policy('max-keys')],
    [VAPB, binding('max-keys-b', 'max-keys', { name: 'limits', namespace: 'params-ns', parameterNotFoundAction: 'Deny' })],
  ]);
  const denied = await until(
    'the policy denies',
    async () => {
      const r = await tryKeys(2);
      return r.status !== 201 && r;
    },
    10_000,
  );
  t.is(denied.status, 422);
  t.is(
    denied.message,
    "configmaps \"cm-2\" is forbidden: ValidatingAdmissionPolicy 'max-keys' with binding 'max-keys-b' denied request: at most 1 keys (limits)",
  );
  t.is((await tryKeys(1)).status, 201);
  // kubectl sees the same denial
  const out = await c.kubectl(['create', 'configmap', 'two', '-n', 'checked', '--from-literal=a=1', '--from-literal=b=2']);
  t.true(out.stderr.includes('denied request: at most 1 keys (limits)'), out.stderr);

  t.is((await api.request('PATCH', `${CM('params-ns')}/limits`, { data: { maxKeys: '3' } }, 'application/merge-patch+json')).status, 200);
  t.is((await tryKeys(3)).status, 201);
  t.is((await tryKeys(4)).message.endsWith('at most 3 keys (limits)'), true);

  t.is((await api.request('DELETE', `${CM('params-ns')}/limits`)).status, 200);
  const gone = await tryKeys(1);
  t.is(gone.status, 422);
  t.is(
    gone.message,
    "configmaps \"cm-1\" is forbidden: ValidatingAdmissionPolicy 'max-keys' with binding 'max-keys-b' denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction",
  );
});

test.serial("without a namespace paramRef reads the request's; a selector evaluates every param; Allow admits when none is found", async (t) => {
  await setup(t, [
    [CM('checked'), { metadata: { name: 'loose', labels: { limit: 'yes' } }, data: { maxKeys: '5' } }],
    [CM('checked'), { metadata: { name: 'strict', labels: { limit: 'yes' } }, data: { maxKeys: '2' } }],
    [VAP, policy('selected')],
    [VAPB, binding('selected-b', 'selected', { selector: { matchLabels: { limit: 'yes' } }, parameterNotFoundAction: 'Deny' })],
    [VAP, policy('allow-missing')],
    [VAPB, binding('allow-missing-b', 'allow-missing', { name: 'nothing-here', parameterNotFoundAction: 'Allow' })],
  ]);
  const denied = await until(
    'the selected params deny',
    async () => {
      const r = await tryKeys(4);
      return r.status !== 201 && r;
    },
    10_000,
  );
  t.true(denied.message.endsWith("binding 'selected-b' denied request: at most 2 keys (strict)"), denied.message);
  t.is((await tryKeys(2)).status, 201, 'within both params; the Allow binding without its param admits');
});

test.serial('an unknown paramKind is a configuration error under failurePolicy Fail, skipped under Ignore', async (t) => {
  const unknown = policy('unknown-kind', { apiVersion: 'example.com/v1', kind: 'Nothing' });
  await setup(t, [
    [VAP, unknown],
    [VAPB, binding('unknown-kind-b', 'unknown-kind', { name: 'x', parameterNotFoundAction: 'Deny' })],
  ]);
  const denied = await until(
    'the binding fails',
    async () => {
      const r = await tryKeys(1);
      return r.status !== 201 && r;
    },
    10_000,
  );
  t.true(
    denied.message.endsWith("denied request: failed to configure binding: failed to find resource referenced by paramKind: 'example.com/v1, Kind=Nothing'"),
    denied.message,
  );
  const cur = (await api.request('GET', `${VAP}/unknown-kind`)).body;
  t.is((await api.request('PUT', `${VAP}/unknown-kind`, { ...cur, spec: { ...cur.spec, failurePolicy: 'Ignore' } })).status, 200);
  await until('the binding is skipped', async () => (await tryKeys(1)).status === 201, 10_000);
  t.pass();
});
