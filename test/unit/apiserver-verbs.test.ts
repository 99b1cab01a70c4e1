// The verb handlers (agents/control-plane/apiserver/verbs/) through the transport-independent
// handler on a real SQLite store: the strategy hooks that replace per-resource special cases.
import test, { type ExecutionContext } from 'ava';
import { sqliteApi } from '../support/sqlite-api.ts';

const setup = async (t: ExecutionContext) => (await sqliteApi(t)).c;

test('delete: a removed pod answers with the Pod (returnDeletedObject), a removed ConfigMap with a Success Status', async (t) => {
  const c = await setup(t);
  // unbound: nothing waits for a kubelet, so the pod is removed at once
  await c.create('/api/v1/namespaces/default/pods', { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } });
  const pod: any = await c.request('DELETE', '/api/v1/namespaces/default/pods/p');
  t.like(pod, { kind: 'Pod', metadata: { name: 'p' } });
  await c.create('/api/v1/namespaces/default/configmaps', { metadata: { name: 'm' } });
  const cm: any = await c.request('DELETE', '/api/v1/namespaces/default/configmaps/m');
  t.like(cm, { kind: 'Status', status: 'Success', details: { name: 'm', kind: 'configmaps' } });
});

test('delete: a namespace answers with the Namespace, Terminating', async (t) => {
  const c = await setup(t);
  await c.create('/api/v1/namespaces', { metadata: { name: 'gone' } });
  const ns: any = await c.request('DELETE', '/api/v1/namespaces/gone');
  t.like(ns, { kind: 'Namespace', metadata: { name: 'gone' }, status: { phase: 'Terminating' } });
});

test('create on pods/binding goes to the binding handler: the pod is bound, a Success Status with code 201', async (t) => {
  const c = await setup(t);
  await c.create('/api/v1/namespaces/default/pods', { metadata: { name: 'b' }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } });
  const r: any = await c.request('POST', '/api/v1/namespaces/default/pods/b/binding', {
    body: { metadata: { name: 'b' }, target: { kind: 'Node', name: 'n1' } },
  });
  t.like(r, { kind: 'Status', status: 'Success', code: 201 });
  t.is(((await c.get('/api/v1/namespaces/default/pods/b')) as any).spec.nodeName, 'n1');
});
