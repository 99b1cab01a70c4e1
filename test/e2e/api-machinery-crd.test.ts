// [sig-api-machinery] CustomResourceDefinitions, mirroring upstream's custom_resource_definition.go
// and crd_selectable_fields.go: CRDs made as upstream's fixtures make them (a random name in
// mygroup.example.com, one version v1beta1, a schema that keeps unknown fields), created, listed by
// label, deleted one by one and as a collection, their status read, updated and patched, found in
// discovery, and their objects defaulted on write and from storage.
import { conformance, until, type Kube } from '../conformance/fixture.ts';
import { schemaFoo, schemaWaldo } from './helpers/crd-publish-schemas.ts';

const it = conformance('crd');
const GROUP = 'mygroup.example.com';

/** upstream fixtures.NewRandomNameV1CustomResourceDefinition */
function randomCRD(
  scope: 'Cluster' | 'Namespaced',
  schema: Record<string, unknown> = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  extra: Record<string, unknown> = {},
): any {
  const base = `e2e-test-crd-${Math.random().toString(36).slice(2, 8)}`;
  const plural = `${base}s`;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope,
      names: { plural, singular: base, kind: `E2e${base.replace(/-/g, '')}`, listKind: `E2e${base.replace(/-/g, '')}List` },
      versions: [{ name: 'v1beta1', served: true, storage: true, schema: { openAPIV3Schema: schema }, ...extra }],
    },
  };
}

/** upstream CreateNewV1CustomResourceDefinitionWatchUnsafe: create, then wait until the resource is served */
async function createCRD(kc: Kube, crd: any): Promise<any> {
  kc.create(crd);
  await until(`${crd.metadata.name} served`, () => kc.run(['get', '--raw', `/apis/${GROUP}/v1beta1/${crd.spec.names.plural}`]).code === 0, 30_000);
  return kc.json(['get', 'crd', crd.metadata.name]);
}

async function deleteCRD(kc: Kube, name: string): Promise<void> {
  kc.ok(['delete', 'crd', name]);
  await until(`${name} gone`, () => kc.get('crd', name) === undefined, 30_000);
}

it('[sig-api-machinery] CustomResourceDefinition resources [Privileged:ClusterAdmin] Simple CustomResourceDefinition creating/deleting custom resource definition objects works [Conformance]', async (t, c) => {
  const crd = await createCRD(c.kc, randomCRD('Cluster'));
  t.is(crd.metadata.name, `${crd.spec.names.plural}.${GROUP}`);
  await deleteCRD(c.kc, crd.metadata.name);
  t.is(c.kc.run(['get', '--raw', `/apis/${GROUP}/v1beta1/${crd.spec.names.plural}`]).code, 1, 'no longer served');
});

it('[sig-api-machinery] CustomResourceDefinition resources [Privileged:ClusterAdmin] Simple CustomResourceDefinition listing custom resource definition objects works [Conformance]', async (t, c) => {
  const uuid = Math.random().toString(36).slice(2, 10);
  const made: any[] = [];
  for (let i = 0; i < 10; i++) {
    const crd = randomCRD('Cluster');
    crd.metadata.labels = { 'e2e-list-test-uuid': uuid };
    made.push(await createCRD(c.kc, crd));
  }
  const other = await createCRD(c.kc, randomCRD('Cluster'));
  try {
    const list = c.kc.json(['get', 'crds', '-l', `e2e-list-test-uuid=${uuid}`]).items as any[];
    t.is(list.length, 10);
    for (const actual of list) t.deepEqual(actual.spec, made.find((m) => m.metadata.name === actual.metadata.name)?.spec);
    c.kc.ok(['delete', 'crds', '-l', `e2e-list-test-uuid=${uuid}`]);
    t.truthy(c.kc.get('crd', other.metadata.name), 'the unlabelled CRD remains');
  } finally {
    await deleteCRD(c.kc, other.metadata.name);
  }
});

it('[sig-api-machinery] CustomResourceDefinition resources [Privileged:ClusterAdmin] Simple CustomResourceDefinition getting/updating/patching custom resource definition status sub-resource works [Conformance]', async (t, c) => {
  const crd = await createCRD(c.kc, randomCRD('Cluster'));
  try {
    const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}/status`;
    let updated: any;
    for (let attempt = 0; attempt < 5 && !updated; attempt++) {
      const status = JSON.parse(c.kc.ok(['get', '--raw', path]));
      t.deepEqual(status.spec, crd.spec, 'the status subresource shows the spec');
      status.status.conditions = [...(status.status.conditions ?? []), { message: 'updated' }];
      const r = c.kc.run(['replace', '--subresource=status', '-f', '-', '-o', 'json'], JSON.stringify(status));
      if (r.code === 0) updated = JSON.parse(r.stdout);
      else if (!/Conflict|modified/.test(r.stderr)) throw new Error(r.stderr);
    }
    t.true(updated.status.conditions.some((x: any) => x.message === 'updated' && !x.type));
    const patched = c.kc.json([
      'patch',
      'crd',
      crd.metadata.name,
      '--subresource=status',
      '--type=json',
      '-p',
      '[{"op": "add", "path": "/status/conditions", "value": [{"message": "patched"}]}]',
    ]);
    t.true(patched.status.conditions.some((x: any) => x.message === 'patched'));
  } finally {
    await deleteCRD(c.kc, crd.metadata.name);
  }
});

it('[sig-api-machinery] CustomResourceDefinition resources [Privileged:ClusterAdmin] should include custom resource definition resources in discovery documents [Conformance]', (t, c) => {
  const groups = JSON.parse(c.kc.ok(['get', '--raw', '/apis'])).groups as any[];
  const g = groups.find((x) => x.name === 'apiextensions.k8s.io');
  t.truthy(
    g?.versions.find((v: any) => v.version === 'v1'),
    'apiextensions.k8s.io/v1 in /apis',
  );
  const group = JSON.parse(c.kc.ok(['get', '--raw', '/apis/apiextensions.k8s.io']));
  t.is(group.name, 'apiextensions.k8s.io');
  t.truthy(group.versions.find((v: any) => v.version === 'v1'));
  const list = JSON.parse(c.kc.ok(['get', '--raw', '/apis/apiextensions.k8s.io/v1']));
  t.is(list.groupVersion, 'apiextensions.k8s.io/v1');
  t.truthy(list.resources.find((r: any) => r.name === 'customresourcedefinitions'));
});

it('[sig-api-machinery] CustomResourceDefinition resources [Privileged:ClusterAdmin] custom resource defaulting for requests and from storage works [Conformance]', async (t, c) => {
  const crd = await createCRD(
    c.kc,
    randomCRD('Cluster', { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { a: { type: 'string' }, b: { type: 'string' } } }),
  );
  const kind = crd.spec.names.kind;
  const plural = crd.spec.names.plural;
  const cr = (name: string) => ({ apiVersion: `${GROUP}/v1beta1`, kind, metadata: { name } });
  const read = (name: string) => JSON.parse(c.kc.ok(['get', '--raw', `/apis/${GROUP}/v1beta1/${plural}/${name}`]));
  try {
    c.kc.create(cr('cr-1'));
    c.kc.ok([
      'patch',
      'crd',
      crd.metadata.name,
      '--type=json',
      '-p',
      '[{"op":"add","path":"/spec/versions/0/schema/openAPIV3Schema/properties/a/default","value":"A"}]',
    ]);
    await until('cr-1 defaulted on read', () => read('cr-1').a === 'A', 30_000);
    const created = JSON.parse(c.kc.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(cr('cr-2'))));
    t.is(created.a, 'A', 'defaulted on create');
    c.kc.ok([
      'patch',
      'crd',
      crd.metadata.name,
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/spec/versions/0/schema/openAPIV3Schema/properties/a/default"},{"op":"add","path":"/spec/versions/0/schema/openAPIV3Schema/properties/b/default","value":"B"}]',
    ]);
    const cr2 = await until(
      'cr-2 defaulted on read for b',
      () => {
        const o = read('cr-2');
        return o.b === 'B' ? o : undefined;
      },
      30_000,
    );
    t.is(cr2.a, 'A', 'the stored default stays');
  } finally {
    await deleteCRD(c.kc, crd.metadata.name);
  }
});

it('[sig-api-machinery] CustomResourceFieldSelectors [Privileged:ClusterAdmin] CustomResourceFieldSelectors MUST list and watch custom resources matching the field selector [Conformance]', async (t, c) => {
  const schema = { type: 'object', properties: { host: { type: 'string' }, port: { type: 'integer' } } };
  const crd = await createCRD(c.kc, randomCRD('Cluster', schema, { selectableFields: [{ jsonPath: '.host' }, { jsonPath: '.port' }] }));
  const kind = crd.spec.names.kind;
  const plural = crd.spec.names.plural;
  try {
    const mk = (name: string, host: string, port: number) => ({ apiVersion: `${GROUP}/v1beta1`, kind, metadata: { name }, host, port });
    c.kc.create(mk('host1-80', 'host1', 80), mk('host1-8080', 'host1', 8080), mk('host2-80', 'host2', 80));
    const names = (sel: string) =>
      (JSON.parse(c.kc.ok(['get', '--raw', `/apis/${GROUP}/v1beta1/${plural}?fieldSelector=${encodeURIComponent(sel)}`])).items as any[])
        .map((o) => o.metadata.name)
        .sort();
    t.deepEqual(names('host=host1'), ['host1-80', 'host1-8080']);
    t.deepEqual(names('port=80'), ['host1-80', 'host2-80']);
    t.deepEqual(names('host=host1,port=80'), ['host1-80']);
    const watched = c.kc.run(['get', '--raw', `/apis/${GROUP}/v1beta1/${plural}?watch=1&timeoutSeconds=1&fieldSelector=host%3Dhost2`]);
    const events = watched.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    t.deepEqual(
      events.map((e) => `${e.type} ${e.object.metadata.name}`),
      ['ADDED host2-80'],
    );
  } finally {
    await deleteCRD(c.kc, crd.metadata.name);
  }
});

it('[sig-api-machinery] CustomResourceDefinition Watch [Privileged:ClusterAdmin] CustomResourceDefinition Watch watch on custom resource definition objects [Conformance]', async (t, c) => {
  const crd = await createCRD(c.kc, randomCRD('Cluster'));
  const kind = crd.spec.names.kind;
  const plural = crd.spec.names.plural;
  try {
    // the watch runs in its own kubectl while this test writes through others
    const { spawn } = await import('node:child_process');
    const w = spawn('.build/bin/kubectl', ['--kubeconfig', c.env.kubeconfig, 'get', '--raw', `/apis/${GROUP}/v1beta1/${plural}?watch=1&timeoutSeconds=8`]);
    let out = '';
    w.stdout.on('data', (d) => (out += d));
    const ended = new Promise((r) => w.on('close', r));
    await new Promise((r) => setTimeout(r, 1000));
    const mk = (name: string) => ({ apiVersion: `${GROUP}/v1beta1`, kind, metadata: { name }, content: { key: 'value' } });
    c.kc.create(mk('name1'));
    c.kc.create(mk('name2'));
    c.kc.ok(['patch', `${plural}.${GROUP}`, 'name1', '--type=merge', '-p', '{"dummy":"test"}']);
    c.kc.ok(['patch', `${plural}.${GROUP}`, 'name2', '--type=merge', '-p', '{"dummy":"test"}']);
    c.kc.ok(['delete', `${plural}.${GROUP}`, 'name1']);
    c.kc.ok(['delete', `${plural}.${GROUP}`, 'name2']);
    await ended;
    const events = out
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .map((e) => `${e.type} ${e.object.metadata.name}`);
    t.deepEqual(events, ['ADDED name1', 'ADDED name2', 'MODIFIED name1', 'MODIFIED name2', 'DELETED name1', 'DELETED name2']);
  } finally {
    await deleteCRD(c.kc, crd.metadata.name);
  }
});

// crd_publish_openapi.go: every served version of a CRD is published in OpenAPI v2 as
// <reversed group>.<version>.<kind>, with its schema, and leaves when it stops being served
function publishCRD(group: string, versions: string[], schema: Record<string, unknown>): any {
  const crd = randomCRD('Namespaced', schema);
  const base = crd.spec.names.singular;
  crd.spec.group = `crd-publish-openapi-test-${group}.example.com`;
  crd.metadata.name = `${crd.spec.names.plural}.${crd.spec.group}`;
  crd.spec.versions = versions.map((v, i) => ({ name: v, served: true, storage: i === 0, schema: { openAPIV3Schema: schema } }));
  crd.spec.names.kind = `E2e-test-${base.replace(/^e2e-test-/, '')}`;
  crd.spec.names.listKind = `${crd.spec.names.kind}List`;
  return crd;
}

const definitionName = (crd: any, version: string) => `${crd.spec.group.split('.').reverse().join('.')}.${version}.${crd.spec.names.kind}`;
const definitions = (kc: Kube) => JSON.parse(kc.ok(['get', '--raw', '/openapi/v2'])).definitions as Record<string, any>;

async function waitForDefinition(kc: Kube, name: string, schema: any): Promise<void> {
  const d = await until(`definition ${name}`, () => definitions(kc)[name], 30_000);
  if (d.description !== schema.description || Object.keys(schema.properties).some((p) => !d.properties?.[p]))
    throw new Error(`definition ${name} does not carry the schema: ${JSON.stringify(d)}`);
}

async function waitForNoDefinition(kc: Kube, name: string): Promise<void> {
  await until(`definition ${name} removed`, () => !definitions(kc)[name], 30_000);
}

async function setupCRD(kc: Kube, group: string, versions: string[], schema: any): Promise<any> {
  const crd = publishCRD(group, versions, schema);
  kc.create(crd);
  await until(`${crd.metadata.name} served`, () => kc.run(['get', '--raw', `/apis/${crd.spec.group}/${versions[0]}`]).code === 0, 30_000);
  return crd;
}

/** upstream's pair of CRDs (Foo and Waldo schemas) in the given groups and versions, both published, then removed */
async function fooAndWaldo(kc: Kube, [gFoo, vFoo]: [string, string], [gWaldo, vWaldo]: [string, string]): Promise<void> {
  const foo = await setupCRD(kc, gFoo, [vFoo], schemaFoo);
  const waldo = await setupCRD(kc, gWaldo, [vWaldo], schemaWaldo);
  try {
    await waitForDefinition(kc, definitionName(waldo, vWaldo), schemaWaldo);
    await waitForDefinition(kc, definitionName(foo, vFoo), schemaFoo);
  } finally {
    await deleteCRD(kc, foo.metadata.name);
    await deleteCRD(kc, waldo.metadata.name);
  }
}

it('[sig-api-machinery] CustomResourcePublishOpenAPI [Privileged:ClusterAdmin] works for multiple CRDs of different groups [Conformance]', async (t, c) => {
  await fooAndWaldo(c.kc, ['multi-group-foo', 'v1'], ['multi-group-waldo', 'v1']);
  t.pass();
});

it('[sig-api-machinery] CustomResourcePublishOpenAPI [Privileged:ClusterAdmin] works for multiple CRDs of same group but different versions [Conformance]', async (t, c) => {
  const multi = await setupCRD(c.kc, 'multi-ver', ['v2', 'v3'], schemaFoo);
  try {
    await waitForDefinition(c.kc, definitionName(multi, 'v3'), schemaFoo);
    await waitForDefinition(c.kc, definitionName(multi, 'v2'), schemaFoo);
  } finally {
    await deleteCRD(c.kc, multi.metadata.name);
  }
  await fooAndWaldo(c.kc, ['common-group', 'v4'], ['common-group', 'v5']);
  t.pass();
});

it('[sig-api-machinery] CustomResourcePublishOpenAPI [Privileged:ClusterAdmin] works for multiple CRDs of same group and version but different kinds [Conformance]', async (t, c) => {
  await fooAndWaldo(c.kc, ['common-group', 'v6'], ['common-group', 'v6']);
  t.pass();
});

it('[sig-api-machinery] CustomResourcePublishOpenAPI [Privileged:ClusterAdmin] updates the published spec when one version gets renamed [Conformance]', async (t, c) => {
  const crd = await setupCRD(c.kc, 'multi-ver', ['v2', 'v3'], schemaFoo);
  try {
    await waitForDefinition(c.kc, definitionName(crd, 'v3'), schemaFoo);
    await waitForDefinition(c.kc, definitionName(crd, 'v2'), schemaFoo);
    c.kc.ok([
      'patch',
      'crd',
      crd.metadata.name,
      '--type=json',
      '-p',
      '[{"op":"test","path":"/spec/versions/1/name","value":"v3"},{"op":"replace","path":"/spec/versions/1/name","value":"v4"}]',
    ]);
    await waitForDefinition(c.kc, definitionName(crd, 'v4'), schemaFoo);
    await waitForNoDefinition(c.kc, definitionName(crd, 'v3'));
    t.truthy(definitions(c.kc)[definitionName(crd, 'v2')], 'the other version stays');
  } finally {
    await deleteCRD(c.kc, crd.metadata.name);
  }
});

it('[sig-api-machinery] CustomResourcePublishOpenAPI [Privileged:ClusterAdmin] removes definition from spec when one version gets changed to not be served [Conformance]', async (t, c) => {
  const crd = await setupCRD(c.kc, 'multi-to-single-ver', ['v5', 'v6alpha1'], schemaFoo);
  try {
    await waitForDefinition(c.kc, definitionName(crd, 'v5'), schemaFoo);
    await waitForDefinition(c.kc, definitionName(crd, 'v6alpha1'), schemaFoo);
    c.kc.ok([
      'patch',
      'crd',
      crd.metadata.name,
      '--type=json',
      '-p',
      '[{"op":"test","path":"/spec/versions/1/name","value":"v6alpha1"},{"op":"replace","path":"/spec/versions/1/served","value":false}]',
    ]);
    await waitForNoDefinition(c.kc, definitionName(crd, 'v6alpha1'));
    t.truthy(definitions(c.kc)[definitionName(crd, 'v5')], 'the served version stays');
  } finally {
    await deleteCRD(c.kc, crd.metadata.name);
  }
});
