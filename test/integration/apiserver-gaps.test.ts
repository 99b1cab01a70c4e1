// Gaps the conformance suite found (issue 4), driven with the real kubectl v1.35 against an
// in-process control plane: OpenAPI v2 for client-side validation, ReplicationControllers,
// PodTemplates and ResourceQuotas, 20 kB request lines, replace of an unchanged pod, status
// patches that carry metadata, strict duplicate fields, and aggregated discovery.
import test from 'ava';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { loadKubeconfig } from '../../agents/api/kubeconfig.ts';
import { type Cluster, until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';

let c: Cluster;
fileCluster((cluster) => {
  c = cluster;
});

const json = async (args: string[]) => JSON.parse(await c.ok([...args, '-o', 'json']));

test.serial('kubectl create -f of a v1 List validates against /openapi/v2 (protobuf) and creates each item', async (t) => {
  const list = {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'list-cm' }, data: { a: 'b' } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'list-svc' }, spec: { selector: { a: 'b' }, ports: [{ port: 80 }] } },
    ],
  };
  const out = await c.ok(['create', '-f', '-'], { input: JSON.stringify(list) });
  t.regex(out, /configmap\/list-cm created/);
  t.regex(out, /service\/list-svc created/);
  const doc = JSON.parse(await c.ok(['get', '--raw', '/openapi/v2']));
  t.is(doc.swagger, '2.0');
  t.deepEqual(doc.definitions['io.k8s.api.core.v1.Pod']['x-kubernetes-group-version-kind'], [{ group: '', version: 'v1', kind: 'Pod' }]);
  // client-side validation from the v2 document catches a wrong type before anything is sent
  const bad = await c.kubectl(['create', '--validate=true', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bad' }, data: 5 }] }),
  });
  t.not(bad.code, 0, bad.stdout);
});

test.serial('a ReplicationController runs, scales and owns its pods; kubectl prints and describes it', async (t) => {
  const rc = {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name: 'rc1' },
    spec: { replicas: 2, template: { metadata: { labels: { app: 'rc1' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
  };
  await c.ok(['create', '-f', '-'], { input: JSON.stringify(rc) });
  const stored = await json(['get', 'rc', 'rc1']);
  t.deepEqual(stored.spec.selector, { app: 'rc1' }, 'selector defaulted from the template labels');
  t.deepEqual(stored.metadata.labels, { app: 'rc1' }, 'labels defaulted from the template labels');
  const pods = async () => (await json(['get', 'pods', '-l', 'app=rc1'])).items.filter((p: any) => !p.metadata.deletionTimestamp);
  const first = await until(
    '2 pods',
    async () => {
      const p = await pods();
      return p.length === 2 && p;
    },
    20_000,
  );
  t.deepEqual(
    first.map((p: any) => p.metadata.ownerReferences?.[0]?.kind),
    ['ReplicationController', 'ReplicationController'],
  );
  await c.ok(['scale', 'rc', 'rc1', '--replicas=3']);
  await until('3 pods', async () => (await pods()).length === 3, 20_000);
  t.is((await json(['get', 'rc', 'rc1'])).status.replicas !== undefined, true);
  await until('status.replicas 3', async () => (await json(['get', 'rc', 'rc1'])).status.replicas === 3, 20_000);
  t.regex(await c.ok(['get', 'rc', 'rc1']), /^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\nrc1\s+3\s+3\s+0\s/m);
  t.regex(await c.ok(['describe', 'rc', 'rc1']), /Replicas:\s+3 current \/ 3 desired/);
  await c.ok(['delete', 'rc', 'rc1']);
  await until('pods gone with their RC', async () => (await pods()).length === 0, 30_000);
});

test.serial('PodTemplates are served with defaulting and a table', async (t) => {
  const pt = {
    apiVersion: 'v1',
    kind: 'PodTemplate',
    metadata: { name: 'pt1' },
    template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'img:1' }] } },
  };
  await c.ok(['create', '-f', '-'], { input: JSON.stringify(pt) });
  t.is((await json(['get', 'podtemplate', 'pt1'])).template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
  t.regex(await c.ok(['get', 'podtemplates']), /pt1\s+c\s+img:1\s+a=b/);
});

test.serial('a ResourceQuota reports hard and used, and refuses a create past hard with 403 exceeded quota', async (t) => {
  await c.ok(['create', 'namespace', 'quota-ns']);
  await c.ok(['create', 'quota', 'q', '-n', 'quota-ns', '--hard=pods=1,configmaps=1000000,requests.cpu=1']);
  const q = await until(
    'status.used',
    async () => {
      const o = await json(['get', 'quota', 'q', '-n', 'quota-ns']);
      return o.status?.used && o;
    },
    20_000,
  );
  t.deepEqual(q.spec.hard, { pods: '1', configmaps: '1M', 'requests.cpu': '1' });
  t.deepEqual(q.status.hard, q.spec.hard);
  t.is(q.status.used.pods, '0');
  await c.ok([
    'run',
    'p1',
    '-n',
    'quota-ns',
    '--image=busybox',
    '--overrides',
    JSON.stringify({ spec: { containers: [{ name: 'p1', image: 'busybox', resources: { requests: { cpu: '250m' } } }] } }),
  ]);
  await until(
    'used counts the pod',
    async () => {
      const u = (await json(['get', 'quota', 'q', '-n', 'quota-ns'])).status.used;
      return u.pods === '1' && u['requests.cpu'] === '250m';
    },
    20_000,
  );
  const bare = await c.kubectl(['run', 'p0', '-n', 'quota-ns', '--image=busybox']);
  t.regex(bare.stderr, /pods "p0" is forbidden: failed quota: q: must specify requests.cpu for: p0/);
  const r = await c.kubectl([
    'run',
    'p2',
    '-n',
    'quota-ns',
    '--image=busybox',
    '--overrides',
    JSON.stringify({ spec: { containers: [{ name: 'p2', image: 'busybox', resources: { requests: { cpu: '100m' } } }] } }),
  ]);
  t.not(r.code, 0);
  t.regex(r.stderr, /Forbidden.*pods "p2" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1/);
  t.is((await c.kubectl(['get', 'pod', 'p2', '-n', 'quota-ns'])).code, 1, 'nothing stored');
  t.regex(await c.ok(['get', 'quota', '-n', 'quota-ns']), /q\s+\S+\s+configmaps: \d+\/1M, pods: 1\/1, requests.cpu: 250m\/1/);
});

test.serial('quota: concurrent creates cannot share one count; compute-only quotas refuse bare pods; scopes select pods', async (t) => {
  await c.ok(['create', 'namespace', 'quota-race']);
  await c.ok(['create', 'quota', 'q', '-n', 'quota-race', '--hard=pods=2']);
  const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => c.kubectl(['run', `r${i}`, '-n', 'quota-race', '--image=busybox'])));
  t.is(runs.filter((r) => r.code === 0).length, 2, runs.map((r) => r.stderr.trim()).join(' | '));
  t.true(runs.filter((r) => r.code !== 0).every((r) => /exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2/.test(r.stderr)));

  await c.ok(['create', 'namespace', 'quota-compute']);
  await c.ok(['create', 'quota', 'compute', '-n', 'quota-compute', '--hard=requests.cpu=1,requests.memory=1Gi']);
  const bare = await c.kubectl(['run', 'bare', '-n', 'quota-compute', '--image=busybox']);
  t.regex(bare.stderr, /failed quota: compute: must specify requests.cpu for: bare; requests.memory for: bare/);

  await c.ok(['create', 'namespace', 'quota-scope']);
  await c.ok(['create', 'quota', 'be', '-n', 'quota-scope', '--hard=pods=1', '--scopes=BestEffort']);
  await c.ok(['run', 'be1', '-n', 'quota-scope', '--image=busybox']);
  const sized = { spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '10m' } } }] } };
  await c.ok(['run', 'sized', '-n', 'quota-scope', '--image=busybox', '--overrides', JSON.stringify(sized)]);
  const be2 = await c.kubectl(['run', 'be2', '-n', 'quota-scope', '--image=busybox']);
  t.regex(be2.stderr, /exceeded quota: be, requested: pods=1, used: pods=1, limited: pods=1/, 'the sized pod is outside the BestEffort scope');
  const used = await until('scoped status.used', async () => (await json(['get', 'quota', 'be', '-n', 'quota-scope'])).status?.used, 20_000);
  t.deepEqual(used, { pods: '1' });
});

test.serial('a 20 kB request line (exec arguments travel in the query) is accepted', async (t) => {
  const long = 'x'.repeat(20_000);
  const v = JSON.parse(await c.ok(['get', '--raw', `/version?pad=${long}`]));
  t.truthy(v.gitVersion);
});

test.serial('kubectl replace of an unchanged pod (get -o yaml | replace) is accepted', async (t) => {
  await c.ok(['run', 'rp', '--image=busybox']);
  const yaml = await c.ok(['get', 'pod', 'rp', '-o', 'yaml']);
  t.regex(await c.ok(['replace', '-f', '-'], { input: yaml }), /pod\/rp replaced/);
});

test.serial('a status patch of a Service keeps metadata changes and resets spec', async (t) => {
  await c.ok(['create', 'service', 'clusterip', 'st', '--tcp=80:80']);
  await c.ok([
    'patch',
    'svc',
    'st',
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ metadata: { annotations: { a: 'b' } }, spec: { ports: [{ port: 81 }] }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } }),
  ]);
  const s = await json(['get', 'svc', 'st']);
  t.is(s.metadata.annotations?.a, 'b');
  t.is(s.status.loadBalancer.ingress[0].ip, '192.0.2.1');
  t.is(s.spec.ports[0].port, 80, 'spec is not changed through status');
});

test.serial('fieldValidation=Strict refuses duplicate JSON fields naming them; Warn stores and warns', async (t) => {
  const d = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'dup' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { a: 'b' } },
      template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
    },
  };
  const body = JSON.stringify(d).replace('"replicas":1', '"replicas":1,"replicas":2');
  const file = join(c.dir, 'dup.json');
  writeFileSync(file, body);
  const url = '/apis/apps/v1/namespaces/default/deployments';
  const r = await c.kubectl(['create', '--raw', `${url}?fieldValidation=Strict`, '-f', file]);
  t.not(r.code, 0);
  t.regex(r.stderr, /json: duplicate field "replicas"/);
  t.is((await c.kubectl(['get', 'deploy', 'dup'])).code, 1, 'nothing stored');
  const w = await c.kubectl(['create', '--raw', `${url}?fieldValidation=Warn`, '-f', file]);
  t.is(w.code, 0, w.stderr);
  t.regex(w.stderr, /duplicate field "replicas"/);
});

test.serial('kubectl api-resources uses aggregated discovery; plain JSON Accepts keep the legacy documents', async (t) => {
  const r = await c.kubectl(['api-resources', '-v=8', '--cache-dir', join(c.dir, 'fresh-cache')]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /Content-Type: application\/json;g=apidiscovery\.k8s\.io;v=v2;as=APIGroupDiscoveryList/);
  t.notRegex(r.stderr, /url="[^"]*\/api\/v1\?/, 'no per-group-version fetches');
  t.regex(r.stdout, /^replicationcontrollers\s+rc\s+v1\s+true\s+ReplicationController$/m);
  t.regex(r.stdout, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
  t.is(JSON.parse(await c.ok(['get', '--raw', '/api'])).kind, 'APIVersions');
  t.is(JSON.parse(await c.ok(['get', '--raw', '/apis'])).kind, 'APIGroupList');
});

test.serial('a slow watch reader makes the server wait for drain many times without piling up close listeners', async (t) => {
  const leaks: string[] = [];
  const onWarning = (w: Error) => {
    if (w.name === 'MaxListenersExceededWarning') leaks.push(w.message);
  };
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  await c.ok(['create', 'configmap', 'big', '--from-literal=v=0']);
  const rv = (await json(['get', 'configmap', 'big'])).metadata.resourceVersion;
  const { ca, cert, key } = loadKubeconfig(c.admin);
  const { hostname, port } = new URL(c.url);
  const UPDATES = 30;
  let events = 0;
  const watched = new Promise<void>((resolve, reject) => {
    const req = https.request(
      {
        host: hostname,
        port,
        ca,
        cert,
        key,
        method: 'GET',
        path: `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}&fieldSelector=metadata.name%3Dbig`,
      },
      (res) => {
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          events += buf.split('\n').length - 1;
          buf = buf.slice(buf.lastIndexOf('\n') + 1);
          // read slowly: every frame meets a full socket and the server waits for 'drain'
          res.pause();
          setTimeout(() => res.resume(), 5);
          if (events >= UPDATES) {
            req.destroy();
            resolve();
          }
        });
      },
    );
    req.on('error', (e) => (events >= UPDATES ? resolve() : reject(e)));
    req.setTimeout(60_000, () => req.destroy(new Error(`only ${events} events`)));
    req.end();
  });
  const file = join(c.dir, 'big-patch.json');
  for (let i = 1; i <= UPDATES; i++) {
    writeFileSync(file, JSON.stringify({ data: { v: `${i}${'x'.repeat(256 * 1024)}` } }));
    await c.ok(['patch', 'configmap', 'big', '--type=merge', '--patch-file', file]);
  }
  await watched;
  t.true(events >= UPDATES);
  t.deepEqual(leaks, [], 'no MaxListenersExceededWarning');
});
