// [sig-auth] API-only conformance tests (issue 15): the ServiceAccount lifecycle (watch, strategic
// merge patch, list across namespaces by label, deletecollection), a ServiceAccount update, and
// SubjectAccessReview / LocalSubjectAccessReview agreeing with what an impersonated request gets,
// as upstream's test/e2e/auth/service_accounts.go and subjectreviews.go do them, through the real
// kubectl v1.35. Nothing runs in a pod; any cluster will do.
import { conformance } from '../conformance/fixture.ts';
import { openWatch } from '../conformance/watch.ts';

const it = conformance('auth-api');
const rand = () => Math.random().toString(36).slice(2, 7);

it('[sig-auth] ServiceAccounts should run through the lifecycle of a ServiceAccount [Conformance]', async (t, c) => {
  const name = 'testserviceaccount';
  const selector = 'test-serviceaccount-static=true';
  const created = JSON.parse(
    c.k.ok(
      ['create', '-o', 'json', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, labels: { 'test-serviceaccount-static': 'true' } } }),
    ),
  );
  t.is(c.k.json(['get', 'serviceaccount', name]).metadata.uid, created.metadata.uid);
  // upstream's watch starts without a resourceVersion, so its first event is the existing ADDED one
  const w = await openWatch(c.env.kubeconfig, `/api/v1/namespaces/${c.ns}/serviceaccounts`, {
    labelSelector: selector,
    timeoutSeconds: '180',
    resourceVersion: '',
  });
  t.teardown(() => w.stop());
  t.deepEqual(
    (await w.next(1)).map((e) => e.type),
    ['ADDED'],
  );
  c.k.ok(['patch', 'serviceaccount', name, '--type=strategic', '-p', JSON.stringify({ automountServiceAccountToken: false })]);
  t.deepEqual(
    (await w.next(1)).map((e) => e.type),
    ['MODIFIED'],
  );
  const listed = c.kc.json(['get', 'serviceaccounts', '-A', '-l', selector]).items as {
    metadata: { name: string; namespace: string };
    automountServiceAccountToken?: boolean;
  }[];
  t.true(
    listed.some((s) => s.metadata.name === name && s.metadata.namespace === c.ns && s.automountServiceAccountToken === false),
    'the patched ServiceAccount is listed by label across namespaces',
  );
  // DeleteCollection of every ServiceAccount in the namespace, as upstream's (default included)
  c.k.ok(['delete', 'serviceaccounts', '--all', '--wait=false']);
  t.deepEqual(
    (await w.next(1)).map((e) => e.type),
    ['DELETED'],
  );
});

it('[sig-auth] ServiceAccounts should update a ServiceAccount [Conformance]', async (t, c) => {
  const name = `e2e-sa-${rand()}`;
  c.k.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name }, automountServiceAccountToken: false });
  t.is(c.k.json(['get', 'serviceaccount', name]).automountServiceAccountToken, false);
  // RetryOnConflict around Get, change, Update
  let updated: { automountServiceAccountToken?: boolean } | undefined;
  for (let i = 0; i < 5 && !updated; i++) {
    const sa = c.k.json(['get', 'serviceaccount', name]);
    sa.automountServiceAccountToken = true;
    const r = c.k.run(['replace', '-f', '-', '-o', 'json'], JSON.stringify(sa));
    if (r.code === 0) updated = JSON.parse(r.stdout);
    else if (!/Conflict|the object has been modified/.test(r.stderr)) throw new Error(r.stderr);
  }
  t.is(updated?.automountServiceAccountToken, true);
});

it('[sig-auth] SubjectReview should support SubjectReview API operations [Conformance]', async (t, c) => {
  const sa = JSON.parse(c.k.ok(['create', 'serviceaccount', 'e2e', '-o', 'json']));
  const user = `system:serviceaccount:${c.ns}:e2e`;
  const groups = ['system:authenticated', 'system:serviceaccounts', `system:serviceaccounts:${c.ns}`];
  const attrs = { verb: 'list', resource: 'configmaps', namespace: c.ns, version: 'v1' };
  const review = (kind: string, spec: object, ns?: string) =>
    JSON.parse(
      c.kc.ok(
        ['create', '--validate=false', '-o', 'json', '-f', '-'],
        JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind, ...(ns ? { metadata: { namespace: ns } } : {}), spec }),
      ),
    );
  const expected = review('SubjectAccessReview', { resourceAttributes: attrs, user, groups, uid: sa.metadata.uid }).status.allowed === true;
  // the same request, made by an impersonating client
  const r = c.k.run(['get', 'configmaps', `--as=${user}`, `--as-uid=${sa.metadata.uid}`, ...groups.map((g) => `--as-group=${g}`)]);
  if (r.code !== 0 && !/Forbidden|forbidden/.test(r.stderr)) t.fail(`unexpected error: ${r.stderr}`);
  const actually = r.code === 0;
  t.is(actually, expected, `SubjectAccessReview allowed ${expected}, the request allowed ${actually}: ${r.stderr}`);
  // upstream's LocalSubjectAccessReview names the user by the bare ServiceAccount name
  const local = review('LocalSubjectAccessReview', { resourceAttributes: attrs, user: 'e2e', groups, uid: sa.metadata.uid }, c.ns);
  t.is(local.status.allowed === true, actually, `LocalSubjectAccessReview allowed ${local.status.allowed}, the request allowed ${actually}`);
});
