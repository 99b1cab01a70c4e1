// [sig-api-machinery] FieldValidation on custom resources, mirroring upstream's field_validation.go:
// a cluster-scoped CRD with two versions (apiextensions fixtures.NewRandomNameMultipleVersionCustomResourceDefinition),
// then one server-side apply (PATCH application/apply-patch+yaml, fieldManager field_validation_mgr,
// fieldValidation=Strict) of a YAML body, sent raw as upstream's rest client sends it, so kubectl's
// own YAML parsing does not hide the duplicate keys; the answer's text is matched as upstream does.
import type { ExecutionContext } from 'ava';
import { conformance, until, type Ctx, type Kube } from '../conformance/fixture.ts';
import { rawRequest } from '../conformance/raw.ts';

const it = conformance('field-validation');

const ALLOW_ALL = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

const PORTS = {
  type: 'array',
  'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
  'x-kubernetes-list-type': 'map',
  items: {
    properties: {
      containerPort: { format: 'int32', type: 'integer' },
      hostIP: { type: 'string' },
      hostPort: { format: 'int32', type: 'integer' },
      name: { type: 'string' },
      protocol: { type: 'string' },
    },
    required: ['containerPort', 'protocol'],
    type: 'object',
  },
};
const CRON = { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' };

/** fixtures.NewRandomNameMultipleVersionCustomResourceDefinition(ClusterScoped), each version given the schema */
function noxuDefinition(schema: Record<string, unknown>): any {
  const name = `foo${Math.random().toString(36).slice(2, 7)}`;
  const group = `${name}.com`;
  const version = (v: string, storage: boolean) => ({
    name: v,
    served: true,
    storage,
    schema: { openAPIV3Schema: schema },
    subresources: {
      status: {},
      scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.labelSelector' },
    },
  });
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${name}s.${group}` },
    spec: {
      group,
      names: { plural: `${name}s`, singular: name, kind: name, listKind: `${name}List` },
      scope: 'Cluster',
      versions: [version('v1beta1', true), version('v1', false)],
    },
  };
}

/** Creates the CRD, waits until its first version is served, and removes it (and the CR's finalizer) after the test. */
async function createCRD(t: ExecutionContext, kc: Kube, crd: any): Promise<void> {
  kc.create(crd);
  const resource = `${crd.spec.names.plural}.${crd.spec.group}`;
  t.teardown(() => {
    kc.run(['patch', resource, 'mytest', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    kc.run(['delete', 'crd', crd.metadata.name, '--wait=false']);
  });
  await until(`${crd.metadata.name} served`, () => kc.run(['get', '--raw', `/apis/${crd.spec.group}/v1beta1/${crd.spec.names.plural}`]).code === 0, 30_000);
}

/** upstream's rest.Patch(types.ApplyPatchType)...Param("fieldValidation", "Strict").Body(yamlBody).DoRaw() */
function applyStrict(c: Ctx, crd: any, yamlBody: string) {
  const path = `/apis/${crd.spec.group}/v1beta1/${crd.spec.names.plural}/mytest?fieldManager=field_validation_mgr&fieldValidation=Strict`;
  return rawRequest(c.env.kubeconfig, 'PATCH', path, 15_000, {
    body: yamlBody,
    headers: { 'content-type': 'application/apply-patch+yaml', accept: 'application/json' },
  });
}

const head = (crd: any) => `
apiVersion: ${crd.spec.group}/v1beta1
kind: ${crd.spec.names.kind}
metadata:
  name: mytest
  finalizers:
  - test-finalizer`;

/** the spec fields every upstream body ends with */
const CRON_AND_PORTS = `  cronSpec: "* * * * */5"
  ports:
  - name: x
    containerPort: 80
    protocol: TCP`;

const SPEC_FIELDS = { foo: { type: 'string' }, cronSpec: CRON, ports: PORTS };

/** a new CRD with the schema, then the strict apply of the body made for it */
async function createAndApply(t: ExecutionContext, c: Ctx, schema: Record<string, unknown>, body: (crd: any) => string) {
  const crd = noxuDefinition(schema);
  await createCRD(t, c.kc, crd);
  return applyStrict(c, crd, body(crd));
}

const schemaWith = (spec: Record<string, unknown>) => ({ type: 'object', properties: { spec } });

it('[sig-api-machinery] FieldValidation should create/apply a valid CR for CRD with validation schema [Conformance]', async (t, c) => {
  const r = await createAndApply(
    t,
    c,
    schemaWith({ type: 'object', properties: SPEC_FIELDS }),
    (crd) =>
      `${head(crd)}
spec:
  foo: foo1
${CRON_AND_PORTS}`,
  );
  t.is(r.status, 201, r.text);
});

it('[sig-api-machinery] FieldValidation should create/apply a CR with unknown fields for CRD with no validation schema [Conformance]', async (t, c) => {
  const r = await createAndApply(
    t,
    c,
    ALLOW_ALL,
    (crd) =>
      `${head(crd)}
spec:
  unknown: uk1
${CRON_AND_PORTS}`,
  );
  t.is(r.status, 201, r.text);
});

it('[sig-api-machinery] FieldValidation should create/apply an invalid CR with extra properties for CRD with validation schema [Conformance]', async (t, c) => {
  const r = await createAndApply(
    t,
    c,
    schemaWith({ type: 'object', properties: SPEC_FIELDS }),
    (crd) =>
      `${head(crd)}
unknownField: unknown
spec:
  foo: foo1
${CRON_AND_PORTS}`,
  );
  t.true(r.text.includes('.unknownField: field not declared in schema'), r.text);
});

it('[sig-api-machinery] FieldValidation should detect unknown metadata fields in both the root and embedded object of a CR [Conformance]', async (t, c) => {
  const template = {
    type: 'object',
    'x-kubernetes-embedded-resource': true,
    properties: { metadata: { type: 'object', properties: { name: { type: 'string' } } }, spec: { type: 'object' } },
  };
  const r = await createAndApply(
    t,
    c,
    schemaWith({
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
      properties: { template, ...SPEC_FIELDS },
    }),
    (crd) =>
      `
apiVersion: ${crd.spec.group}/v1beta1
kind: ${crd.spec.names.kind}
metadata:
  name: mytest
  unknownMeta: unknown
  finalizers:
  - test-finalizer
spec:
  template:
    apiversion: foo/v1
    kind: Sub
    metadata:
        unknownSubMeta: unknown
        name: subobject
        namespace: ${c.ns}
  foo: foo1
${CRON_AND_PORTS}`,
  );
  t.true(
    r.text.includes('.spec.template.metadata.unknownSubMeta: field not declared in schema') ||
      r.text.includes('.metadata.unknownMeta: field not declared in schema'),
    r.text,
  );
});

it('[sig-api-machinery] FieldValidation should detect duplicates in a CR when preserving unknown fields [Conformance]', async (t, c) => {
  const r = await createAndApply(
    t,
    c,
    schemaWith({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: SPEC_FIELDS }),
    (crd) =>
      `${head(crd)}
spec:
  unknown: uk1
  foo: foo1
  foo: foo2
${CRON_AND_PORTS}`,
  );
  t.true(r.text.includes('line 11: key \\"foo\\" already set in map'), r.text);
});
