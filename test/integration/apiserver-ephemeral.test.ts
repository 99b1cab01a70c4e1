// pods/ephemeralcontainers against a real API server and the real kubectl v1.35: `kubectl debug`
// adds a debugging container (kubectl crashed with a nil pointer while the subresource was not
// served), GET/PUT/PATCH as upstream, upstream's validation with field causes (unique names,
// existing target, no ports/probes/resources, only additions), and authorization on the
// subresource itself.
import test from 'ava';
import type { Cluster } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { rawClient, type RawClient } from './_https.ts';

const NS = 'eph';
let c: Cluster;
let admin: RawClient;
const POD = `/api/v1/namespaces/${NS}/pods/web`;
const SUB = `${POD}/ephemeralcontainers`;
const SMP = 'application/strategic-merge-patch+json';

fileCluster(async (cluster, own) => {
  c = cluster;
  admin = own(rawClient(c.admin));
  await c.ok(['create', 'namespace', NS]);
  await c.ok(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: NS },
      spec: { containers: [{ name: 'app', image: 'registry.hawser.local/app:1' }], initContainers: [{ name: 'init', image: 'registry.hawser.local/app:1' }] },
    }),
  });
});

const debugger1 = { name: 'dbg', image: 'registry.hawser.local/debian:12', targetContainerName: 'app', stdin: true, tty: true };

test.serial('kubectl debug adds an ephemeral container targeting a container; GET on the subresource returns the Pod', async (t) => {
  const out = await c.kubectl(['debug', 'web', '-n', NS, '--image=registry.hawser.local/debian:12', '--target=app', '--container=kdebug']);
  t.is(out.code, 0, out.stderr);
  const r = await admin.request('GET', SUB);
  t.is(r.status, 200);
  t.is(r.body.kind, 'Pod');
  t.like(r.body.spec.ephemeralContainers[0], {
    name: 'kdebug',
    image: 'registry.hawser.local/debian:12',
    targetContainerName: 'app',
    terminationMessagePolicy: 'File',
  });
});

test.serial('a strategic merge patch adds another; existing ones may be neither changed nor removed', async (t) => {
  const add = await admin.request('PATCH', SUB, { spec: { ephemeralContainers: [debugger1] } }, SMP);
  t.is(add.status, 200, JSON.stringify(add.body));
  t.deepEqual(add.body.spec.ephemeralContainers.map((e: { name: string }) => e.name).sort(), ['dbg', 'kdebug']);
  // other changes through the subresource are dropped, as upstream's dropNonEphemeralContainerUpdates
  const pod = (await admin.request('GET', POD)).body;
  pod.spec.containers[0].image = 'registry.hawser.local/app:2';
  pod.spec.ephemeralContainers = pod.spec.ephemeralContainers.filter((e: { name: string }) => e.name !== 'kdebug');
  const removed = await admin.request('PUT', SUB, pod);
  t.is(removed.status, 422);
  t.like(removed.body, {
    reason: 'Invalid',
    details: {
      name: 'web',
      kind: 'Pod',
      causes: [
        { reason: 'FieldValueForbidden', field: 'spec.ephemeralContainers', message: 'Forbidden: existing ephemeral containers "kdebug" may not be removed\n' },
      ],
    },
  });
  const changed = await admin.request('PATCH', SUB, { spec: { ephemeralContainers: [{ name: 'dbg', image: 'registry.hawser.local/other:1' }] } }, SMP);
  t.is(changed.status, 422);
  t.is(changed.body.details.causes[0].field, 'spec.ephemeralContainers[dbg]');
  t.regex(changed.body.details.causes[0].message, /^Forbidden: existing ephemeral containers "dbg" may not be changed/);
  const cur = (await admin.request('GET', POD)).body;
  t.is(cur.spec.containers[0].image, 'registry.hawser.local/app:1');
});

test.serial('validation: unique names across all containers, an existing non-ephemeral target, no ports/probes/resources', async (t) => {
  const r = await admin.request(
    'PATCH',
    SUB,
    {
      spec: {
        ephemeralContainers: [
          { name: 'app', image: 'x' },
          {
            name: 'e2',
            image: 'x',
            targetContainerName: 'nope',
            ports: [{ containerPort: 80 }],
            readinessProbe: { exec: { command: ['true'] } },
            resources: { limits: { cpu: '1' } },
          },
          { name: 'e3', image: 'x', targetContainerName: 'dbg' },
        ],
      },
    },
    SMP,
  );
  t.is(r.status, 422);
  // the patch merges by name and, as upstream orders a merged list, the patch's new elements come
  // first (kdebug and dbg, server-only, follow them): indexes 0, 1, 2
  const causes = r.body.details.causes.map((x: { reason: string; field: string }) => `${x.reason} ${x.field}`);
  for (const want of [
    'FieldValueDuplicate spec.ephemeralContainers[0].name',
    'FieldValueNotFound spec.ephemeralContainers[1].targetContainerName',
    'FieldValueForbidden spec.ephemeralContainers[1].ports',
    'FieldValueForbidden spec.ephemeralContainers[1].resources',
    'FieldValueForbidden spec.ephemeralContainers[1].readinessProbe',
    'FieldValueNotFound spec.ephemeralContainers[2].targetContainerName',
  ])
    t.true(causes.includes(want), `${want} in ${JSON.stringify(causes)}`);
  t.true(r.body.details.causes.some((x: { message: string }) => x.message === 'Forbidden: cannot be set for an Ephemeral Container'));
});

test.serial('a Pod cannot be created with ephemeral containers, nor get them through a plain update; POST on the subresource is 405', async (t) => {
  const create = await admin.request('POST', `/api/v1/namespaces/${NS}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p2' },
    spec: { containers: [{ name: 'a', image: 'x' }], ephemeralContainers: [{ name: 'e', image: 'x' }] },
  });
  t.is(create.status, 422);
  t.like(create.body.details.causes[0], { reason: 'FieldValueForbidden', field: 'spec.ephemeralContainers', message: 'Forbidden: cannot be set on create' });
  const pod = (await admin.request('GET', POD)).body;
  pod.spec.ephemeralContainers.push({ name: 'sneaky', image: 'x' });
  const put = await admin.request('PUT', POD, pod);
  t.is(put.status, 422);
  t.is(put.body.details.causes[0].field, 'spec');
  t.is((await admin.request('POST', SUB, pod)).status, 405);
});

test.serial('the subresource is authorized on its own: patching pods does not grant pods/ephemeralcontainers', async (t) => {
  const jane = await c.identity('jane', []);
  await c.ok(['create', 'role', 'pod-editor', '-n', NS, '--verb=get,patch,update', '--resource=pods']);
  await c.ok(['create', 'rolebinding', 'jane-edits', '-n', NS, '--role=pod-editor', '--user=jane']);
  const client = rawClient(jane);
  t.teardown(() => client.close());
  let r = await client.request('PATCH', SUB, { spec: { ephemeralContainers: [{ name: 'j', image: 'x' }] } }, SMP);
  for (let i = 0; i < 30 && r.status === 403 && !String(r.body.message).includes('pods/ephemeralcontainers'); i++) {
    await new Promise((res) => setTimeout(res, 100));
    r = await client.request('PATCH', SUB, { spec: { ephemeralContainers: [{ name: 'j', image: 'x' }] } }, SMP);
  }
  t.is(r.status, 403);
  t.is(r.body.message, `pods "web" is forbidden: User "jane" cannot patch resource "pods/ephemeralcontainers" in API group "" in the namespace "${NS}"`);
});
