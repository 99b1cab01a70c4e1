// [sig-api-machinery] ValidatingAdmissionPolicy [Privileged:ClusterAdmin], mirroring upstream's
// test/e2e/apimachinery/validatingadmissionpolicy.go conformance tests by their exact names:
// a policy with its binding denies a Deployment (422 Invalid) until its replicas pass, variables
// referring to each other, and the API operations of both resources (discovery, create, get,
// list, watch, patch, update, /status, delete, deletecollection). As upstream, the test's namespace
// is labelled `<ns>=true` and both the policy and the binding select it, so nothing else is touched.
// Needs only an API server.
import type { ExecutionContext } from 'ava';
import { conformance, type Ctx, type Kube, until } from '../conformance/fixture.ts';
import { replayed } from '../conformance/watch.ts';

const it = conformance('vap');
const GV = '/apis/admissionregistration.k8s.io/v1';
const raw = (k: Kube, path: string) => JSON.parse(k.ok(['get', '--raw', path]));

interface Validation {
  expression: string;
  message?: string;
  messageExpression?: string;
}

/** upstream newValidatingAdmissionPolicyBuilder(...).MatchUniqueNamespace(ns) with one rule on apps/v1 deployments */
const policy = (name: string, ns: string, validations: Validation[], variables: { name: string; expression: string }[] = []) => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicy',
  metadata: { name },
  spec: {
    matchConstraints: {
      namespaceSelector: { matchLabels: { [ns]: 'true' } },
      resourceRules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'] }],
    },
    validations,
    ...(variables.length ? { variables } : {}),
  },
});

/** upstream createBinding */
const binding = (name: string, ns: string, policyName: string) => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicyBinding',
  metadata: { name },
  spec: { policyName, matchResources: { namespaceSelector: { matchLabels: { [ns]: 'true' } } }, validationActions: ['Deny'] },
});

/** upstream basicDeployment / basicReplicaSet (the lab's image, not nginx:latest) */
const workload = (kind: 'Deployment' | 'ReplicaSet', name: string, replicas: number, image: string) => ({
  apiVersion: 'apps/v1',
  kind,
  metadata: { name, labels: { app: 'nginx' } },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'nginx' } },
    template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image }] } },
  },
});

/** Creates the policy and binding (removed after the test), as upstream's "creating the policy" step. */
function bind(t: ExecutionContext, c: Ctx, p: ReturnType<typeof policy>) {
  c.kc.ok(['label', 'namespace', c.ns, `${c.ns}=true`]);
  t.teardown(() => {
    c.kc.run(['delete', 'validatingadmissionpolicybinding', `${c.ns}.binding.example.com`, '--ignore-not-found']);
    c.kc.run(['delete', 'validatingadmissionpolicy', p.metadata.name, '--ignore-not-found']);
  });
  c.kc.create(p, binding(`${c.ns}.binding.example.com`, c.ns, p.metadata.name));
}

/** upstream "waiting until the marker is denied": a 1-replica Deployment is refused as Invalid (422). */
async function markerDenied(c: Ctx): Promise<string> {
  return until(
    'the marker Deployment to be denied',
    () => {
      const r = c.k.run(['create', '-f', '-'], JSON.stringify(workload('Deployment', 'marker-deployment', 1, c.env.image)));
      c.k.run(['delete', 'deployment', 'marker-deployment', '--ignore-not-found', '--wait=false']);
      if (r.code === 0) return undefined;
      if (!/is invalid/.test(r.stderr)) throw new Error(`the marker was refused, not as Invalid: ${r.stderr}`);
      return r.stderr;
    },
    30_000,
    100,
  );
}

/** upstream's last two steps: a Deployment the policy admits, and a ReplicaSet it does not match. */
function allowed(t: ExecutionContext, c: Ctx, replicas: number) {
  c.k.create(workload('Deployment', 'replicated', replicas, c.env.image));
  c.k.ok(['delete', 'deployment', 'replicated', '--wait=false']);
  c.k.create(workload('ReplicaSet', 'non-replicated', 1, c.env.image));
  c.k.ok(['delete', 'replicaset', 'non-replicated', '--wait=false']);
  t.pass();
}

it('[sig-api-machinery] ValidatingAdmissionPolicy [Privileged:ClusterAdmin] should validate against a Deployment [Conformance]', async (t, c) => {
  bind(
    t,
    c,
    policy(`${c.ns}.policy.example.com`, c.ns, [
      { expression: 'object.spec.replicas > 1', messageExpression: "'wants replicas > 1, got ' + object.spec.replicas" },
      { expression: `namespaceObject.metadata.name == '${c.ns}'`, message: 'Internal error! Other namespace should not be allowed.' },
    ]),
  );
  const denied = await markerDenied(c);
  // the messageExpression does not type-check (string + int): upstream falls back to the expression
  t.regex(denied, new RegExp(`ValidatingAdmissionPolicy '${c.ns}.policy.example.com' with binding '${c.ns}.binding.example.com' denied request`));
  allowed(t, c, 2);
});

it('[sig-api-machinery] ValidatingAdmissionPolicy [Privileged:ClusterAdmin] should allow expressions to refer variables. [Conformance]', async (t, c) => {
  bind(
    t,
    c,
    policy(
      `${c.ns}.policy.example.com`,
      c.ns,
      [{ expression: 'variables.replicas > 1' }, { expression: 'variables.oddReplicas' }],
      [
        { name: 'replicas', expression: 'object.spec.replicas' },
        { name: 'oddReplicas', expression: 'variables.replicas % 2 == 1' },
      ],
    ),
  );
  t.regex(await markerDenied(c), /denied request: failed expression: variables.replicas > 1/);
  allowed(t, c, 3);
});

/** upstream's discovery steps: the group, its v1, and the resources in /apis/admissionregistration.k8s.io/v1 */
function discovered(t: ExecutionContext, kc: Kube, resources: string[]) {
  const groups = raw(kc, '/apis').groups as { name: string; versions: { version: string }[] }[];
  t.true(
    groups.some((g) => g.name === 'admissionregistration.k8s.io' && g.versions.some((v) => v.version === 'v1')),
    'admissionregistration.k8s.io/v1 in /apis',
  );
  t.true(raw(kc, '/apis/admissionregistration.k8s.io').versions.some((v: { version: string }) => v.version === 'v1'));
  const names = (raw(kc, GV).resources as { name: string }[]).map((r) => r.name);
  for (const r of resources) t.true(names.includes(r), `${r} in ${GV}`);
}

/**
 * create x3 (generateName e2e-example-<short>-, labelled <labelKey>=<ns>, removed after the test),
 * get, list, watch from the list, merge patch, update (retried on conflict), and the watch saw
 * MODIFIED with the patch
 */
async function crud(t: ExecutionContext, c: Ctx, kind: string, short: string, spec: object, patch: object, update: (o: any) => void) {
  const plural = kind === 'ValidatingAdmissionPolicy' ? 'validatingadmissionpolicies' : 'validatingadmissionpolicybindings';
  const labelKey = `example-e2e-${short}-label`;
  t.teardown(() => {
    c.kc.run(['delete', plural, '-l', `${labelKey}=${c.ns}`]);
  });
  const template = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind,
    metadata: { generateName: `e2e-example-${short}-`, labels: { [labelKey]: c.ns } },
    spec,
  };
  const make = () => JSON.parse(c.kc.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(template)));
  make();
  make();
  const made = make();
  const name = made.metadata.name as string;
  t.is(raw(c.kc, `${GV}/${plural}/${name}`).metadata.uid, made.metadata.uid);
  const sel = `${labelKey}=${c.ns}`;
  const list = raw(c.kc, `${GV}/${plural}?labelSelector=${encodeURIComponent(sel)}`);
  t.is(list.items.length, 3);
  const patched = JSON.parse(c.kc.ok(['patch', plural, name, '--type=merge', '-p', JSON.stringify(patch), '-o', 'json']));
  t.is(patched.metadata.annotations.patched, 'true');
  const updated = await until(
    'the update',
    () => {
      const cur = raw(c.kc, `${GV}/${plural}/${name}`);
      cur.metadata.annotations.updated = 'true';
      update(cur);
      const r = c.kc.run(['replace', '-f', '-', '-o', 'json'], JSON.stringify(cur));
      if (r.code !== 0 && !/Conflict|modified/.test(r.stderr)) throw new Error(r.stderr);
      return r.code === 0 && JSON.parse(r.stdout);
    },
    30_000,
  );
  t.is(updated.metadata.annotations.updated, 'true');
  const events = replayed(c.kc, `${GV}/${plural}`, list.metadata.resourceVersion, sel);
  t.true(
    events.every((e) => e.type === 'MODIFIED'),
    events.map((e) => e.type).join(','),
  );
  t.true(events.some((e) => e.object.metadata.annotations?.patched === 'true'));
  return { plural, name, sel, patched, updated, uid: made.metadata.uid as string };
}

/** delete one (gone or held by finalizers), two left; deletecollection by label, none left */
function deleteAll(t: ExecutionContext, c: Ctx, plural: string, name: string, sel: string) {
  c.kc.ok(['delete', plural, name, '--wait=false']);
  const r = c.kc.run(['get', plural, name, '-o', 'json']);
  t.true(r.code !== 0 ? /NotFound/.test(r.stderr) : JSON.parse(r.stdout).metadata.finalizers?.length > 0, 'deleted');
  const left = (raw(c.kc, `${GV}/${plural}?labelSelector=${encodeURIComponent(sel)}`).items as any[]).filter((i) => !i.metadata.finalizers?.length);
  t.is(left.length, 2, 'filtered list should have 2 items');
  c.kc.ok(['delete', plural, '-l', sel, '--wait=false']);
  const rest = (raw(c.kc, `${GV}/${plural}?labelSelector=${encodeURIComponent(sel)}`).items as any[]).filter(
    (i) => !(i.metadata.deletionTimestamp && i.metadata.finalizers?.length),
  );
  t.is(rest.length, 0, 'filtered list should have 0 items');
}

it('[sig-api-machinery] ValidatingAdmissionPolicy [Privileged:ClusterAdmin] should support ValidatingAdmissionPolicy API operations [Conformance]', async (t, c) => {
  discovered(t, c.kc, ['validatingadmissionpolicies', 'validatingadmissionpolicies/status']);
  const spec = {
    validations: [{ expression: 'object.spec.replicas <= 100' }],
    matchConstraints: { resourceRules: [{ operations: ['CREATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'] }] },
  };
  const { name, sel, patched, updated, uid } = await crud(
    t,
    c,
    'ValidatingAdmissionPolicy',
    'vap',
    spec,
    { metadata: { annotations: { patched: 'true' } }, spec: { failurePolicy: 'Ignore' } },
    (o) => {
      o.spec.failurePolicy = 'Fail';
    },
  );
  t.is(patched.spec.failurePolicy, 'Ignore');
  t.is(updated.spec.failurePolicy, 'Fail');

  // /status
  const status = raw(c.kc, `${GV}/validatingadmissionpolicies/${name}/status`);
  t.is(status.apiVersion, 'admissionregistration.k8s.io/v1');
  t.is(status.kind, 'ValidatingAdmissionPolicy');
  t.is(status.metadata.uid, uid);
  const cond = (type: string, reason: string) => ({
    type,
    status: 'False',
    reason,
    message: 'Set from an e2e test',
    lastTransitionTime: '2024-01-01T00:00:00Z',
  });
  const ps = JSON.parse(
    c.kc.ok([
      'patch',
      'validatingadmissionpolicies',
      name,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { conditions: [cond('PatchStatusFailed', 'e2e')] } }),
      '-o',
      'json',
    ]),
  );
  t.true(
    (ps.status.conditions as any[]).some((x) => x.type === 'PatchStatusFailed'),
    'expect the patched status exist',
  );
  const us = await until(
    'the status update',
    () => {
      const cur = raw(c.kc, `${GV}/validatingadmissionpolicies/${name}`);
      cur.status ??= {};
      cur.status.conditions = [...(cur.status.conditions ?? []), cond('StatusUpdateFailed', 'E2E')];
      const r = c.kc.run(['replace', '--subresource=status', '-f', '-', '-o', 'json'], JSON.stringify(cur));
      if (r.code !== 0 && !/Conflict|modified/.test(r.stderr)) throw new Error(r.stderr);
      return r.code === 0 && JSON.parse(r.stdout);
    },
    30_000,
  );
  t.true(
    (us.status.conditions as any[]).some((x) => x.type === 'StatusUpdateFailed'),
    'expect the updated status exist',
  );

  deleteAll(t, c, 'validatingadmissionpolicies', name, sel);
});

it('[sig-api-machinery] ValidatingAdmissionPolicy [Privileged:ClusterAdmin] should support ValidatingAdmissionPolicyBinding API operations [Conformance]', async (t, c) => {
  discovered(t, c.kc, ['validatingadmissionpolicybindings']);
  const { plural, name, sel, patched, updated } = await crud(
    t,
    c,
    'ValidatingAdmissionPolicyBinding',
    'vapb',
    { policyName: 'replicalimit-policy.example.com', validationActions: ['Deny'] },
    { metadata: { annotations: { patched: 'true' } }, spec: { validationActions: ['Warn'] } },
    (o) => {
      o.spec.validationActions = ['Deny'];
    },
  );
  t.deepEqual(patched.spec.validationActions, ['Warn']);
  t.deepEqual(updated.spec.validationActions, ['Deny']);
  deleteAll(t, c, plural, name, sel);
});
