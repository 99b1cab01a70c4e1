// CustomResourceDefinitions against the real kubectl: a CRD is validated, gets NamesAccepted and
// Established, its custom objects are served (CRUD, selectors, printer columns, status and scale,
// several versions, schema validation with the field named, pruning and defaults), and deleting
// the CRD deletes its objects and stops serving it. Bad CRDs are refused with nothing stored.
import test from 'ava';
import { type Cluster, until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';

let c: Cluster;

fileCluster(
  (cluster) => {
    // the collector reads discovery every 500 ms here (30 s by default) so that it sees CRDs come and go
    c = cluster;
  },
  { extra: { gcRediscoverMs: 500 } },
);

const widgetCRD = (over: Record<string, unknown> = {}) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'], categories: ['all'] },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: {
          status: {},
          scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
        },
        additionalPrinterColumns: [
          { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
          { name: 'Color', type: 'string', jsonPath: '.spec.color' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
        selectableFields: [{ jsonPath: '.spec.color' }],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['color'],
                properties: {
                  replicas: { type: 'integer', format: 'int32', minimum: 0, default: 1 },
                  color: { type: 'string', enum: ['red', 'blue'] },
                  size: { type: 'string', pattern: '^[0-9]+(cm|m)$' },
                  extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                  port: { 'x-kubernetes-int-or-string': true },
                },
              },
              status: { type: 'object', properties: { replicas: { type: 'integer' }, selector: { type: 'string' } } },
            },
          },
        },
      },
      {
        name: 'v1beta1',
        served: true,
        storage: false,
        deprecated: true,
        deprecationWarning: 'example.com/v1beta1 Widget is deprecated; use example.com/v1',
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      },
      { name: 'v1alpha1', served: false, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
    ],
    ...over,
  },
});

const widget = (name: string, spec: Record<string, unknown>, apiVersion = 'example.com/v1') =>
  JSON.stringify({ apiVersion, kind: 'Widget', metadata: { name, namespace: 'default', labels: { app: name } }, spec });

test.serial('a CRD is Established with its accepted names, and its objects are served through kubectl', async (t) => {
  await c.ok(['apply', '-f', '-'], { input: JSON.stringify(widgetCRD()) });
  await c.ok(['wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=20s']);
  const crd = JSON.parse(await c.ok(['get', 'crd', 'widgets.example.com', '-o', 'json']));
  t.like(crd.status.acceptedNames, { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList', shortNames: ['wd'] });
  t.like(
    crd.status.conditions.find((x: { type: string }) => x.type === 'NamesAccepted'),
    { status: 'True', reason: 'NoConflicts' },
  );
  t.deepEqual(crd.status.storedVersions, ['v1']);

  await c.ok(['apply', '--validate=false', '-f', '-'], { input: widget('w1', { color: 'red', unknownField: 1, extra: { anything: { goes: true } } }) });
  await c.ok(['apply', '-f', '-'], { input: widget('w2', { color: 'blue', replicas: 3 }) });
  const w1 = JSON.parse(await c.ok(['get', 'widget', 'w1', '-o', 'json']));
  t.is(w1.spec.replicas, 1, 'defaulted');
  t.false('unknownField' in w1.spec, 'pruned');
  t.deepEqual(w1.spec.extra, { anything: { goes: true } }, 'preserved');
  const table = await c.ok(['get', 'wd']);
  t.regex(table, /^NAME\s+REPLICAS\s+COLOR\s+AGE/m);
  t.regex(table, /^w2\s+3\s+blue\s+\d+s/m);
  t.regex(await c.ok(['get', 'all']), /widget\.example\.com\/w1/);
  t.regex(await c.ok(['get', 'widgets', '-l', 'app=w2', '-o', 'name']), /^widget\.example\.com\/w2\n$/);
  t.is(await c.ok(['get', 'widgets', '--field-selector', 'spec.color=blue', '-o', 'name']), 'widget.example.com/w2\n');
  // unknown fields: a warning by default, refused under --validate=strict, as for built-in kinds
  const warned = await c.kubectl(['create', '--validate=warn', '-f', '-'], { input: widget('w9', { color: 'red', bogus: 1 }) });
  t.regex(warned.stderr, /Warning: unknown field "spec.bogus"/);
  const strict = await c.kubectl(['create', '--validate=strict', '-f', '-'], { input: widget('w10', { color: 'red', bogus: 1 }) });
  t.regex(strict.stderr, /strict decoding error: unknown field "spec.bogus"/);
  t.is((await c.kubectl(['get', 'widget', 'w10'])).code, 1);
  await c.ok(['delete', 'widget', 'w9']);
  const badField = await c.kubectl(['get', 'widgets', '--field-selector', 'spec.size=1m']);
  t.regex(badField.stderr, /field label not supported: spec.size/);
});

test.serial('schema violations are 422 Invalid naming the field, and nothing is stored', async (t) => {
  const r = await c.kubectl(['create', '-f', '-'], { input: widget('bad', { color: 'green', replicas: 'many', size: 'huge' }) });
  t.is(r.code, 1);
  t.regex(r.stderr, /The Widget "bad" is invalid/);
  t.regex(r.stderr, /spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"/);
  t.regex(r.stderr, /spec.color: Unsupported value: "green": supported values: "red", "blue"/);
  const r2 = await c.kubectl(['create', '-f', '-'], { input: widget('bad', { replicas: -1, size: '3km' }) });
  t.regex(r2.stderr, /spec.color: Required value/);
  t.regex(r2.stderr, /spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0/);
  t.regex(r2.stderr, /spec.size: Invalid value: "3km": spec.size in body should match '\^\[0-9\]\+\(cm\|m\)\$'/);
  t.is((await c.kubectl(['get', 'widget', 'bad'])).code, 1);
});

test.serial('patch (merge and server-side), status and scale on a custom object', async (t) => {
  await c.ok(['patch', 'widget', 'w1', '--type=merge', '-p', '{"spec":{"color":"blue"}}']);
  t.is(JSON.parse(await c.ok(['get', 'widget', 'w1', '-o', 'json'])).spec.color, 'blue');
  const smp = await c.kubectl(['patch', 'widget', 'w1', '--type=strategic', '-p', '{"spec":{"color":"red"}}']);
  t.regex(smp.stderr, /UnsupportedMediaType|unknown format/);
  // fields are owned one by one (not the whole spec): the conflict names each
  const conflict = await c.kubectl(['apply', '--server-side', '--field-manager=tester', '-f', '-'], { input: widget('w1', { color: 'red', replicas: 2 }) });
  t.regex(conflict.stderr, /conflict with "kubectl-patch" using example.com\/v1: .spec.color/);
  await c.ok(['apply', '--server-side', '--force-conflicts', '--field-manager=tester', '-f', '-'], { input: widget('w1', { color: 'red', replicas: 2 }) });
  const w1 = JSON.parse(await c.ok(['get', 'widget', 'w1', '-o', 'json', '--show-managed-fields']));
  t.is(w1.spec.replicas, 2);
  t.true(w1.metadata.managedFields.some((m: { manager: string; operation: string }) => m.manager === 'tester' && m.operation === 'Apply'));
  await c.ok(['scale', 'widget', 'w1', '--replicas=5']);
  t.is(JSON.parse(await c.ok(['get', 'widget', 'w1', '-o', 'json'])).spec.replicas, 5);
  // status only through the status subresource
  await c.ok(['patch', 'widget', 'w1', '--type=merge', '-p', '{"status":{"replicas":9}}']);
  t.is(JSON.parse(await c.ok(['get', 'widget', 'w1', '-o', 'json'])).status, undefined);
  await c.ok(['patch', 'widget', 'w1', '--subresource=status', '--type=merge', '-p', '{"status":{"replicas":4,"selector":"app=w1"}}']);
  const scale = JSON.parse(await c.ok(['get', '--raw', '/apis/example.com/v1/namespaces/default/widgets/w1/scale']));
  t.deepEqual([scale.spec.replicas, scale.status.replicas, scale.status.selector], [5, 4, 'app=w1']);
});

test.serial('kubectl explain reads the published schema (OpenAPI v3), and v2 names the kind', async (t) => {
  const out = await c.ok(['explain', 'widgets.spec']);
  t.regex(out, /KIND:\s+Widget/);
  t.regex(out, /color\s+<string> -required-/);
  t.regex(out, /replicas\s+<integer>/);
  t.regex(await c.ok(['explain', 'widget.metadata.labels']), /map\[string\]string/);
  const v2 = JSON.parse(await c.ok(['get', '--raw', '/openapi/v2']));
  t.deepEqual(v2.definitions['com.example.v1.Widget']['x-kubernetes-group-version-kind'], [{ group: 'example.com', version: 'v1', kind: 'Widget' }]);
  // client-side apply of a change takes the merge-patch path (no strategic merge for custom resources)
  await c.ok(['apply', '-f', '-'], { input: widget('w2', { color: 'red', replicas: 3 }) });
  t.is(JSON.parse(await c.ok(['get', 'widget', 'w2', '-o', 'json'])).spec.color, 'red');
});

test.serial('versions: another served version reads the same objects, deprecated warns, unserved is 404', async (t) => {
  const r = await c.kubectl(['get', 'widgets.v1beta1.example.com', 'w2', '-o', 'json']);
  t.is(r.code, 0, r.stderr);
  t.is(JSON.parse(r.stdout).apiVersion, 'example.com/v1beta1');
  t.regex(r.stderr, /Warning: example.com\/v1beta1 Widget is deprecated; use example.com\/v1/);
  await c.ok(['apply', '-f', '-'], { input: widget('w3', { color: 'red' }, 'example.com/v1beta1') });
  t.is(JSON.parse(await c.ok(['get', 'widget', 'w3', '-o', 'json'])).apiVersion, 'example.com/v1');
  const off = await c.kubectl(['get', '--raw', '/apis/example.com/v1alpha1/namespaces/default/widgets']);
  t.regex(off.stderr, /NotFound|could not find/);
});

test.serial('bad CRDs are refused naming the field and nothing is stored', async (t) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { ...widgetCRD(), metadata: { name: 'gadgets.example.com' } },
      /metadata.name: Invalid value: "gadgets.example.com": must be spec.names.plural\+"."\+spec.group/,
    ],
    [widgetCRD({ group: 'example' }), /spec.group: Invalid value: "example": should be a domain with at least one dot/],
    [widgetCRD({ scope: 'Global' }), /spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"/],
    [
      widgetCRD({ versions: [{ name: 'v1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object' } } }] }),
      /spec.versions: Invalid value: .*must have exactly one version marked as storage version/,
    ],
    [widgetCRD({ versions: [{ name: 'v1', served: true, storage: true }] }), /spec.versions\[0\].schema.openAPIV3Schema: Required value: schemas are required/],
    [
      widgetCRD({
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', properties: { spec: { properties: { a: { type: 'string' } } } } } },
          },
        ],
      }),
      /spec.versions\[0\].schema.openAPIV3Schema.properties\[spec\].type: Required value: must not be empty for specified object fields/,
    ],
  ];
  for (const [crd, msg] of cases) {
    const name = (crd.metadata as { name: string }).name;
    const r = await c.kubectl(['create', '-f', '-'], { input: JSON.stringify(crd) });
    t.is(r.code, 1);
    t.regex(r.stderr, msg);
  }
  t.is((await c.kubectl(['get', 'crd', 'gadgets.example.com'])).code, 1);
  t.regex(await c.ok(['get', '--raw', '/readyz']), /ok/);
});

test.serial('a CRD whose names clash with a built-in is not accepted', async (t) => {
  await c.ok(['create', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'roles.rbac.authorization.k8s.io', annotations: { 'api-approved.kubernetes.io': 'unapproved, testing' } },
      spec: {
        group: 'rbac.authorization.k8s.io',
        scope: 'Namespaced',
        names: { plural: 'roles', kind: 'Thing' },
        versions: [{ name: 'v9', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }],
      },
    }),
  });
  const crd = await until('names decided', async () => {
    const o = JSON.parse(await c.ok(['get', 'crd', 'roles.rbac.authorization.k8s.io', '-o', 'json']));
    return o.status?.conditions?.length ? o : undefined;
  });
  t.like(
    crd.status.conditions.find((x: { type: string }) => x.type === 'NamesAccepted'),
    { status: 'False', reason: 'PluralConflict', message: '"roles" is already in use' },
  );
  t.like(
    crd.status.conditions.find((x: { type: string }) => x.type === 'Established'),
    { status: 'False', reason: 'NotAccepted' },
  );
  t.is((await c.kubectl(['get', '--raw', '/apis/rbac.authorization.k8s.io/v9/roles'])).code, 1);
  await c.ok(['delete', 'crd', 'roles.rbac.authorization.k8s.io']);
});

test.serial('deleting a CRD deletes its objects and stops serving it', async (t) => {
  await c.ok(['delete', 'crd', 'widgets.example.com', '--timeout=30s']);
  t.is((await c.kubectl(['get', 'crd', 'widgets.example.com'])).code, 1);
  const r = await c.kubectl(['get', '--raw', '/apis/example.com/v1/widgets']);
  t.regex(r.stderr, /NotFound|could not find/);
  // recreated, it starts empty
  await c.ok(['apply', '-f', '-'], { input: JSON.stringify(widgetCRD()) });
  await c.ok(['wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=20s']);
  const list = await until('served again', async () => {
    const l = await c.kubectl(['get', '--raw', '/apis/example.com/v1/widgets']);
    return l.code === 0 ? JSON.parse(l.stdout) : undefined;
  });
  t.deepEqual(list.items, []);
});

test.serial('the garbage collector deletes a custom object whose owner is gone', async (t) => {
  await c.ok(['create', 'configmap', 'owner']);
  const owner = JSON.parse(await c.ok(['get', 'configmap', 'owner', '-o', 'json']));
  const dependent = JSON.parse(widget('owned', { color: 'red' }));
  dependent.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid }];
  await c.ok(['create', '-f', '-'], { input: JSON.stringify(dependent) });
  await c.ok(['delete', 'configmap', 'owner']);
  // the collector finds the new resource at its next discovery
  await until('owned widget collected', async () => (await c.kubectl(['get', 'widget', 'owned'])).code === 1, 20_000);
  t.pass();
});

/** apiserver_request_total and apiserver_longrunning_requests (open watches) for one resource. */
async function requestsFor(resource: string): Promise<{ total: number; watching: number }> {
  const text = await c.ok(['get', '--raw', '/metrics']);
  const sum = (metric: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(`${metric}{`) && l.includes(`resource="${resource}"`))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  return { total: sum('apiserver_request_total'), watching: sum('apiserver_longrunning_requests') };
}

test.serial('the garbage collector stops watching a custom resource once its CRD is deleted', async (t) => {
  const crd = widgetCRD();
  crd.metadata.name = 'gadgets.example.com';
  crd.spec.names = { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', shortNames: [], categories: [] };
  await c.ok(['apply', '-f', '-'], { input: JSON.stringify(crd) });
  await c.ok(['wait', '--for=condition=Established', 'crd/gadgets.example.com', '--timeout=20s']);
  // the collector lists and watches the new resource
  await until('collector watching gadgets', async () => (await requestsFor('gadgets')).watching >= 1, 20_000);
  // a client's watch ends when the resource goes, as upstream ends it with the CRD's storage
  const clientWatch = c.kubectl(['get', '--raw', '/apis/example.com/v1/gadgets?watch=true'], { timeoutMs: 40_000 });
  await until('the client watching too', async () => (await requestsFor('gadgets')).watching >= 2, 20_000);
  await c.ok(['delete', 'crd', 'gadgets.example.com', '--timeout=30s']);
  const ended = await clientWatch;
  t.is(ended.code, 0, `the client's watch did not end cleanly: ${ended.stderr}`);
  await until('gadgets no longer served', async () => (await c.kubectl(['get', '--raw', '/apis/example.com/v1/gadgets'])).code !== 0, 20_000);
  // after a discovery pass or two nothing watches or lists the gone resource any more
  await new Promise((r) => setTimeout(r, 2_000));
  const before = await requestsFor('gadgets');
  await new Promise((r) => setTimeout(r, 3_000));
  const after = await requestsFor('gadgets');
  t.is(after.watching, 0, "a watch on a deleted CRD's resource stayed open");
  t.is(after.total, before.total, "requests for a deleted CRD's resource kept coming");
});
