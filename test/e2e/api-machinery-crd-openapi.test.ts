// [sig-api-machinery] CustomResourcePublishOpenAPI, the four tests of upstream's crd_publish_openapi.go
// that use kubectl (the definition-only ones are in api-machinery-crd.test.ts): a CRD made as
// test/utils/crd CreateMultiVersionTestCRD makes it (namespaced, group
// crd-publish-openapi-test-<suffix>.example.com, kind E2e-test-crd-publish-openapi-NNNN-crd) must
// be published in /openapi/v2 under upstream's definition name with the schema upstream publishes
// (compared as upstream does, without the apiVersion, kind and metadata properties and the
// group-version-kind extension it adds), then custom objects are created and applied with kubectl
// (validation on), and `kubectl explain` reads the published schema.
import { isDeepStrictEqual } from 'node:util';
import type { ExecutionContext } from 'ava';
import { conformance, until, type Ctx, type Kube } from '../conformance/fixture.ts';
import { type Schema, schemaFoo, schemaPreserveNested, schemaPreserveRoot } from './helpers/crd-publish-schemas.ts';

const it = conformance('crd-publish-openapi');

interface TestCRD {
  name: string;
  group: string;
  plural: string;
  kind: string;
  version: string;
}

/** upstream's setupCRDAndVerifySchema: create the CRD (no schema: one that keeps unknown fields), wait for its definition */
async function setupCRD(t: ExecutionContext, kc: Kube, schema: Schema | undefined, expect: Schema | undefined, groupSuffix: string): Promise<TestCRD> {
  const suffix = String(1000 + Math.floor(Math.random() * 9000));
  const base = `e2e-test-crd-publish-openapi-${suffix}-crd`;
  const crd: TestCRD = {
    group: `crd-publish-openapi-test-${groupSuffix}.example.com`,
    plural: `${base}s`,
    kind: `E2e-test-crd-publish-openapi-${suffix}-crd`,
    version: 'v1',
    name: '',
  };
  crd.name = `${crd.plural}.${crd.group}`;
  kc.create({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crd.name },
    spec: {
      group: crd.group,
      scope: 'Namespaced',
      names: { plural: crd.plural, singular: base, kind: crd.kind, listKind: `${crd.kind}List` },
      versions: [
        { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema ?? { 'x-kubernetes-preserve-unknown-fields': true, type: 'object' } } },
      ],
    },
  });
  t.teardown(() => {
    kc.run(['delete', 'crd', crd.name, '--wait=false']);
  });
  await waitForDefinition(kc, definitionName(crd), expect);
  return crd;
}

/** upstream's cleanupCRD: delete it and wait until its definition leaves the published spec */
async function cleanupCRD(kc: Kube, crd: TestCRD): Promise<void> {
  kc.ok(['delete', 'crd', crd.name]);
  await until(`definition ${definitionName(crd)} removed`, () => !definitions(kc)[definitionName(crd)], 60_000);
}

/** openapiutil.ToRESTFriendlyName("<group>/<version>/<kind>") */
const definitionName = (crd: TestCRD) => `${crd.group.split('.').reverse().join('.')}.${crd.version}.${crd.kind}`;
const definitions = (kc: Kube) => JSON.parse(kc.ok(['get', '--raw', '/openapi/v2'])).definitions as Record<string, Schema>;

/** upstream's dropDefaults: the properties and extension the server adds to every published kind */
function dropDefaults(d: Schema): Schema {
  const out = structuredClone(d);
  const props = out.properties as Record<string, unknown> | undefined;
  if (props) {
    for (const k of ['metadata', 'apiVersion', 'kind']) delete props[k];
    // apimachinery's semantic equality takes an empty map for an absent one
    if (!Object.keys(props).length) delete out.properties;
  }
  delete out['x-kubernetes-group-version-kind'];
  return out;
}

/** upstream's waitForDefinition: the definition is published, and equals the expected schema when one is given */
async function waitForDefinition(kc: Kube, name: string, expect: Schema | undefined): Promise<void> {
  await until(
    `definition ${name} published${expect ? ' with the expected schema' : ''}`,
    () => {
      const d = definitions(kc)[name];
      if (!d) return false;
      if (!expect) return true;
      if (!isDeepStrictEqual(dropDefaults(d), expect)) throw new Error(`published ${JSON.stringify(dropDefaults(d))}`);
      return true;
    },
    60_000,
  );
}

const metaPattern = (crd: TestCRD, name: string) => `"kind":"${crd.kind}","apiVersion":"${crd.group}/${crd.version}","metadata":{"name":"${name}"}`;

/** kubectl create and kubectl apply of the object must both succeed (each deleted after) */
function createAndApply(c: Ctx, crd: TestCRD, cr: string, name: string): void {
  for (const verb of ['create', 'apply']) {
    c.k.ok([verb, '-f', '-'], cr);
    c.k.ok(['delete', crd.plural, name]);
  }
}

/** kubectl create and apply of the object must both fail with one of the messages */
function rejected(t: ExecutionContext, c: Ctx, cr: string, verbs: string[], ...messages: string[]): void {
  for (const verb of verbs) {
    const r = c.k.run([verb, '-f', '-'], cr);
    t.not(r.code, 0, `${verb} ${cr} must fail`);
    t.true(
      messages.some((m) => r.stderr.includes(m)),
      `${verb}: ${r.stderr}`,
    );
  }
}

function explain(t: ExecutionContext, kc: Kube, what: string, pattern: RegExp): void {
  t.regex(kc.ok(['explain', what]), pattern, `kubectl explain ${what}`);
}

it('[sig-api-machinery] CustomResourcePublishOpenAPI [Privileged:ClusterAdmin] works for CRD with validation schema [Conformance]', async (t, c) => {
  const crd = await setupCRD(t, c.kc, schemaFoo, schemaFoo, 'foo');
  const meta = metaPattern(crd, 'test-foo');
  createAndApply(c, crd, `{${meta},"spec":{"bars":[{"name":"test-bar"}]}}`, 'test-foo');
  rejected(t, c, `{${meta},"spec":{"bars":[{"name":"test-bar", "feeling":"NonExistentValue"}]}}`, ['create'], 'Unsupported value: "NonExistentValue"');
  rejected(t, c, `{${meta},"spec":{"foo":true}}`, ['create', 'apply'], 'unknown field "foo"', 'unknown field "spec.foo"');
  rejected(t, c, `{${meta},"spec":{"bars":[{"age":"10"}]}}`, ['create', 'apply'], 'missing required field "name"', 'spec.bars[0].name: Required value');
  explain(t, c.kc, crd.plural, /DESCRIPTION:.*Foo CRD for Testing.*FIELDS:.*apiVersion.*<string>.*APIVersion defines.*spec.*<Object>.*Specification of Foo/s);
  explain(
    t,
    c.kc,
    `${crd.plural}.metadata`,
    /DESCRIPTION:.*Standard object's metadata.*FIELDS:.*creationTimestamp.*<string>.*CreationTimestamp is a timestamp/s,
  );
  explain(t, c.kc, `${crd.plural}.spec`, /DESCRIPTION:.*Specification of Foo.*FIELDS:.*bars.*<\[\]Object>.*List of Bars and their specs/s);
  explain(
    t,
    c.kc,
    `${crd.plural}.spec.bars`,
    /(FIELD|RESOURCE):.*bars.*<\[\]Object>.*DESCRIPTION:.*List of Bars and their specs.*FIELDS:.*bazs.*<\[\]string>.*List of Bazs.*name.*<string>.*Name of Bar/s,
  );
  const missing = c.kc.run(['explain', `${crd.plural}.spec.bars2`]);
  t.not(missing.code, 0);
  t.true(missing.stderr.includes('field "bars2" does not exist'), missing.stderr);
  await cleanupCRD(c.kc, crd);
});

it('[sig-api-machinery] CustomResourcePublishOpenAPI [Privileged:ClusterAdmin] works for CRD without validation schema [Conformance]', async (t, c) => {
  // upstream expects a CRD without a schema published as just `type: object`
  const crd = await setupCRD(t, c.kc, undefined, { type: 'object' }, 'empty');
  createAndApply(c, crd, `{${metaPattern(crd, 'test-cr')},"a":{"b":[{"c":"d"}]}}`, 'test-cr');
  explain(t, c.kc, crd.plural, /DESCRIPTION:.*<empty>/s);
  await cleanupCRD(c.kc, crd);
});

it('[sig-api-machinery] CustomResourcePublishOpenAPI [Privileged:ClusterAdmin] works for CRD preserving unknown fields at the schema root [Conformance]', async (t, c) => {
  const crd = await setupCRD(t, c.kc, schemaPreserveRoot, undefined, 'unknown-at-root');
  createAndApply(c, crd, `{${metaPattern(crd, 'test-cr')},"a":{"b":[{"c":"d"}]}}`, 'test-cr');
  explain(t, c.kc, crd.plural, new RegExp(`KIND:.*${crd.kind}`, 's'));
  await cleanupCRD(c.kc, crd);
});

it('[sig-api-machinery] CustomResourcePublishOpenAPI [Privileged:ClusterAdmin] works for CRD preserving unknown fields in an embedded object [Conformance]', async (t, c) => {
  const crd = await setupCRD(t, c.kc, schemaPreserveNested, undefined, 'unknown-in-nested');
  createAndApply(c, crd, `{${metaPattern(crd, 'test-cr')},"spec":{"a":null,"b":[{"c":"d"}]}}`, 'test-cr');
  explain(t, c.kc, crd.plural, /DESCRIPTION:.*preserve-unknown-properties in nested field for Testing/s);
  await cleanupCRD(c.kc, crd);
});
