// ConfigMaps and Secrets as API objects: lifecycle, label-selected collections, key validation and
// immutability. Upstream files these under [sig-node] and [sig-storage] (their names are kept
// exactly); they exercise only the API server, so they live with the API machinery tests here.
import { conformance, until } from '../conformance/fixture.ts';
import { configMap } from '../conformance/manifests.ts';

const it = conformance('configs');
const b64 = (s: string) => Buffer.from(s).toString('base64');
const secret = (name: string, data: Record<string, string>, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, labels },
  type: 'Opaque',
  data,
});

it('[sig-node] ConfigMap should run through a ConfigMap lifecycle [Conformance]', async (t, c) => {
  c.k.create(configMap('e2e-configmap', { valueName: 'value' }, { 'test-configmap-static': 'true' }));
  c.k.ok(['patch', 'configmap', 'e2e-configmap', '--type=merge', '-p', '{"metadata":{"labels":{"test-configmap":"patched"}},"data":{"valueName":"value1"}}']);
  const got = c.k.json<any>(['get', 'configmap', 'e2e-configmap']);
  t.is(got.data.valueName, 'value1');
  t.is(got.metadata.labels['test-configmap'], 'patched');
  const all = c.kc.json<any>(['get', 'configmaps', '-A', '-l', 'test-configmap-static=true']).items as any[];
  const mine = all.find((x) => x.metadata.namespace === c.ns && x.metadata.name === 'e2e-configmap');
  t.is(mine?.data?.valueName, 'value1', 'found by its static label across namespaces, with the patched value');
  c.k.ok(['delete', 'configmaps', '-l', 'test-configmap-static=true']);
  await until('the collection to be deleted', () => c.k.get('configmap', 'e2e-configmap') === undefined, 10_000);
  t.pass();
});

it('[sig-node] ConfigMap should fail to create ConfigMap with empty key [Conformance]', (t, c) => {
  const r = c.k.run(['create', '-f', '-'], JSON.stringify(configMap('configmap-test-emptykey', { '': 'value-1' })));
  t.not(r.code, 0, 'an empty key is refused');
  t.regex(r.stderr, /Invalid|data\[\]|valid config key/i);
  t.is(c.k.get('configmap', 'configmap-test-emptykey'), undefined);
});

it('[sig-node] Secrets should patch a secret [Conformance]', async (t, c) => {
  c.k.create(secret('e2e-secret', { key: b64('value') }, { testsecret: 'true' }));
  const listed = c.kc.json<any>(['get', 'secrets', '-A', '-l', 'testsecret=true']).items as any[];
  t.true(listed.some((s) => s.metadata.name === 'e2e-secret' && s.metadata.namespace === c.ns));
  c.k.ok([
    'patch',
    'secret',
    'e2e-secret',
    '--type=merge',
    '-p',
    JSON.stringify({ metadata: { labels: { testsecret: 'true' } }, data: { key: b64('value1') } }),
  ]);
  t.is(Buffer.from(c.k.json<any>(['get', 'secret', 'e2e-secret']).data.key, 'base64').toString(), 'value1');
  c.k.ok(['delete', 'secrets', '-l', 'testsecret=true']);
  await until('the labelled secrets to be deleted', () => (c.k.json<any>(['get', 'secrets', '-l', 'testsecret=true']).items as any[]).length === 0, 10_000);
  t.pass();
});

it('[sig-node] Secrets should fail to create secret due to empty secret key [Conformance]', (t, c) => {
  const r = c.k.run(['create', '-f', '-'], JSON.stringify(secret('secret-emptykey-test', { '': b64('value-1') })));
  t.not(r.code, 0, 'an empty key is refused');
  t.is(c.k.get('secret', 'secret-emptykey-test'), undefined);
});

it('[sig-storage] ConfigMap should be immutable if `immutable` field is set [Conformance]', (t, c) => {
  c.k.create(configMap('immutable', { data: 'value' }));
  c.k.ok(['patch', 'configmap', 'immutable', '--type=merge', '-p', '{"data":{"data":"value2"}}']);
  c.k.ok(['patch', 'configmap', 'immutable', '--type=merge', '-p', '{"immutable":true}']);
  const r1 = c.k.run(['patch', 'configmap', 'immutable', '--type=merge', '-p', '{"data":{"data":"value3"}}']);
  t.not(r1.code, 0, 'data of an immutable ConfigMap cannot change');
  t.regex(r1.stderr, /immutable|Forbidden|Invalid/i);
  t.not(c.k.run(['patch', 'configmap', 'immutable', '--type=merge', '-p', '{"immutable":false}']).code, 0, 'immutable cannot be unset');
  c.k.ok(['label', 'configmap', 'immutable', 'label1=value1']);
  t.is(c.k.json<any>(['get', 'configmap', 'immutable']).data.data, 'value2');
  c.k.ok(['delete', 'configmap', 'immutable']);
  t.is(c.k.get('configmap', 'immutable'), undefined);
});

it('[sig-storage] Secrets should be immutable if `immutable` field is set [Conformance]', (t, c) => {
  c.k.create(secret('immutable', { data: b64('value') }));
  c.k.ok(['patch', 'secret', 'immutable', '--type=merge', '-p', JSON.stringify({ data: { data: b64('value2') } })]);
  c.k.ok(['patch', 'secret', 'immutable', '--type=merge', '-p', '{"immutable":true}']);
  t.not(
    c.k.run(['patch', 'secret', 'immutable', '--type=merge', '-p', JSON.stringify({ data: { data: b64('value3') } })]).code,
    0,
    'data of an immutable Secret cannot change',
  );
  t.not(c.k.run(['patch', 'secret', 'immutable', '--type=merge', '-p', '{"immutable":false}']).code, 0, 'immutable cannot be unset');
  c.k.ok(['label', 'secret', 'immutable', 'label1=value1']);
  t.is(Buffer.from(c.k.json<any>(['get', 'secret', 'immutable']).data.data, 'base64').toString(), 'value2');
  c.k.ok(['delete', 'secret', 'immutable']);
  t.is(c.k.get('secret', 'immutable'), undefined);
});
