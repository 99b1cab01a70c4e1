// Issue #24 finding 2: integers past their schema format (int32/int64) or with a fraction are
// refused while decoding, as Go's typed decoder refuses them, on every write path: create, update,
// each patch type, server-side apply and the scale subresource. Nothing is stored after the 4xx.
import test from 'ava';
import type { Cluster } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { type RawClient, rawClient } from './_https.ts';

let c: Cluster;
let api: RawClient;
fileCluster((cluster, own) => {
  c = cluster;
  api = own(rawClient(c.admin));
});

const DEPLOYS = '/apis/apps/v1/namespaces/default/deployments';
const PODS = '/api/v1/namespaces/default/pods';
const template = '{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"img"}]}}';
const deployment = (name: string, replicas: string) =>
  `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"${name}"},"spec":{"replicas":${replicas},"selector":{"matchLabels":{"app":"x"}},"template":${template}}}`;
const goError = (kind: string, literal: string, field: string, type: string) =>
  `${kind} in version "v1" cannot be handled as a ${kind}: json: cannot unmarshal number ${literal} into Go struct field ${field} of type ${type}`;

// Go echoes the literal as sent; after JSON.parse only the value is left, printed as JavaScript does
for (const [literal, shown] of [
  ['1e20', '100000000000000000000'],
  ['1e21', '1e21'],
  ['2147483648', '2147483648'],
  ['-2147483649', '-2147483649'],
  ['1.5', '1.5'],
]) {
  test.serial(`create of a Deployment with replicas ${literal} is a 400 naming the int32 field, and nothing is stored`, async (t) => {
    const name = `big-${literal.replace(/[^0-9a-z]/g, '-')}`.replace(/-+$/, '');
    const r = await api.request('POST', DEPLOYS, deployment(name, literal));
    t.is(r.status, 400, JSON.stringify(r.body));
    t.is(r.body.reason, 'BadRequest');
    t.is(r.body.message, goError('Deployment', shown, 'DeploymentSpec.spec.replicas', 'int32'));
    t.is((await api.request('GET', `${DEPLOYS}/${name}`)).status, 404);
  });
}

test.serial('int32 inside lists and int64 fields (also list elements) are bounded by their formats', async (t) => {
  const pod = (spec: string) => `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":${spec}}`;
  const port = await api.request('POST', PODS, pod('{"containers":[{"name":"c","image":"i","ports":[{"containerPort":4294967296}]}]}'));
  t.is(port.status, 400);
  t.is(port.body.message, goError('Pod', '4294967296', 'ContainerPort.spec.containers.ports.containerPort', 'int32'));
  const deadline = await api.request('POST', PODS, pod('{"activeDeadlineSeconds":1e19,"containers":[{"name":"c","image":"i"}]}'));
  t.is(deadline.status, 400);
  t.is(deadline.body.message, goError('Pod', '10000000000000000000', 'PodSpec.spec.activeDeadlineSeconds', 'int64'));
  const groups = await api.request('POST', PODS, pod('{"securityContext":{"supplementalGroups":[1,2.5]},"containers":[{"name":"c","image":"i"}]}'));
  t.is(groups.status, 400);
  t.is(groups.body.message, goError('Pod', '2.5', 'PodSecurityContext.spec.securityContext.supplementalGroups', 'int64'));
  // the largest int32 and a large int64 are fine
  const okPod = await api.request(
    'POST',
    PODS,
    pod('{"terminationGracePeriodSeconds":9007199254740991,"containers":[{"name":"c","image":"i","ports":[{"containerPort":65535}]}]}'),
  );
  t.is(okPod.status, 201, JSON.stringify(okPod.body));
  t.is(okPod.body.spec.terminationGracePeriodSeconds, 9007199254740991);
  await api.request('DELETE', `${PODS}/p?gracePeriodSeconds=0`);
});

test.serial('update, every patch type, apply and scale refuse an out-of-range replicas and leave the stored object alone', async (t) => {
  const made = await api.request('POST', DEPLOYS, deployment('keep', '2'));
  t.is(made.status, 201, JSON.stringify(made.body));
  const path = `${DEPLOYS}/keep`;
  const before = (await api.request('GET', path)).body;
  const put = await api.request(
    'PUT',
    path,
    JSON.stringify({ ...before, spec: { ...before.spec, replicas: 0 } }).replace('"replicas":0', '"replicas":2147483648'),
  );
  t.is(put.status, 400, JSON.stringify(put.body));
  t.is(put.body.message, goError('Deployment', '2147483648', 'DeploymentSpec.spec.replicas', 'int32'));
  const patches: [string, string][] = [
    ['application/merge-patch+json', '{"spec":{"replicas":1e20}}'],
    ['application/strategic-merge-patch+json', '{"spec":{"replicas":2147483648}}'],
    ['application/json-patch+json', '[{"op":"replace","path":"/spec/replicas","value":1.5}]'],
  ];
  for (const [type, body] of patches) {
    const r = await api.request('PATCH', path, body, type);
    t.true(r.status >= 400 && r.status < 500, `${type}: ${r.status}`);
    t.regex(r.body.message, /cannot unmarshal number .* into Go struct field DeploymentSpec\.spec\.replicas of type int32/, type);
  }
  const apply = await api.request(
    'PATCH',
    `${path}?fieldManager=t&force=true`,
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: keep\nspec:\n  replicas: 3000000000\n',
    'application/apply-patch+yaml',
  );
  t.true(apply.status >= 400 && apply.status < 500, `apply: ${apply.status}`);
  const scale = await api.request(
    'PUT',
    `${path}/scale`,
    '{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"keep"},"spec":{"replicas":2147483648}}',
  );
  t.is(scale.status, 400);
  t.regex(scale.body.message, /cannot unmarshal number 2147483648 into Go struct field ScaleSpec\.spec\.replicas of type int32/);
  const after = (await api.request('GET', path)).body;
  t.is(after.spec.replicas, 2);
  // the controllers write the Deployment's status meanwhile, so compare what a refused write would
  // have changed (spec, and with it generation), not the resourceVersion
  t.deepEqual(after.spec, before.spec);
  t.is(after.metadata.generation, before.metadata.generation);
  await api.request('DELETE', path);
});
