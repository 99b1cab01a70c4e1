// [sig-api-machinery] Namespaces: deletion takes the namespace's pods and Services with it (the
// namespace controller and the kubelets), and the Namespace object's patch, update, status and
// finalize operations behave as upstream's conformance tests expect.
import { conformance, Kube, until, waitReady, type Ctx } from '../conformance/fixture.ts';
import { pod, service } from '../conformance/manifests.ts';

const it = conformance('namespaces', { timeoutMs: 240_000 });

/** A second namespace the test owns; removed after the test even if the test fails. */
function extraNamespace(t: { teardown: (f: () => void) => void }, c: Ctx, base: string): string {
  const name = `${base}-${Math.random().toString(36).slice(2, 7)}`;
  c.kc.ok(['create', 'namespace', name]);
  t.teardown(() => {
    c.kc.run(['delete', 'namespace', name, '--wait=false']);
  });
  return name;
}

/** Deletes a namespace and waits until the API no longer has it; the error says where it stuck. */
async function deleteAndWait(c: Ctx, name: string, timeoutMs = 120_000): Promise<number> {
  const t0 = Date.now();
  c.kc.ok(['delete', 'namespace', name, '--wait=false']);
  await until(`namespace ${name} to be removed`, () => c.kc.get('namespace', name) === undefined, timeoutMs, 1000).catch((e) => {
    const ns = c.kc.get('namespace', name);
    const left = c.kc.run(['get', 'all', '-n', name, '-o', 'name']).stdout.trim().replace(/\n/g, ', ');
    throw new Error(
      `${(e as Error).message}: phase ${ns?.status?.phase}, conditions ${JSON.stringify(ns?.status?.conditions ?? [])}, still holding ${left || 'nothing listed'}`,
    );
  });
  return Date.now() - t0;
}

it('[sig-api-machinery] Namespaces [Serial] should ensure that all pods are removed when a namespace is deleted [Conformance]', async (t, c) => {
  const ns = extraNamespace(t, c, 'nsdeletetest');
  c.kc.ok(['create', '-n', ns, '-f', '-'], JSON.stringify(pod('test-pod', c.env.image)));
  await waitReady(new Kube(c.env.kubeconfig, ns), ['test-pod']);
  const ms = await deleteAndWait(c, ns);
  t.log(`namespace with a running pod removed in ${ms} ms`);
  c.kc.ok(['create', 'namespace', ns]);
  t.deepEqual(c.kc.json<any>(['get', 'pods', '-n', ns]).items, [], 'a recreated namespace of the same name has no pods');
});

it('[sig-api-machinery] Namespaces [Serial] should ensure that all services are removed when a namespace is deleted [Conformance]', async (t, c) => {
  const ns = extraNamespace(t, c, 'nsdeletetest');
  c.kc.ok(['create', '-n', ns, '-f', '-'], JSON.stringify(service('test-service', { selector: { foo: 'bar' } })));
  await deleteAndWait(c, ns);
  c.kc.ok(['create', 'namespace', ns]);
  t.deepEqual(c.kc.json<any>(['get', 'services', '-n', ns]).items, [], 'a recreated namespace of the same name has no Services');
});

it('[sig-api-machinery] Namespaces [Serial] should patch a Namespace [Conformance]', (t, c) => {
  c.kc.ok(['patch', 'namespace', c.ns, '--type=merge', '-p', '{"metadata":{"labels":{"testLabel":"testValue"}}}']);
  t.is(c.kc.json<any>(['get', 'namespace', c.ns]).metadata.labels.testLabel, 'testValue');
});

it('[sig-api-machinery] Namespaces [Serial] should apply an update to a Namespace [Conformance]', (t, c) => {
  const ns = c.kc.json<any>(['get', 'namespace', c.ns]);
  ns.metadata.labels = { ...(ns.metadata.labels ?? {}), 'e2e-Namespace': 'updated' };
  c.kc.ok(['replace', '-f', '-'], JSON.stringify(ns));
  t.is(c.kc.json<any>(['get', 'namespace', c.ns]).metadata.labels['e2e-Namespace'], 'updated');
});

it('[sig-api-machinery] Namespaces [Serial] should apply changes to a namespace status [Conformance]', (t, c) => {
  const st = c.kc.json<any>(['get', 'namespace', c.ns, '--subresource=status']);
  t.is(st.status.phase, 'Active');
  const cond = (reason: string, message: string) => ({ type: 'StatusUpdate', status: 'True', reason, message, lastTransitionTime: null });
  c.kc.ok([
    'patch',
    'namespace',
    c.ns,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { conditions: [cond('E2E', 'Patched by an e2e test')] } }),
  ]);
  let got = c.kc.json<any>(['get', 'namespace', c.ns]);
  t.is(got.status.conditions?.find((x: any) => x.type === 'StatusUpdate')?.message, 'Patched by an e2e test', 'patched status');
  got.status.conditions = [cond('E2E', 'Updated by an e2e test')];
  c.kc.ok(['replace', '--subresource=status', '-f', '-'], JSON.stringify(got));
  got = c.kc.json<any>(['get', 'namespace', c.ns]);
  t.is(got.status.conditions?.find((x: any) => x.type === 'StatusUpdate')?.message, 'Updated by an e2e test', 'updated status');
  t.is(got.status.phase, 'Active');
});

it('[sig-api-machinery] Namespaces [Serial] should apply a finalizer to a Namespace [Conformance]', (t, c) => {
  const ns = c.kc.json<any>(['get', 'namespace', c.ns]);
  const fake = 'e2e.example.com/fakeFinalizer';
  ns.spec.finalizers = [...(ns.spec.finalizers ?? []), fake];
  c.kc.ok(['replace', '--raw', `/api/v1/namespaces/${c.ns}/finalize`, '-f', '-'], JSON.stringify(ns));
  const withIt = c.kc.json<any>(['get', 'namespace', c.ns]);
  t.true(withIt.spec.finalizers.includes(fake), `finalizers ${JSON.stringify(withIt.spec.finalizers)}`);
  withIt.spec.finalizers = withIt.spec.finalizers.filter((f: string) => f !== fake);
  c.kc.ok(['replace', '--raw', `/api/v1/namespaces/${c.ns}/finalize`, '-f', '-'], JSON.stringify(withIt));
  t.false(c.kc.json<any>(['get', 'namespace', c.ns]).spec.finalizers.includes(fake), 'removed again');
});
