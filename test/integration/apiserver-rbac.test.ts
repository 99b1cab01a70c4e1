// RBAC against the real kubectl: the rbac.authorization.k8s.io types served (apply, create, get
// tables, validation), the bootstrap roles and their aggregation, a kubeconfig user governed by a
// view binding (Forbidden with upstream's message), escalation prevention, and kubectl auth can-i.
import test from 'ava';
import { type Cluster, until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';

let c: Cluster;
let jane: string; // client certificate user jane in group devs
let bob: string; // client certificate user bob in group devs, bound to nothing by name

fileCluster(async (cluster) => {
  c = cluster;
  jane = await c.identity('jane', ['devs']);
  bob = await c.identity('bob', ['devs']);
});

const as = (kubeconfig: string) => ({ kubeconfig });

test.serial('kubectl get clusterroles prints the bootstrap roles as a table', async (t) => {
  const out = await c.ok(['get', 'clusterroles']);
  t.regex(out, /^NAME\s+CREATED AT/m);
  for (const n of ['cluster-admin', 'admin', 'edit', 'view', 'system:discovery', 'system:basic-user', 'system:public-info-viewer', 'system:node-proxier'])
    t.regex(out, new RegExp(`^${n}\\s`, 'm'));
  t.regex(await c.ok(['get', 'clusterrolebinding', 'cluster-admin']), /cluster-admin\s+ClusterRole\/cluster-admin/);
  t.regex(await c.ok(['describe', 'clusterrole', 'system:basic-user']), /selfsubjectaccessreviews.authorization.k8s.io\s+\[\]\s+\[\]\s+\[create\]/);
  await c.ok(['create', 'clusterrole', 'monitoring', '--aggregation-rule=rbac.example.com/aggregate-to-monitoring=true']);
  t.deepEqual(JSON.parse(await c.ok(['get', 'clusterrole', 'monitoring', '-o', 'json'])).aggregationRule, {
    clusterRoleSelectors: [{ matchLabels: { 'rbac.example.com/aggregate-to-monitoring': 'true' } }],
  });
});

test.serial('view aggregates the rules of the aggregate-to-view roles, and picks up new ones', async (t) => {
  const view = await until('view aggregated', async () => {
    const v = JSON.parse(await c.ok(['get', 'clusterrole', 'view', '-o', 'json']));
    return v.rules?.length ? v : undefined;
  });
  t.true(view.rules.some((r: { resources?: string[] }) => r.resources?.includes('pods')));
  await c.ok(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'widgets-view', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
      rules: [{ apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get'] }],
    }),
  });
  await until('widgets aggregated into view', async () =>
    JSON.parse(await c.ok(['get', 'clusterrole', 'view', '-o', 'json'])).rules.some((r: { resources?: string[] }) => r.resources?.includes('widgets')),
  );
  t.pass();
});

test.serial('a user with only a view binding lists pods and is refused writes and secrets', async (t) => {
  const denied = await c.kubectl(['get', 'pods'], as(jane));
  t.is(denied.code, 1);
  t.regex(denied.stderr, /User "jane" cannot list resource "pods" in API group "" in the namespace "default"/);
  await c.ok(['create', 'clusterrolebinding', 'jane-view', '--clusterrole=view', '--user=jane']);
  await until('jane can list pods', async () => (await c.kubectl(['get', 'pods'], as(jane))).code === 0);
  const create = await c.kubectl(['run', 'p', '--image=busybox'], as(jane));
  t.not(create.code, 0);
  t.regex(
    create.stderr,
    /Error from server \(Forbidden\): pods is forbidden: User "jane" cannot create resource "pods" in API group "" in the namespace "default"/,
  );
  const secrets = await c.kubectl(['get', 'secrets'], as(jane));
  t.regex(secrets.stderr, /secrets is forbidden: User "jane" cannot list resource "secrets" in API group "" in the namespace "default"/);
  t.is((await c.ok(['auth', 'can-i', 'list', 'pods', '--as=jane'])).trim(), 'yes');
  const no = await c.kubectl(['auth', 'can-i', 'create', 'pods', '--as=jane']);
  t.is(no.stdout.trim(), 'no');
  t.regex(await c.ok(['auth', 'can-i', '--list'], as(jane)), /pods\s+\[\]\s+\[\]\s+\[get list watch\]/);
  // jane may not impersonate
  const imp = await c.kubectl(['get', 'pods', '--as=admin'], as(jane));
  t.regex(imp.stderr, /users "admin" is forbidden: User "jane" cannot impersonate resource "users"/);
});

test.serial('kubectl create role and rolebinding grant in one namespace only', async (t) => {
  await c.ok(['create', 'namespace', 'team']);
  await c.ok(['create', 'role', 'cm-reader', '-n', 'team', '--verb=get,list', '--resource=configmaps']);
  await c.ok(['create', 'rolebinding', 'jane-cm', '-n', 'team', '--role=cm-reader', '--group=devs']);
  await until('bob reads configmaps in team', async () => (await c.kubectl(['get', 'configmaps', '-n', 'team'], as(bob))).code === 0);
  const elsewhere = await c.kubectl(['get', 'configmaps', '-n', 'default'], as(bob));
  t.regex(elsewhere.stderr, /User "bob" cannot list resource "configmaps" in API group "" in the namespace "default"/);
  t.regex(await c.ok(['get', 'rolebindings', '-n', 'team']), /jane-cm\s+Role\/cm-reader/);
});

test.serial('bad input: empty verbs, nonResourceURLs in a Role, a bad roleRef kind and a changed roleRef are 422 and nothing is stored', async (t) => {
  const role = (rules: unknown[], kind = 'Role') =>
    JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: { name: 'bad', namespace: 'team' }, rules });
  const empty = await c.kubectl(['create', '-f', '-'], { input: role([{ apiGroups: [''], resources: ['pods'], verbs: [] }]) });
  t.regex(empty.stderr, /The Role "bad" is invalid: rules\[0\].verbs: Required value: verbs must contain at least one value/);
  const urls = await c.kubectl(['create', '-f', '-'], { input: role([{ nonResourceURLs: ['/x'], verbs: ['get'] }]) });
  t.regex(urls.stderr, /rules\[0\].nonResourceURLs: Invalid value: .*namespaced rules cannot apply to non-resource URLs/);
  const binding = (kind: string, name = 'bad-binding') =>
    JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace: 'team' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: 'cm-reader' },
      subjects: [{ kind: 'Robot', name: 'r2' }],
    });
  const bad = await c.kubectl(['create', '-f', '-'], { input: binding('Deployment') });
  t.regex(bad.stderr, /roleRef.kind: Unsupported value: "Deployment": supported values: "Role", "ClusterRole"/);
  t.regex(bad.stderr, /subjects\[0\].kind: Unsupported value: "Robot"/);
  t.regex((await c.kubectl(['get', 'role,rolebinding', '-n', 'team', 'bad', 'bad-binding'])).stderr, /NotFound|not found/);
  const changed = await c.kubectl(['patch', 'rolebinding', 'jane-cm', '-n', 'team', '--type=merge', '-p', '{"roleRef":{"kind":"ClusterRole","name":"view"}}']);
  t.regex(changed.stderr, /roleRef: Invalid value: .*cannot change roleRef/);
});

test.serial('impersonation needs the impersonate verb from RBAC; service accounts are answered by can-i', async (t) => {
  const before = await c.kubectl(['get', 'pods', '-n', 'team', '--as=jane'], as(bob));
  t.regex(before.stderr, /users "jane" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope/);
  await c.ok(['create', 'clusterrole', 'impersonator', '--verb=impersonate', '--resource=users,groups']);
  await c.ok(['create', 'clusterrolebinding', 'bob-impersonates', '--clusterrole=impersonator', '--user=bob']);
  await until('bob acts as jane', async () => (await c.kubectl(['get', 'pods', '--as=jane'], as(bob))).code === 0);
  await c.ok(['create', 'rolebinding', 'bot-view', '-n', 'team', '--clusterrole=view', '--serviceaccount=team:bot']);
  await until(
    'the bot may list pods in team',
    async () => (await c.ok(['auth', 'can-i', 'list', 'pods', '-n', 'team', '--as=system:serviceaccount:team:bot'])).trim() === 'yes',
  );
  t.is((await c.kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'default', '--as=system:serviceaccount:team:bot'])).stdout.trim(), 'no');
  // SubjectAccessReview, as an admin asks about someone else (--validate=false: the review kinds are
  // missing from this server's OpenAPI, a gap outside RBAC)
  const sar = JSON.parse(
    await c.ok(['create', '--validate=false', '-f', '-', '-o', 'json'], {
      input: JSON.stringify({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user: 'system:serviceaccount:team:bot', resourceAttributes: { namespace: 'team', verb: 'get', resource: 'pods' } },
      }),
    }),
  );
  t.true(sar.status.allowed);
});

test.serial('a binding to a missing role is stored and grants nothing', async (t) => {
  await c.ok(['create', 'rolebinding', 'ghost', '-n', 'team', '--role=no-such-role', '--user=jane']);
  const r = await c.kubectl(['get', 'secrets', '-n', 'team'], as(jane));
  t.regex(r.stderr, /cannot list resource "secrets"/);
});

test.serial('escalation: a user cannot grant or bind what they do not hold', async (t) => {
  // jane may manage roles and bindings in team, but holds only view there
  await c.ok(['create', 'rolebinding', 'jane-admin-rbac', '-n', 'team', '--clusterrole=view', '--user=jane']);
  await c.ok([
    'create',
    'role',
    'rbac-writer',
    '-n',
    'team',
    '--verb=create,update,patch,get',
    '--resource=roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io',
  ]);
  await c.ok(['create', 'rolebinding', 'jane-rbac', '-n', 'team', '--role=rbac-writer', '--user=jane']);
  await until('jane may create roles', async () => (await c.ok(['auth', 'can-i', 'create', 'roles', '-n', 'team', '--as=jane'])).trim() === 'yes');
  const grant = await c.kubectl(['create', 'role', 'pod-killer', '-n', 'team', '--verb=delete', '--resource=pods'], as(jane));
  t.regex(
    grant.stderr,
    /roles.rbac.authorization.k8s.io "pod-killer" is forbidden: user "jane" \(groups=\["devs" "system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["pods"\], Verbs:\["delete"\]\}/,
  );
  // within what she holds is fine
  await c.ok(['create', 'role', 'pod-reader', '-n', 'team', '--verb=get,list', '--resource=pods'], as(jane));
  const bind = await c.kubectl(['create', 'rolebinding', 'jane-edit', '-n', 'team', '--clusterrole=edit', '--user=jane'], as(jane));
  t.regex(
    bind.stderr,
    /rolebindings.rbac.authorization.k8s.io "jane-edit" is forbidden: user "jane" .* is attempting to grant RBAC permissions not currently held/,
  );
  t.regex(
    (await c.kubectl(['get', 'rolebinding', 'jane-edit', 'role', '-n', 'team'])).stderr + (await c.kubectl(['get', 'role', 'pod-killer', '-n', 'team'])).stderr,
    /not found/,
  );
  // nor by patching a role she may patch, nor by server-side apply
  const patched = await c.kubectl(
    ['patch', 'role', 'pod-reader', '-n', 'team', '--type=json', '-p', '[{"op":"add","path":"/rules/0/verbs/-","value":"delete"}]'],
    as(jane),
  );
  t.regex(
    patched.stderr,
    /roles.rbac.authorization.k8s.io "pod-reader" is forbidden: user "jane" .* is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["pods"\], Verbs:\["delete"\]\}/,
  );
  const applied = await c.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], {
    ...as(jane),
    input: JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'pod-reader', namespace: 'team' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'delete'] }],
    }),
  });
  t.regex(applied.stderr, /is attempting to grant RBAC permissions not currently held/);
  t.deepEqual(JSON.parse(await c.ok(['get', 'role', 'pod-reader', '-n', 'team', '-o', 'json'])).rules[0].verbs, ['get', 'list']);
  // with the bind verb on that role, the same binding is allowed
  await c.ok(['create', 'role', 'binder', '-n', 'team', '--verb=bind', '--resource=clusterroles.rbac.authorization.k8s.io', '--resource-name=edit']);
  await c.ok(['create', 'rolebinding', 'jane-binder', '-n', 'team', '--role=binder', '--user=jane']);
  await until(
    'jane may bind edit',
    async () => (await c.kubectl(['create', 'rolebinding', 'jane-edit', '-n', 'team', '--clusterrole=edit', '--user=jane'], as(jane))).code === 0,
  );
  t.pass();
});

test.serial('kubectl auth reconcile creates and extends roles', async (t) => {
  const yaml = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reconciled
rules:
- apiGroups: [""]
  resources: ["nodes"]
  verbs: ["get", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: reconciled
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: reconciled
subjects:
- kind: User
  name: jane
  apiGroup: rbac.authorization.k8s.io
`;
  const out = await c.ok(['auth', 'reconcile', '-f', '-'], { input: yaml });
  t.regex(out, /clusterrole.rbac.authorization.k8s.io\/reconciled reconciled/);
  await until('jane gets nodes', async () => (await c.kubectl(['get', 'nodes'], as(jane))).code === 0);
  t.pass();
});

test.serial('a restart restores missing bootstrap rules and subjects, keeps user additions, and leaves autoupdate=false roles alone', async (t) => {
  const get = async (what: string) => JSON.parse(await c.ok(['get', what, '-o', 'json']));
  const extra = { apiGroups: ['example.com'], resources: ['gadgets'], verbs: ['get'] };
  const basic = await get('clusterrole/system:basic-user');
  await c.ok(['replace', '-f', '-'], { input: JSON.stringify({ ...basic, rules: [basic.rules[0], extra] }) });
  const discovery = await get('clusterrole/system:discovery');
  discovery.metadata.annotations['rbac.authorization.kubernetes.io/autoupdate'] = 'false';
  await c.ok(['replace', '-f', '-'], { input: JSON.stringify({ ...discovery, rules: [extra] }) });
  const masters = await get('clusterrolebinding/cluster-admin');
  await c.ok(['replace', '-f', '-'], {
    input: JSON.stringify({ ...masters, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'root' }] }),
  });
  await c.ok(['delete', 'clusterrole', 'system:public-info-viewer']);
  await c.restart();
  const after = await get('clusterrole/system:basic-user');
  t.deepEqual(after.rules, [basic.rules[0], extra, ...basic.rules.slice(1)]);
  t.deepEqual((await get('clusterrole/system:discovery')).rules, [extra]);
  t.deepEqual(
    (await get('clusterrolebinding/cluster-admin')).subjects.map((s: { name: string }) => s.name),
    ['root', 'system:masters'],
  );
  t.truthy(await get('clusterrole/system:public-info-viewer'));
});
