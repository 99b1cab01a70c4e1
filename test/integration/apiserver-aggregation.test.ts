// API aggregation (apiregistration.k8s.io/v1) against a real API server, the real kubectl and an
// aggregated HTTPS server on loopback (_aggregated-server.ts) that trusts only the front-proxy CA
// published in extension-apiserver-authentication: APIServices are validated with upstream's
// messages and listed with their columns (the built-in groups as Local ones); a Service-backed
// one turns Available after its discovery check, joins /apis, aggregated discovery and OpenAPI,
// and its requests are authorized here and then proxied with the caller in X-Remote-* headers
// (a watch streams through); a bad caBundle or a missing Service makes it Available=False with
// upstream's reasons and its requests a plain 503, while the rest of the API keeps serving.
import test from 'ava';
import { statSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { type Cluster, until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { rawClient, type RawClient } from './_https.ts';
import { type AggregatedServer, GROUP, startAggregatedServer, VERSION } from './_aggregated-server.ts';
import { loadKubeconfig } from '../../agents/api/kubeconfig.ts';

let c: Cluster;
let api: RawClient;
let agg: AggregatedServer;
let other: AggregatedServer;

const APISERVICES = '/apis/apiregistration.k8s.io/v1/apiservices';
const NS = 'wardle';

fileCluster(
  async (cluster, own) => {
    c = cluster;
    api = own(rawClient(c.admin, 15_000));
    const cm = await until('the authentication ConfigMap', async () => {
      const r = await api.request('GET', '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication');
      return r.status === 200 ? r.body : undefined;
    });
    const allowedNames = JSON.parse(cm.data['requestheader-allowed-names']) as string[];
    agg = await startAggregatedServer({ requestHeaderCA: cm.data['requestheader-client-ca-file'], allowedNames, dnsNames: [`api.${NS}.svc`] });
    // a server whose CA nobody names: the bad caBundle case
    other = await startAggregatedServer({ requestHeaderCA: cm.data['requestheader-client-ca-file'], allowedNames, dnsNames: [`api.${NS}.svc`] });
    await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await api.request('POST', `/api/v1/namespaces/${NS}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'api', namespace: NS },
      spec: { ports: [{ name: 'https', port: 443, targetPort: agg.port }] },
    });
    await api.request('POST', `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'api-manual', namespace: NS, labels: { 'kubernetes.io/service-name': 'api', 'endpointslice.kubernetes.io/managed-by': 'test' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
      ports: [{ name: 'https', port: agg.port, protocol: 'TCP' }],
    });
  },
  { extra: { gcRediscoverMs: 1000 } },
);
test.after.always(async () => {
  await agg?.close();
  await other?.close();
});

const apiService = (group: string, version: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'apiregistration.k8s.io/v1',
  kind: 'APIService',
  metadata: { name: `${version}.${group}` },
  spec: { group, version, groupPriorityMinimum: 1000, versionPriority: 15, ...spec },
});
const wardle = (caBundle: string) => apiService(GROUP, VERSION, { service: { namespace: NS, name: 'api' }, caBundle });

const causes = (r: { body: any }) => (r.body?.details?.causes ?? []).map((x: any) => `${x.field}: ${x.message}`);

async function available(name: string, want: string): Promise<any> {
  return until(
    `${name} Available=${want}`,
    async () => {
      const r = await api.request('GET', `${APISERVICES}/${name}`);
      const cond = (r.body?.status?.conditions ?? []).find((x: any) => x.type === 'Available');
      return cond?.status === want ? cond : undefined;
    },
    15_000,
  );
}

test.serial('the built-in groups are Local APIServices, Available, with kubectl get apiservices columns', async (t) => {
  await available('v1.', 'True');
  await available('v1.apps', 'True');
  const out = await c.ok(['get', 'apiservices']);
  t.regex(out, /^NAME\s+SERVICE\s+AVAILABLE\s+AGE$/m);
  t.regex(out, /^v1\.\s+Local\s+True\s+\S+$/m);
  t.regex(out, /^v2\.autoscaling\s+Local\s+True\s+\S+$/m);
  const v1 = (await api.request('GET', `${APISERVICES}/v1.`)).body;
  t.deepEqual(v1.spec, { group: '', version: 'v1', groupPriorityMinimum: 18000, versionPriority: 1 });
  const cond = (await api.request('GET', `${APISERVICES}/v1.apps`)).body.status.conditions[0];
  t.like(cond, { type: 'Available', status: 'True', reason: 'Local', message: 'Local APIServices are always available' });
});

test.serial('APIServices are validated with upstream messages', async (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [
      { ...apiService('a.example.com', 'v1'), metadata: { name: 'v2.a.example.com' } },
      'metadata.name: Invalid value: "v2.a.example.com": must be `spec.version+"."+spec.group`: "v1.a.example.com"',
    ],
    [apiService('a.example.com', 'v1', { groupPriorityMinimum: 0 }), 'spec.groupPriorityMinimum: Invalid value: 0: must be positive and less than 20000'],
    [apiService('a.example.com', 'v1', { versionPriority: 1001 }), 'spec.versionPriority: Invalid value: 1001: must be positive and less than 1000'],
    [
      apiService('a.example.com', 'v1', { caBundle: Buffer.from('abc').toString('base64') }),
      'spec.caBundle: Invalid value: "3 bytes": local APIServices may not have a caBundle',
    ],
    [
      apiService('a.example.com', 'v1', { insecureSkipTLSVerify: true }),
      'spec.insecureSkipTLSVerify: Invalid value: true: local APIServices may not have insecureSkipTLSVerify',
    ],
    [
      apiService('a.example.com', 'v1', { service: { namespace: 'x', name: 'y' }, insecureSkipTLSVerify: true, caBundle: agg.caBundle }),
      'spec.insecureSkipTLSVerify: Invalid value: true: may not be true if caBundle is present',
    ],
    [apiService('a.example.com', 'v1', { service: { name: 'y' } }), 'spec.service.namespace: Required value'],
    [apiService('', 'v2'), 'spec.group: Required value: only v1 may have an empty group and it better be legacy kube'],
  ];
  for (const [body, want] of cases) {
    const r = await api.request('POST', APISERVICES, body);
    t.is(r.status, 422, want);
    t.true(causes(r).includes(want), `${want} in ${JSON.stringify(causes(r))}`);
  }
  t.is((await api.request('GET', `${APISERVICES}/v1.a.example.com`)).status, 404, 'nothing stored');
});

test.serial('the front-proxy CA and client certificate exist with private keys, published in extension-apiserver-authentication', async (t) => {
  const dir = join(c.dir, 'tls', 'front-proxy');
  t.is(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);
  t.is(statSync(join(dir, 'front-proxy-client.key')).mode & 0o777, 0o600);
  const cm = (await api.request('GET', '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication')).body;
  t.deepEqual(Object.keys(cm.data).sort(), [
    'client-ca-file',
    'requestheader-allowed-names',
    'requestheader-client-ca-file',
    'requestheader-extra-headers-prefix',
    'requestheader-group-headers',
    'requestheader-username-headers',
  ]);
  t.is(cm.data['requestheader-username-headers'], '["X-Remote-User"]');
  t.is(cm.data['requestheader-group-headers'], '["X-Remote-Group"]');
  t.is(cm.data['requestheader-extra-headers-prefix'], '["X-Remote-Extra-"]');
  t.is(cm.data['requestheader-allowed-names'], '["front-proxy-client"]');
  t.is(cm.data['client-ca-file'], String(loadKubeconfig(c.admin).ca));
  t.not(cm.data['requestheader-client-ca-file'], cm.data['client-ca-file']);
});

test.serial('an aggregated server bound as upstream charts bind it reads extension-apiserver-authentication and delegates authn and authz', async (t) => {
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  const subjects = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'wardle-server' }];
  t.is(
    (
      await api.request('POST', `${rbac}/namespaces/kube-system/rolebindings`, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'wardle-auth-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' },
        subjects,
      })
    ).status,
    201,
  );
  t.is(
    (
      await api.request('POST', `${rbac}/clusterrolebindings`, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'wardle:system:auth-delegator' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
        subjects,
      })
    ).status,
    201,
  );
  const server = rawClient(await c.identity('wardle-server', []), 10_000);
  t.teardown(() => server.close());
  t.is((await server.request('GET', '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication')).status, 200);
  t.is((await server.request('GET', '/api/v1/namespaces/kube-system/configmaps/kube-root-ca.crt')).status, 403, 'only that ConfigMap');
  t.is(
    (
      await server.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token: 'x' },
      })
    ).status,
    201,
  );
  const sar = {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: { user: 'someone', resourceAttributes: { group: GROUP, resource: 'flunders', verb: 'list' } },
  };
  t.is((await server.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', sar)).status, 201);
});

test.serial('an APIService with a Service turns Available, joins discovery and is proxied with the caller as X-Remote-User', async (t) => {
  t.is((await api.request('POST', APISERVICES, wardle(agg.caBundle))).status, 201);
  t.like(await available(`${VERSION}.${GROUP}`, 'True'), { reason: 'Passed', message: 'all checks passed' });
  t.regex(await c.ok(['get', 'apiservices', `${VERSION}.${GROUP}`]), new RegExp(`${VERSION}\\.${GROUP}\\s+${NS}/api\\s+True`));
  const groups = (await api.request('GET', '/apis')).body.groups as any[];
  t.deepEqual(groups.find((g) => g.name === GROUP)?.preferredVersion, { groupVersion: `${GROUP}/${VERSION}`, version: VERSION });
  t.is((await api.request('GET', `/apis/${GROUP}`)).body.kind, 'APIGroup');
  t.like((await api.request('GET', `/apis/${GROUP}/${VERSION}`)).body, { kind: 'APIResourceList', groupVersion: `${GROUP}/${VERSION}` });
  const index = (await api.request('GET', '/openapi/v3')).body.paths;
  t.truthy(index[`apis/${GROUP}/${VERSION}`]);
  t.is((await api.request('GET', index[`apis/${GROUP}/${VERSION}`].serverRelativeURL)).body.info.title, 'wardle');

  // kubectl reads aggregated discovery, then lists, creates and gets through the proxy
  t.regex(await c.ok(['api-resources', '--api-group', GROUP]), new RegExp(`^flunders\\s+${GROUP}/${VERSION}\\s+true\\s+Flunder$`, 'm'));
  await c.ok(['create', '-n', NS, '-f', '-'], { input: JSON.stringify({ apiVersion: `${GROUP}/${VERSION}`, kind: 'Flunder', metadata: { name: 'f1' } }) });
  t.regex(await c.ok(['get', 'flunders', '-n', NS]), /^f1\s+/m);
  t.is(JSON.parse(await c.ok(['get', 'flunder', 'f1', '-n', NS, '-o', 'json'])).metadata.name, 'f1');
  const create = agg.seen.find((s) => s.method === 'POST');
  t.like(create, { user: 'admin', path: `/apis/${GROUP}/${VERSION}/namespaces/${NS}/flunders` });
  t.true(create!.groups.includes('system:masters'));
});

test.serial('the garbage collector keeps rediscovering while an aggregated group is served', async (t) => {
  // a CRD made after the aggregated group: a dependent of its object is collected only once the collector watches it
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'gadgets.gc.example.com' },
    spec: {
      group: 'gc.example.com',
      scope: 'Namespaced',
      names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  };
  t.is((await api.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status, 201);
  t.teardown(() => api.request('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.gc.example.com'));
  const gadgets = `/apis/gc.example.com/v1/namespaces/${NS}/gadgets`;
  const owner = await until('the CRD served', async () => {
    const r = await api.request('POST', gadgets, { apiVersion: 'gc.example.com/v1', kind: 'Gadget', metadata: { name: 'g1' } });
    return r.status === 201 ? r.body : undefined;
  });
  // the collector rediscovers every second here: give it a few passes to pick the new kind up
  await new Promise((r) => setTimeout(r, 3000));
  const ownerReferences = [{ apiVersion: 'gc.example.com/v1', kind: 'Gadget', name: 'g1', uid: owner.metadata.uid }];
  t.is(
    (await api.request('POST', `/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owned', ownerReferences } }))
      .status,
    201,
  );
  t.is((await api.request('DELETE', `${gadgets}/g1`)).status, 200);
  await until('the dependent collected', async () => (await api.request('GET', `/api/v1/namespaces/${NS}/configmaps/owned`)).status === 404, 15_000);
  t.pass();
});

test.serial('requests are authorized before they are proxied: a user without rights gets 403 and the backend never sees it', async (t) => {
  const before = agg.seen.length;
  const nobody = rawClient(await c.identity('nobody', []), 10_000);
  t.teardown(() => nobody.close());
  const r = await nobody.request('GET', `/apis/${GROUP}/${VERSION}/namespaces/${NS}/flunders`);
  t.is(r.status, 403);
  t.is(r.body.message, `flunders.${GROUP} is forbidden: User "nobody" cannot list resource "flunders" in API group "${GROUP}" in the namespace "${NS}"`);
  t.is(agg.seen.length, before);
});

test.serial('a watch streams through the proxy event by event', async (t) => {
  const { ca, cert, key, server } = loadKubeconfig(c.admin);
  const u = new URL(server);
  const events: any[] = [];
  const req = https.request({
    host: u.hostname,
    port: u.port,
    path: `/apis/${GROUP}/${VERSION}/namespaces/${NS}/flunders?watch=true`,
    ca,
    cert,
    key,
    agent: false,
  });
  t.teardown(() => req.destroy());
  const got = new Promise<void>((resolve, reject) => {
    req.on('response', (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          events.push(JSON.parse(buf.slice(0, i)));
          buf = buf.slice(i + 1);
        }
        if (events.some((e) => e.object.metadata.name === 'f2')) resolve();
      });
    });
    req.on('error', reject);
  });
  req.end();
  await until('the initial event', async () => events.length > 0);
  agg.add(NS, 'f2');
  await got;
  t.deepEqual(
    events.map((e) => `${e.type} ${e.object.metadata.name}`),
    ['ADDED f1', 'ADDED f2'],
  );
});

test.serial('a bad caBundle is Available=False FailedDiscoveryCheck, its requests a plain 503, and the rest of the API keeps serving', async (t) => {
  const name = `${VERSION}.${GROUP}`;
  const cur = (await api.request('GET', `${APISERVICES}/${name}`)).body;
  t.is((await api.request('PUT', `${APISERVICES}/${name}`, { ...cur, spec: { ...cur.spec, caBundle: other.caBundle } })).status, 200);
  const cond = await available(name, 'False');
  t.is(cond.reason, 'FailedDiscoveryCheck');
  t.is(
    cond.message,
    `failing or missing response from https://127.0.0.1:${agg.port}/apis/${GROUP}/${VERSION}: Get "https://127.0.0.1:${agg.port}/apis/${GROUP}/${VERSION}": tls: failed to verify certificate: x509: certificate signed by unknown authority`,
  );
  const r = await api.request('GET', `/apis/${GROUP}/${VERSION}/namespaces/${NS}/flunders`);
  t.is(r.status, 503);
  t.is(r.text, 'service unavailable\n');
  t.falsy(
    ((await api.request('GET', '/apis')).body.groups as any[]).find((g) => g.name === GROUP),
    'not in discovery while unavailable',
  );
  t.regex(await c.ok(['get', 'apiservices', name]), /False \(FailedDiscoveryCheck\)/);
  t.is((await api.request('GET', '/api/v1/namespaces/default')).status, 200);
  t.regex(await c.ok(['get', 'configmaps', '-n', 'kube-system']), /extension-apiserver-authentication/);
});

test.serial('an APIService whose Service is missing is Available=False ServiceNotFound', async (t) => {
  const body = apiService('gone.example.com', 'v1', { service: { namespace: NS, name: 'nothere' } });
  t.is((await api.request('POST', APISERVICES, body)).status, 201);
  t.like(await available('v1.gone.example.com', 'False'), { reason: 'ServiceNotFound', message: `service/nothere in "${NS}" is not present` });
  t.is((await api.request('GET', '/apis/gone.example.com/v1/foos')).status, 503);
  t.is((await api.request('DELETE', `${APISERVICES}/v1.gone.example.com`)).status, 200);
  t.is((await api.request('GET', '/apis/gone.example.com/v1/foos')).status, 404, 'served here again once the APIService is gone');
});
