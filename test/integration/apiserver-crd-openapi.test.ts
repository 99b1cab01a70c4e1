// What a custom resource publishes in OpenAPI, as upstream's apiextensions builder publishes it:
// in v2, a kind without a schema or keeping unknown fields at its root is a bare object (kubectl's
// client-side validation would otherwise refuse its unknown fields), a node keeping unknown fields
// or nullable loses its properties, and the junctors are dropped; `kubectl explain` of the shared
// ObjectMeta shows upstream's field descriptions.
import test from 'ava';
import type { Cluster } from './_apiserver-kit.ts';
import { until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';

let c: Cluster;
fileCluster(async (cluster) => {
  c = cluster;
  await publish();
});

const crd = (plural: string, kind: string, schema: Record<string, unknown>) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.oa.example.com` },
  spec: {
    group: 'oa.example.com',
    scope: 'Namespaced',
    names: { plural, singular: kind.toLowerCase(), kind },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema } }],
  },
});

async function publish(): Promise<void> {
  await c.ok(['create', '-f', '-'], {
    input: JSON.stringify({
      kind: 'List',
      apiVersion: 'v1',
      items: [
        crd('bares', 'Bare', { type: 'object', description: 'kept', 'x-kubernetes-preserve-unknown-fields': true, properties: { spec: { type: 'object' } } }),
        crd('shapes', 'Shape', {
          type: 'object',
          properties: {
            spec: {
              type: 'object',
              required: ['size', 'maybe'],
              properties: {
                size: { type: 'integer', anyOf: [{ minimum: 1 }, { maximum: -1 }] },
                maybe: { type: 'object', nullable: true, properties: { a: { type: 'string' } } },
                extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { b: { type: 'string' } } },
                list: { type: 'array', 'x-kubernetes-preserve-unknown-fields': true, items: { type: 'string' } },
              },
            },
          },
        }),
      ],
    }),
  });
  await until(
    'both published',
    async () => {
      const d = await v2();
      return d['com.example.oa.v1.Bare'] && d['com.example.oa.v1.Shape'];
    },
    30_000,
  );
}

const v2 = async () => JSON.parse(await c.ok(['get', '--raw', '/openapi/v2'])).definitions;

test('v2 publishes a kind keeping unknown fields at its root as a bare object', async (t) => {
  t.deepEqual((await v2())['com.example.oa.v1.Bare'], {
    type: 'object',
    'x-kubernetes-group-version-kind': [{ group: 'oa.example.com', version: 'v1', kind: 'Bare' }],
  });
  // v3 keeps the whole schema
  const v3 = JSON.parse(await c.ok(['get', '--raw', '/openapi/v3/apis/oa.example.com/v1'])).components.schemas['com.example.oa.v1.Bare'];
  t.is(v3.description, 'kept');
  t.truthy(v3.properties.spec);
});

test('v2 drops what kubectl cannot validate: junctors, nullable and preserved nodes keep no shape', async (t) => {
  const spec = (await v2())['com.example.oa.v1.Shape'].properties.spec;
  t.deepEqual(spec.required, ['size'], 'a nullable property is not required');
  t.deepEqual(spec.properties.size, { type: 'integer' });
  t.deepEqual(spec.properties.maybe, {});
  t.deepEqual(spec.properties.extra, { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
  t.deepEqual(spec.properties.list, { 'x-kubernetes-preserve-unknown-fields': true });
});

test("kubectl explain of a custom kind's metadata shows the ObjectMeta descriptions", async (t) => {
  const out = await c.ok(['explain', 'shapes.metadata']);
  t.regex(out, /creationTimestamp\s+<string>\s+CreationTimestamp is a timestamp representing the server time/);
  t.regex(out, /DESCRIPTION:\s+Standard object's metadata/);
});

test('kubectl explain reads the built-ins under their upstream component names', async (t) => {
  const out = await c.ok(['explain', 'deployment.spec.template.metadata']);
  t.regex(out, /GROUP:\s+apps/);
  t.regex(out, /KIND:\s+Deployment/);
  t.regex(out, /FIELD: metadata <ObjectMeta>/);
  t.regex(out, /creationTimestamp\s+<string>\s+CreationTimestamp is a timestamp/);
  t.regex(await c.ok(['explain', 'pods.spec.containers.resources']), /FIELD: resources <ResourceRequirements>/);
  t.regex(await c.ok(['explain', 'hpa.spec.metrics', '--api-version=autoscaling/v2']), /FIELD: metrics <\[\]MetricSpec>/);
});
