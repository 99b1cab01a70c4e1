// The pure parts of RBAC: which bindings apply to whom, what they grant (a missing role grants
// nothing), rule coverage and upstream's escalation message, ClusterRole aggregation, and the
// validation of roles and bindings.
import test from 'ava';
import { attributesFor } from '../../agents/control-plane/auth/attributes.ts';
import type { PolicyRule } from '../../agents/control-plane/auth/authorizer.ts';
import { type Binding, escalationMessage, type RbacSnapshot, rbacAllows, rbacRules, uncovered } from '../../agents/control-plane/auth/rbac-rules.ts';
import { clusterRoleBindingStrategy, clusterRoleStrategy, roleBindingStrategy, roleStrategy } from '../../agents/control-plane/apiserver/strategies/rbac.ts';
import { aggregatedRules } from '../../agents/control-plane/controllers/rbac-aggregation-rules.ts';
import type { Obj } from '../../agents/control-plane/apiserver/strategies/types.ts';
import { RbacIndex } from '../../agents/control-plane/auth/rbac.ts';
import { SqliteStore } from '../../agents/control-plane/storage/sqlite.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const user = (name: string, ...groups: string[]) => ({ name, groups: [...groups, 'system:authenticated'] });
const q = new URLSearchParams();
const READ_PODS: PolicyRule = { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] };

function snapshot(roles: Record<string, PolicyRule[]>, bindings: Binding[]): RbacSnapshot {
  return {
    role: (ns, name) => roles[`${ns}/${name}`],
    // every binding of the scope: the pure functions must filter by subject themselves
    clusterBindings: () => bindings.filter((b) => !b.namespace),
    bindingsIn: (ns) => bindings.filter((b) => b.namespace === ns),
  };
}

const snap = snapshot({ '/reader': [READ_PODS], 'team/cm': [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }] }, [
  { namespace: '', name: 'g', roleRef: { kind: 'ClusterRole', name: 'reader' }, subjects: [{ kind: 'Group', name: 'readers' }] },
  { namespace: 'team', name: 'sa', roleRef: { kind: 'Role', name: 'cm' }, subjects: [{ kind: 'ServiceAccount', name: 'bot' }] },
  { namespace: 'team', name: 'ghost', roleRef: { kind: 'Role', name: 'missing' }, subjects: [{ kind: 'User', name: 'jane' }] },
  { namespace: 'team', name: 'u', roleRef: { kind: 'ClusterRole', name: 'reader' }, subjects: [{ kind: 'User', name: 'jane' }] },
]);

test("bindings apply by user name, group, and service account identity (namespace defaulted to the binding's)", (t) => {
  const get = (path: string, u: ReturnType<typeof user>) => rbacAllows(snap, attributesFor('GET', path, q, u));
  t.true(get('/api/v1/namespaces/x/pods', user('amy', 'readers')));
  t.false(get('/api/v1/namespaces/x/pods', user('amy')));
  t.true(get('/api/v1/namespaces/team/configmaps/c', user('system:serviceaccount:team:bot')));
  t.false(get('/api/v1/namespaces/other/configmaps/c', user('system:serviceaccount:team:bot')));
  t.false(get('/api/v1/namespaces/team/configmaps/c', user('system:serviceaccount:other:bot')));
  // a RoleBinding of a ClusterRole grants it in its namespace only
  t.true(get('/api/v1/namespaces/team/pods', user('jane')));
  t.false(get('/api/v1/namespaces/default/pods', user('jane')));
  t.false(get('/api/v1/pods', user('jane')));
});

test('a binding to a missing role grants nothing', (t) => {
  t.deepEqual(rbacRules(snap, user('jane'), 'team'), [READ_PODS]);
  t.false(rbacAllows(snap, attributesFor('GET', '/api/v1/namespaces/team/secrets', q, user('jane'))));
});

test('coverage: wildcards, subresources and names; the missing parts merged per resource', (t) => {
  t.deepEqual(
    uncovered(
      [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
      [READ_PODS, { verbs: ['delete'], apiGroups: ['apps'], resources: ['deployments/scale'] }],
    ),
    [],
  );
  t.deepEqual(uncovered([{ verbs: ['get'], apiGroups: [''], resources: ['*/status'] }], [{ verbs: ['get'], apiGroups: [''], resources: ['pods/status'] }]), []);
  t.deepEqual(
    uncovered([{ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['a'] }], [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]),
    [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }],
  );
  t.deepEqual(uncovered([READ_PODS], [{ verbs: ['get', 'create', 'delete'], apiGroups: [''], resources: ['pods', 'secrets'] }]), [
    { verbs: ['get', 'create', 'delete'], apiGroups: [''], resources: ['secrets'] },
    { verbs: ['create', 'delete'], apiGroups: [''], resources: ['pods'] },
  ]);
  // a wildcard is only covered by a wildcard
  t.is(uncovered([READ_PODS], [{ verbs: ['*'], apiGroups: [''], resources: ['pods'] }]).length, 1);
  t.deepEqual(uncovered([{ verbs: ['get'], nonResourceURLs: ['/healthz*'] }], [{ verbs: ['get'], nonResourceURLs: ['/healthz/etcd', '/metrics'] }]), [
    { verbs: ['get'], nonResourceURLs: ['/metrics'] },
  ]);
});

test("the escalation message is upstream's", (t) => {
  t.is(
    escalationMessage(user('jane', 'devs'), [
      { verbs: ['delete'], apiGroups: [''], resources: ['pods'] },
      { verbs: ['get'], nonResourceURLs: ['/metrics'] },
    ]),
    'user "jane" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}\n{NonResourceURLs:["/metrics"], Verbs:["get"]}',
  );
});

const role = (name: string, labels: Record<string, string>, rules: PolicyRule[], aggregationRule?: unknown): Obj => ({
  metadata: { name, labels },
  rules,
  ...(aggregationRule ? { aggregationRule } : {}),
});

test('aggregation copies the rules of matching cluster roles, in name order, once each', (t) => {
  const sel = { clusterRoleSelectors: [{ matchLabels: { agg: 'view' } }, { matchExpressions: [{ key: 'extra', operator: 'Exists' }] }] };
  const target = role('view', { agg: 'view' }, [], sel);
  const all = [
    target,
    role('b', { agg: 'view' }, [READ_PODS]),
    role('a', { extra: '' }, [{ verbs: ['get'], apiGroups: [''], resources: ['nodes'] }, READ_PODS]),
    role('c', { agg: 'edit' }, [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]),
  ];
  t.deepEqual(aggregatedRules(target, all), [{ verbs: ['get'], apiGroups: [''], resources: ['nodes'] }, READ_PODS]);
  t.is(aggregatedRules(role('plain', {}, [READ_PODS]), all), undefined);
  t.deepEqual(aggregatedRules(role('none', {}, [READ_PODS], { clusterRoleSelectors: [{ matchLabels: { nothing: 'x' } }] }), all), []);
});

test('validation as upstream: verbs required, nonResourceURLs only in cluster roles, subjects and roleRef checked, roleRef immutable', (t) => {
  const fields = (errs: { field: string; type: string }[]) => errs.map((e) => `${e.field}:${e.type}`);
  t.deepEqual(
    fields(
      roleStrategy.validate!({
        metadata: {},
        rules: [
          { verbs: [], apiGroups: [''], resources: ['pods'] },
          { verbs: ['get'], nonResourceURLs: ['/x'] },
        ],
      }),
    ),
    ['rules[0].verbs:Required', 'rules[1].nonResourceURLs:Invalid'],
  );
  t.deepEqual(fields(clusterRoleStrategy.validate!({ metadata: {}, rules: [{ verbs: ['get'], nonResourceURLs: ['/x'] }, { verbs: ['get'] }] })), [
    'rules[1].apiGroups:Required',
    'rules[1].resources:Required',
  ]);
  const b: Obj = {
    metadata: {},
    roleRef: { kind: 'Role', name: 'r' },
    subjects: [
      { kind: 'User', name: 'u' },
      { kind: 'ServiceAccount', name: 'sa' },
      { kind: 'Robot', name: 'x' },
    ],
  };
  roleBindingStrategy.defaults!(b);
  t.is(b.roleRef.apiGroup, 'rbac.authorization.k8s.io');
  t.is(b.subjects[0].apiGroup, 'rbac.authorization.k8s.io');
  t.deepEqual(fields(roleBindingStrategy.validate!(b)), ['subjects[2].kind:NotSupported']);
  t.deepEqual(fields(clusterRoleBindingStrategy.validate!(b)), [
    'roleRef.kind:NotSupported',
    'subjects[1].namespace:Required',
    'subjects[2].kind:NotSupported',
  ]);
  t.deepEqual(fields(roleBindingStrategy.validateUpdate!({ ...b, roleRef: { ...b.roleRef, name: 'other' } }, b)), ['roleRef:Invalid']);
});

test("the index follows the store: a binding's subjects change, its role goes and comes back", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-rbac-'));
  const store = new SqliteStore(join(dir, 'state.db'));
  const index = new RbacIndex(store);
  t.teardown(async () => {
    index.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const put = (key: string, o: unknown) => store.create(`/registry/rbac.authorization.k8s.io/${key}`, JSON.stringify(o));
  await put('roles/team/r', { rules: [READ_PODS] });
  const b = await put('rolebindings/team/b', { roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'User', name: 'amy' }] });
  await index.start();
  const may = (name: string) => rbacAllows(index, attributesFor('GET', '/api/v1/namespaces/team/pods', q, user(name)));
  t.true(may('amy'));
  t.false(may('ben'));
  await store.update(
    b.key,
    JSON.stringify({
      roleRef: { kind: 'Role', name: 'r' },
      subjects: [
        { kind: 'Group', name: 'system:authenticated' },
        { kind: 'ServiceAccount', name: 'bot' },
      ],
    }),
    b.modRevision,
  );
  const settle = async (ok: () => boolean) => {
    for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
  };
  await settle(() => may('ben'));
  t.true(may('ben'));
  t.true(may('system:serviceaccount:team:bot'));
  // amy was named only by the old subjects: outside system:authenticated she has nothing now
  t.false(rbacAllows(index, attributesFor('GET', '/api/v1/namespaces/team/pods', q, { name: 'amy', groups: [] })));
  const role = await store.get('/registry/rbac.authorization.k8s.io/roles/team/r');
  await store.delete(role!.key);
  await settle(() => !may('ben'));
  t.false(may('ben'));
  await put('roles/team/r', { rules: [READ_PODS] });
  await settle(() => may('ben'));
  t.true(may('ben'));
  t.false(rbacAllows(index, attributesFor('GET', '/api/v1/namespaces/other/pods', q, user('ben'))));
});
