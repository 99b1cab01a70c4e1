// [sig-api-machinery] CustomResourceConversionWebhook, mirroring upstream's crd_conversion_webhook.go:
// a CRD with v1 (hostPort) and v2 (host, port) converted by upstream's sample webhook; a v1 object
// reads as v2, and a list of objects stored in both versions reads whole in either. Upstream runs
// the webhook as a pod behind a Service; here it is a process on 127.0.0.1
// (helpers/admission-webhook.ts, /crdconvert) named by URL; the Service path and the failure cases are covered
// by test/integration/apiserver-crd-conversion.test.ts.
import { conformance, until, type Kube } from '../conformance/fixture.ts';
import { webhookProcess } from './helpers/webhook-process.ts';

const it = conformance('crd-conversion');
const webhook = webhookProcess();

const GROUP = 'stable.example.com';

/** upstream's CRD with two versions and webhook conversion (storage in `storage`) */
function conversionCRD(ns: string, storage: 'v1' | 'v2'): { crd: Record<string, unknown>; plural: string; kind: string } {
  const hook = webhook.current();
  const plural = `e2e-test-crd-webhook-${ns}-crds`;
  const kind = `E2eTestCrdWebhook${ns.replace(/[^a-z0-9]/g, '')}Crd`;
  const version = (name: string, props: string[]) => ({
    name,
    served: true,
    storage: storage === name,
    schema: { openAPIV3Schema: { type: 'object', properties: Object.fromEntries(props.map((p) => [p, { type: 'string' }])) } },
  });
  return {
    plural,
    kind,
    crd: {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${plural}.${GROUP}` },
      spec: {
        group: GROUP,
        scope: 'Namespaced',
        names: { plural, singular: `e2e-test-crd-webhook-${ns}-crd`, kind, listKind: `${kind}List` },
        versions: [version('v1', ['hostPort']), version('v2', ['host', 'port'])],
        conversion: {
          strategy: 'Webhook',
          webhook: { clientConfig: { url: `https://127.0.0.1:${hook.port}/crdconvert`, caBundle: hook.caBundle }, conversionReviewVersions: ['v1', 'v1beta1'] },
        },
      },
    },
  };
}

/** Creates the CRD (deleted after the test) and waits until both versions are served. */
async function withCRD(t: { teardown(fn: () => void): void }, c: { ns: string; kc: Kube; k: Kube }, storage: 'v1' | 'v2') {
  const d = conversionCRD(c.ns, storage);
  c.kc.create(d.crd);
  t.teardown(() => {
    c.kc.run(['delete', 'crd', `${d.plural}.${GROUP}`, '--wait=false']);
  });
  c.kc.ok(['wait', '--for=condition=Established', `crd/${d.plural}.${GROUP}`, '--timeout=30s']);
  await until('both versions are served', () => ['v1', 'v2'].every((v) => c.k.run(['get', `${d.plural}.${v}.${GROUP}`]).code === 0), 30_000, 200);
  return d;
}

it('[sig-api-machinery] CustomResourceConversionWebhook [Privileged:ClusterAdmin] should be able to convert from CR v1 to CR v2 [Conformance]', async (t, c) => {
  const d = await withCRD(t, c, 'v1');
  c.k.create({ apiVersion: `${GROUP}/v1`, kind: d.kind, metadata: { name: 'cr-instance-1' }, hostPort: 'localhost:8080' });
  const v2 = c.k.json(['get', `${d.plural}.v2.${GROUP}`, 'cr-instance-1']);
  t.is(v2.apiVersion, `${GROUP}/v2`);
  t.is(v2.host, 'localhost');
  t.is(v2.port, '8080');
  t.false('hostPort' in v2);
});

it('[sig-api-machinery] CustomResourceConversionWebhook [Privileged:ClusterAdmin] should be able to convert a non homogeneous list of CRs [Conformance]', async (t, c) => {
  const d = await withCRD(t, c, 'v1');
  c.k.create({ apiVersion: `${GROUP}/v1`, kind: d.kind, metadata: { name: 'cr-instance-1' }, hostPort: 'localhost:8080' });
  // upstream: the storage version becomes v2, then a v2 object is created beside the v1-stored one
  c.kc.apply(conversionCRD(c.ns, 'v2').crd);
  await until('v2 is the storage version', () => c.kc.json(['get', 'crd', `${d.plural}.${GROUP}`]).status?.storedVersions?.includes('v2'), 30_000, 200);
  c.k.create({ apiVersion: `${GROUP}/v2`, kind: d.kind, metadata: { name: 'cr-instance-2' }, host: 'localhost', port: '8080' });
  const v1 = c.k.json(['get', `${d.plural}.v1.${GROUP}`]).items as any[];
  t.deepEqual(
    v1.map((i) => [i.metadata.name, i.apiVersion, i.hostPort]),
    [
      ['cr-instance-1', `${GROUP}/v1`, 'localhost:8080'],
      ['cr-instance-2', `${GROUP}/v1`, 'localhost:8080'],
    ],
  );
  const v2 = c.k.json(['get', `${d.plural}.v2.${GROUP}`]).items as any[];
  t.deepEqual(
    v2.map((i) => [i.metadata.name, i.apiVersion, i.host, i.port]),
    [
      ['cr-instance-1', `${GROUP}/v2`, 'localhost', '8080'],
      ['cr-instance-2', `${GROUP}/v2`, 'localhost', '8080'],
    ],
  );
});
