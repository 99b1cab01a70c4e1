// [sig-api-machinery] AggregatedDiscovery, mirroring upstream's aggregated_discovery.go: /api and
// /apis asked for with the aggregated discovery Accept header answer apidiscovery.k8s.io/v2
// APIGroupDiscoveryLists naming upstream's expected built-in resources, and a new CRD's resource
// joins them. The "interface" tests ask as client-go's AggregatedDiscoveryInterface
// (GroupsAndMaybeResources) does, with its Accept list, and split the answer into groups and
// resources by group/version as it does; `kubectl api-versions` (the same client) must agree.
import { conformance, until, type Ctx } from '../conformance/fixture.ts';
import { rawRequest } from '../conformance/raw.ts';

const it = conformance('aggregateddiscovery');

interface GVR {
  group: string;
  version: string;
  resource: string;
}

const expectedLegacyGVR: GVR[] = [{ group: '', version: 'v1', resource: 'namespaces' }];
const expectedGVR: GVR[] = [
  ['admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations'],
  ['apiextensions.k8s.io', 'v1', 'customresourcedefinitions'],
  ['apiregistration.k8s.io', 'v1', 'apiservices'],
  ['apps', 'v1', 'deployments'],
  ['authentication.k8s.io', 'v1', 'tokenreviews'],
  ['authorization.k8s.io', 'v1', 'selfsubjectaccessreviews'],
  ['autoscaling', 'v1', 'horizontalpodautoscalers'],
  ['autoscaling', 'v2', 'horizontalpodautoscalers'],
  ['batch', 'v1', 'jobs'],
  ['certificates.k8s.io', 'v1', 'certificatesigningrequests'],
  ['coordination.k8s.io', 'v1', 'leases'],
  ['discovery.k8s.io', 'v1', 'endpointslices'],
  ['events.k8s.io', 'v1', 'events'],
  ['networking.k8s.io', 'v1', 'ingresses'],
  ['node.k8s.io', 'v1', 'runtimeclasses'],
  ['policy', 'v1', 'poddisruptionbudgets'],
  ['scheduling.k8s.io', 'v1', 'priorityclasses'],
  ['storage.k8s.io', 'v1', 'csinodes'],
].map(([group, version, resource]) => ({ group, version, resource }));

const aggregatedAccept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
// what client-go's discovery client sends (AcceptV2 and AcceptV2Beta1 before the legacy forms)
const clientGoAccept =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

interface GroupDiscoveryList {
  kind: string;
  apiVersion: string;
  items: { metadata: { name?: string }; versions: { version: string; resources: { resource: string }[] }[] }[];
}

async function discovery(c: Ctx, path: '/api' | '/apis', accept: string): Promise<GroupDiscoveryList> {
  const r = await rawRequest(c.env.kubeconfig, 'GET', path, 15_000, { headers: { accept } });
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.text}`);
  const list = JSON.parse(r.text) as GroupDiscoveryList;
  if (list.kind !== 'APIGroupDiscoveryList' || list.apiVersion !== 'apidiscovery.k8s.io/v2')
    throw new Error(`GET ${path} answered ${r.headers['content-type']} ${list.kind} ${list.apiVersion}, not an aggregated document`);
  return list;
}

/** upstream's isGVRPresentAPIDiscovery */
const inDiscovery = (list: GroupDiscoveryList, gvr: GVR) =>
  list.items.some(
    (g) => (g.metadata.name ?? '') === gvr.group && g.versions.some((v) => v.version === gvr.version && v.resources.some((r) => r.resource === gvr.resource)),
  );

const name = (gvr: GVR) => `${gvr.group}/${gvr.version}/${gvr.resource}`;

/** client-go's GroupsAndMaybeResources: both documents, split into group/versions and resources by group/version */
async function groupsAndResources(c: Ctx): Promise<{ groupVersions: Set<string>; resourcesByGV: Map<string, Set<string>> }> {
  const groupVersions = new Set<string>();
  const resourcesByGV = new Map<string, Set<string>>();
  for (const path of ['/api', '/apis'] as const) {
    for (const g of (await discovery(c, path, clientGoAccept)).items) {
      for (const v of g.versions) {
        const gv = `${g.metadata.name ?? ''}/${v.version}`;
        groupVersions.add(gv);
        resourcesByGV.set(gv, new Set(v.resources.map((r) => r.resource)));
      }
    }
  }
  return { groupVersions, resourcesByGV };
}

/** upstream's test CRD: group<random>.example.com, resource testcrds, kind testcrd, namespaced, allow-all schema */
function testCRD(c: Ctx): GVR {
  const group = `group${Math.random().toString(36).slice(2, 7)}.example.com`;
  c.kc.create({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `testcrds.${group}` },
    spec: {
      group,
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      names: { plural: 'testcrds', singular: 'testcrd', kind: 'testcrd', listKind: 'testcrdList' },
      scope: 'Namespaced',
    },
  });
  return { group, version: 'v1', resource: 'testcrds' };
}

it('[sig-api-machinery] AggregatedDiscovery should support raw aggregated discovery endpoint Accept headers [Conformance]', async (t, c) => {
  const apis = await discovery(c, '/apis', aggregatedAccept);
  t.deepEqual(expectedGVR.filter((gvr) => !inDiscovery(apis, gvr)).map(name), [], 'every expected resource is in /apis');
  const legacy = await discovery(c, '/api', aggregatedAccept);
  t.deepEqual(expectedLegacyGVR.filter((gvr) => !inDiscovery(legacy, gvr)).map(name), [], 'every expected resource is in /api');
});

it('[sig-api-machinery] AggregatedDiscovery should support raw aggregated discovery request for CRDs [Conformance]', async (t, c) => {
  const gvr = testCRD(c);
  t.teardown(() => {
    c.kc.run(['delete', 'crd', `testcrds.${gvr.group}`, '--wait=false']);
  });
  await until(`${name(gvr)} in aggregated discovery`, async () => inDiscovery(await discovery(c, '/apis', aggregatedAccept), gvr), 30_000, 1000);
  t.pass();
});

it('[sig-api-machinery] AggregatedDiscovery should support aggregated discovery interface [Conformance]', async (t, c) => {
  const { groupVersions, resourcesByGV } = await groupsAndResources(c);
  const all = [...expectedGVR, ...expectedLegacyGVR];
  t.deepEqual(all.filter((gvr) => !resourcesByGV.get(`${gvr.group}/${gvr.version}`)?.has(gvr.resource)).map(name), [], 'every expected resource is present');
  t.deepEqual(all.filter((gvr) => !groupVersions.has(`${gvr.group}/${gvr.version}`)).map(name), [], 'every expected group/version is present');
  // kubectl's own discovery client reads the same documents
  const versions = new Set(c.kc.ok(['api-versions']).trim().split('\n'));
  t.deepEqual(
    all.map((gvr) => (gvr.group ? `${gvr.group}/${gvr.version}` : gvr.version)).filter((gv) => !versions.has(gv)),
    [],
    'kubectl api-versions lists them',
  );
});

it('[sig-api-machinery] AggregatedDiscovery should support aggregated discovery interface for CRDs [Conformance]', async (t, c) => {
  const gvr = testCRD(c);
  t.teardown(() => {
    c.kc.run(['delete', 'crd', `testcrds.${gvr.group}`, '--wait=false']);
  });
  await until(
    `${name(gvr)} in discovery`,
    async () => (await groupsAndResources(c)).resourcesByGV.get(`${gvr.group}/${gvr.version}`)?.has(gvr.resource),
    30_000,
    1000,
  );
  t.pass();
});
