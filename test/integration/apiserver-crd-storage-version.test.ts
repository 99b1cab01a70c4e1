// A CRD whose storage version changes (conversion None): objects stay stored in the version they
// were written in, and every served version reads them in its own apiVersion, the new storage
// version included, on get, list, watch and patch (upstream's "should mutate custom resource with
// different stored version" patches such an object through the new storage version).
import test from 'ava';
import { type Cluster, until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { rawClient, type RawClient } from './_https.ts';

let c: Cluster;
let api: RawClient;

fileCluster((cluster, own) => {
  c = cluster;
  api = own(rawClient(c.admin, 15_000));
});

const CRD = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const version = (name: string, storage: boolean) => ({
  name,
  served: true,
  storage,
  schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
});
const base = (v: string) => `/apis/stores.example.com/${v}/namespaces/default/gadgets`;

test.serial('objects stored in the former storage version read in the new storage version: get, list, watch and JSON patch', async (t) => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'gadgets.stores.example.com' },
    spec: {
      group: 'stores.example.com',
      scope: 'Namespaced',
      names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
      versions: [version('v1', true), version('v2', false)],
    },
  };
  const made = await api.request('POST', CRD, crd);
  t.is(made.status, 201, made.text);
  t.teardown(async () => {
    await api.request('DELETE', `${CRD}/gadgets.stores.example.com`);
  });
  await until('v1 served', async () => (await api.request('GET', base('v1'))).status === 200);
  const created = await api.request('POST', base('v1'), { apiVersion: 'stores.example.com/v1', kind: 'Gadget', metadata: { name: 'g1' }, data: { a: 'b' } });
  t.is(created.status, 201, created.text);
  // v2 becomes the storage version; g1 stays stored as v1
  const cur = (await api.request('GET', `${CRD}/gadgets.stores.example.com`)).body;
  cur.spec.versions = [version('v1', false), version('v2', true)];
  const put = await api.request('PUT', `${CRD}/gadgets.stores.example.com`, cur);
  t.is(put.status, 200, put.text);
  t.deepEqual(put.body.status.storedVersions, ['v1', 'v2']);
  const got = await until('v2 is served as the storage version', async () => {
    const r = await api.request('GET', `${base('v2')}/g1`);
    return r.status === 200 ? r : undefined;
  });
  t.is(got.body.apiVersion, 'stores.example.com/v2');
  const list = await api.request('GET', base('v2'));
  t.deepEqual(
    list.body.items.map((i: { apiVersion: string }) => i.apiVersion),
    ['stores.example.com/v2'],
  );
  const watch = await api.request('GET', `${base('v2')}?watch=true&timeoutSeconds=1`);
  t.is(JSON.parse(watch.text.split('\n')[0]).object.apiVersion, 'stores.example.com/v2');
  const patched = await api.request('PATCH', `${base('v2')}/g1`, [{ op: 'add', path: '/dummy', value: 'test' }], 'application/json-patch+json');
  t.is(patched.status, 200, patched.text);
  t.is(patched.body.apiVersion, 'stores.example.com/v2');
  t.is(patched.body.dummy, 'test');
  t.deepEqual(patched.body.data, { a: 'b' });
  // and v1 reads the object now stored as v2 in its own apiVersion
  t.is((await api.request('GET', `${base('v1')}/g1`)).body.apiVersion, 'stores.example.com/v1');
});
