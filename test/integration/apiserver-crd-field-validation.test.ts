// Unknown fields of custom objects as upstream's apiextensions server reports them: server-side
// apply refuses any field its schema does not declare, whatever fieldValidation says (500, message
// "failed to create typed patch object (...): .path: field not declared in schema", as the
// structured-merge-diff type converter fails); unknown ObjectMeta fields of the object and of an
// embedded resource are unknown fields too (strict decoding error, dropped otherwise).
import test from 'ava';
import type { Cluster } from './_apiserver-kit.ts';
import { until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { type RawClient, rawClient } from './_https.ts';

let c: Cluster;
let api: RawClient;

fileCluster(async (cluster, own) => {
  c = cluster;
  api = own(rawClient(c.admin));
  await c.ok(['create', '-f', '-'], { input: JSON.stringify(CRD) });
  await until('gadgets served', async () => (await api.request('GET', GADGETS)).status === 200, 30_000);
});

const CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'gadgets.fv.example.com' },
  spec: {
    group: 'fv.example.com',
    scope: 'Cluster',
    names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                'x-kubernetes-preserve-unknown-fields': true,
                properties: {
                  foo: { type: 'string' },
                  template: {
                    type: 'object',
                    'x-kubernetes-embedded-resource': true,
                    properties: { metadata: { type: 'object', properties: { name: { type: 'string' } } }, spec: { type: 'object' } },
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
};
const GADGETS = '/apis/fv.example.com/v1/gadgets';

const apply = (name: string, yaml: string, validation: string) =>
  api.request('PATCH', `${GADGETS}/${name}?fieldManager=m&fieldValidation=${validation}`, yaml, 'application/apply-patch+yaml');

test.serial('server-side apply refuses an undeclared field under every fieldValidation, naming it as upstream', async (t) => {
  for (const validation of ['Strict', 'Warn', 'Ignore']) {
    const r = await apply('g1', 'apiVersion: fv.example.com/v1\nkind: Gadget\nmetadata:\n  name: g1\nunknownField: x\nspec:\n  foo: a\n', validation);
    t.is(r.status, 500, validation);
    t.is(r.body.message, 'failed to create typed patch object (/g1; fv.example.com/v1, Kind=Gadget): .unknownField: field not declared in schema', validation);
    t.is(r.body.reason, undefined, 'no reason, as upstream answers an error that is not a Status');
  }
  t.is((await api.request('GET', `${GADGETS}/g1`)).status, 404, 'nothing stored');
  const several = await apply(
    'g1',
    'apiVersion: fv.example.com/v1\nkind: Gadget\nmetadata:\n  name: g1\n  unknownMeta: x\nspec:\n  template:\n    metadata:\n      unknownSubMeta: y\n',
    'Strict',
  );
  t.is(
    several.body.message,
    'failed to create typed patch object (/g1; fv.example.com/v1, Kind=Gadget): errors:\n  .metadata.unknownMeta: field not declared in schema\n  .spec.template.metadata.unknownSubMeta: field not declared in schema',
  );
  // what the schema preserves is not unknown
  t.is((await apply('g1', 'apiVersion: fv.example.com/v1\nkind: Gadget\nmetadata:\n  name: g1\nspec:\n  anything: 1\n', 'Strict')).status, 201);
});

test.serial('unknown ObjectMeta fields of a custom object and of its embedded resources are unknown fields', async (t) => {
  const body = {
    apiVersion: 'fv.example.com/v1',
    kind: 'Gadget',
    metadata: { name: 'g2', unknownMeta: 'x' },
    spec: { template: { apiVersion: 'v1', kind: 'Sub', metadata: { name: 'sub', unknownSubMeta: 'y' } } },
  };
  const strict = await api.request('POST', `${GADGETS}?fieldValidation=Strict`, body);
  t.is(strict.status, 400);
  t.is(strict.body.message, 'strict decoding error: unknown field "metadata.unknownMeta", unknown field "spec.template.metadata.unknownSubMeta"');
  const warned = await api.request('POST', `${GADGETS}?fieldValidation=Ignore`, body);
  t.is(warned.status, 201);
  t.is(warned.body.metadata.unknownMeta, undefined, 'dropped');
  t.deepEqual(warned.body.spec.template.metadata, { name: 'sub' }, 'dropped in the embedded resource too');
});
