// Wire details clients compare or depend on: Status bodies in kube-apiserver's byte layout (Go's
// json.Encoder: struct field order, then a newline), and boolean query parameters read as
// upstream's parameter codec reads them (Convert_Slice_string_To_bool and _To_Pointer_bool: only
// "0" and "false" in any case are false; anything else, "True" or "1" included, is true).
import test from 'ava';
import https from 'node:https';
import { loadKubeconfig } from '../../agents/api/kubeconfig.ts';
import type { Cluster } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { type RawClient, rawClient } from './_https.ts';

let c: Cluster;
let api: RawClient;
fileCluster((cluster, own) => {
  c = cluster;
  api = own(rawClient(c.admin));
});

const CMS = '/api/v1/namespaces/default/configmaps';

test.serial('a Status body is laid out as kube-apiserver writes it, newline included', async (t) => {
  const r = await api.request('GET', `${CMS}/nope`);
  t.is(r.status, 404);
  t.is(
    r.text,
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \\"nope\\" not found","reason":"NotFound","details":{"name":"nope","kind":"configmaps"},"code":404}\n',
  );
  const bad = await api.request('POST', CMS, '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}}');
  t.is(bad.status, 422);
  t.regex(
    bad.text,
    /^\{"kind":"Status","apiVersion":"v1","metadata":\{\},"status":"Failure","message":"[^]*","reason":"Invalid","details":\{"name":"Bad_Name","kind":"ConfigMap","causes":\[[^]*\]\},"code":422\}\n$/,
  );
});

test.serial('a Status refused before the handler (401 on a request without credentials) has the same layout', async (t) => {
  const { server, ca } = loadKubeconfig(c.admin);
  const u = new URL(server);
  const text = await new Promise<string>((resolve, reject) => {
    https
      .get({ host: u.hostname, port: u.port, path: CMS, ca, agent: false }, (r) => {
        let b = '';
        r.on('data', (d) => (b += d));
        r.on('end', () => resolve(b));
      })
      .on('error', reject);
  });
  t.is(text, '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}\n');
});

for (const value of ['True', 'TRUE', '1', 't', 'yes', '']) {
  test.serial(`watch=${JSON.stringify(value)} is a watch, as upstream's codec reads it`, async (t) => {
    const { server, ca, cert, key } = loadKubeconfig(c.admin);
    const u = new URL(server);
    const first = await new Promise<{ type: string; chunked: boolean }>((resolve, reject) => {
      const req = https.get({ host: u.hostname, port: u.port, path: `${CMS}?watch=${value}&timeoutSeconds=5`, ca, cert, key, agent: false }, (r) => {
        r.once('data', (d: Buffer) => {
          resolve({ type: JSON.parse(d.toString().split('\n')[0]!).type, chunked: r.headers['transfer-encoding'] === 'chunked' });
          req.destroy();
        });
      });
      req.on('error', reject);
    });
    t.is(first.type, 'ADDED');
    t.true(first.chunked);
  });
}

for (const value of ['false', 'False', 'FALSE', '0']) {
  test.serial(`watch=${value} is a plain list`, async (t) => {
    const r = await api.request('GET', `${CMS}?watch=${value}`);
    t.is(r.status, 200);
    t.is(r.body.kind, 'ConfigMapList');
  });
}

test.serial('force=True on a server-side apply takes over a conflicting field, as force=true does', async (t) => {
  const cm = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: forced\ndata:\n  k: "${v}"\n`;
  t.is((await api.request('PATCH', `${CMS}/forced?fieldManager=a`, cm('a'), 'application/apply-patch+yaml')).status, 201);
  const conflict = await api.request('PATCH', `${CMS}/forced?fieldManager=b`, cm('b'), 'application/apply-patch+yaml');
  t.is(conflict.status, 409);
  const forced = await api.request('PATCH', `${CMS}/forced?fieldManager=b&force=True`, cm('b'), 'application/apply-patch+yaml');
  t.is(forced.status, 200, JSON.stringify(forced.body));
  t.is(forced.body.data.k, 'b');
  t.is((await api.request('DELETE', `${CMS}/forced`)).status, 200);
});
