// Custom objects through the two clients other than kubectl that users point at hawser:
// @kubernetes/client-node's CustomObjectsApi and Debian's python3-kubernetes CustomObjectsApi
// create, get, list and merge-patch an object of a CRD, and see a schema violation refused.
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { clientNode, type Cluster, until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';

let c: Cluster;
fileCluster(async (cluster) => {
  c = cluster;
  await c.ok(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.clients.example.com' },
      spec: {
        group: 'clients.example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer', maximum: 10 } } } } } },
          },
        ],
      },
    }),
  });
  await until('the Widget CRD is served', async () => (await c.kubectl(['get', 'widgets'])).code === 0, 30_000);
});

const G = 'clients.example.com';

test('@kubernetes/client-node: create, get, list and merge-patch a custom object; a schema violation is a 422', async (t) => {
  const k8s = await clientNode();
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(c.admin);
  const api = kc.makeApiClient(k8s.CustomObjectsApi);
  const base = { group: G, version: 'v1', namespace: 'default', plural: 'widgets' };
  await api.createNamespacedCustomObject({ ...base, body: { apiVersion: `${G}/v1`, kind: 'Widget', metadata: { name: 'js' }, spec: { size: 3 } } });
  t.like(await api.getNamespacedCustomObject({ ...base, name: 'js' }), { spec: { size: 3 } });
  const list = (await api.listNamespacedCustomObject(base)) as { items: { metadata: { name: string } }[] };
  t.true(list.items.some((i) => i.metadata.name === 'js'));
  const patched = await api.patchNamespacedCustomObject(
    { ...base, name: 'js', body: { spec: { size: 4 } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  t.like(patched, { spec: { size: 4 } });
  const e = await t.throwsAsync(
    api.createNamespacedCustomObject({ ...base, body: { apiVersion: `${G}/v1`, kind: 'Widget', metadata: { name: 'big' }, spec: { size: 11 } } }),
  );
  t.regex(String(e?.message), /422/);
  t.regex(String(e?.message), /spec\.size/);
});

test('python3-kubernetes: create, get, list and merge-patch a custom object; a schema violation is a 422', async (t) => {
  const script = `
import sys, json
from kubernetes import client, config
from kubernetes.client.rest import ApiException
config.load_kube_config(sys.argv[1])
api = client.CustomObjectsApi()
g, v, ns, p = 'clients.example.com', 'v1', 'default', 'widgets'
api.create_namespaced_custom_object(g, v, ns, p, {'apiVersion': g + '/v1', 'kind': 'Widget', 'metadata': {'name': 'py'}, 'spec': {'size': 5}})
got = api.get_namespaced_custom_object(g, v, ns, p, 'py')
names = [i['metadata']['name'] for i in api.list_namespaced_custom_object(g, v, ns, p)['items']]
patched = api.patch_namespaced_custom_object(g, v, ns, p, 'py', {'spec': {'size': 6}})
try:
    api.create_namespaced_custom_object(g, v, ns, p, {'apiVersion': g + '/v1', 'kind': 'Widget', 'metadata': {'name': 'huge'}, 'spec': {'size': 99}})
    bad = None
except ApiException as e:
    bad = {'status': e.status, 'body': json.loads(e.body)}
print(json.dumps({'got': got['spec'], 'names': names, 'patched': patched['spec'], 'bad': bad}))
`;
  const { stdout } = await promisify(execFile)('/usr/bin/python3', ['-W', 'ignore', '-c', script, c.admin], { timeout: 60_000 });
  const r = JSON.parse(stdout.trim().split('\n').pop()!);
  t.deepEqual(r.got, { size: 5 });
  t.true(r.names.includes('py'));
  t.deepEqual(r.patched, { size: 6 });
  t.is(r.bad?.status, 422);
  t.like(r.bad?.body, { kind: 'Status', reason: 'Invalid' });
  t.true(JSON.stringify(r.bad?.body.details.causes).includes('spec.size'));
});
