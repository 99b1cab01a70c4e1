// API aggregation (apiregistration.k8s.io/v1) against a real API server: APIServices are
// validated with kube-aggregator's messages; the front-proxy CA and client certificate are made
// and published in kube-system/extension-apiserver-authentication.
import test from 'ava';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { rawClient, type RawClient } from './_https.ts';
import { loadKubeconfig } from '../../agents/api/kubeconfig.ts';

let c: Cluster;
let api: RawClient;

const APISERVICES = '/apis/apiregistration.k8s.io/v1/apiservices';

fileCluster(async (cluster, own) => {
  c = cluster;
  api = own(rawClient(c.admin, 15_000));
});

const apiService = (group: string, version: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: `${version}.${group}` },
  spec: { group, version, groupPriorityMinimum: 1000, versionPriority: 15, ...spec },
});

const causes = (r: { body: any }) => (r.body?.details?.causes ?? []).map((x: any) => `${x.field}: ${x.message}`);

test.serial('APIServices are validated with upstream messages', async (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ ...apiService('a.example.com', 'v1'), metadata: { name: 'v2.a.example.com' } }, 'metadata.name: Invalid value: "v2.a.example.com": must be `spec.version+"."+spec.group`: "v1.a.example.com"'],
    [apiService('a.example.com', 'v1', { groupPriorityMinimum: 0 }), 'spec.groupPriorityMinimum: Invalid value: 0: must be positive and less than 20000'],
    [apiService('a.example.com', 'v1', { versionPriority: 1001 }), 'spec.versionPriority: Invalid value: 1001: must be positive and less than 1000'],
    [apiService('a.example.com', 'v1', { caBundle: Buffer.from('abc').toString('base64') }), 'spec.caBundle: Invalid value: "3 bytes": local APIServices may not have a caBundle'],
    [apiService('a.example.com', 'v1', { insecureSkipTLSVerify: true }), 'spec.insecureSkipTLSVerify: Invalid value: true: local APIServices may not have insecureSkipTLSVerify'],
    [apiService('a.example.com', 'v1', { service: { namespace: 'x', name: 'y' }, insecureSkipTLSVerify: true, caBundle: Buffer.from('-----BEGIN CERTIFICATE-----').toString('base64') }), 'spec.insecureSkipTLSVerify: Invalid value: true: may not be true if caBundle is present'],
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


test.serial('kubectl get apiservices shows NAME SERVICE AVAILABLE AGE', async (t) => {
  t.is((await api.request('POST', APISERVICES, apiService('b.example.com', 'v1'))).status, 201);
  t.teardown(() => api.request('DELETE', `${APISERVICES}/v1.b.example.com`));
  const out = await c.ok(['get', 'apiservices', 'v1.b.example.com']);
  t.regex(out, /^NAME\s+SERVICE\s+AVAILABLE\s+AGE$/m);
  t.regex(out, /^v1\.b\.example\.com\s+Local\s+Unknown\s+\S+$/m);
});

test.serial('the front-proxy CA and client certificate exist with private keys, published in extension-apiserver-authentication', async (t) => {
  const dir = join(c.dir, 'tls', 'front-proxy');
  t.is(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);
  t.is(statSync(join(dir, 'front-proxy-client.key')).mode & 0o777, 0o600);
  const cm = (await api.request('GET', '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication')).body;
  t.deepEqual(Object.keys(cm.data).sort(), ['client-ca-file', 'requestheader-allowed-names', 'requestheader-client-ca-file', 'requestheader-extra-headers-prefix', 'requestheader-group-headers', 'requestheader-username-headers']);
  t.is(cm.data['requestheader-username-headers'], '["X-Remote-User"]');
  t.is(cm.data['requestheader-group-headers'], '["X-Remote-Group"]');
  t.is(cm.data['requestheader-extra-headers-prefix'], '["X-Remote-Extra-"]');
  t.is(cm.data['requestheader-allowed-names'], '["front-proxy-client"]');
  t.is(cm.data['client-ca-file'], String(loadKubeconfig(c.admin).ca));
  t.not(cm.data['requestheader-client-ca-file'], cm.data['client-ca-file']);
});
