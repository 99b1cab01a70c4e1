// The API server's Must-show suite, run once per storage backend (api-sqlite.test.ts and
// api-etcd.test.ts): the real kubectl v1.35 through every command the issue lists, an informer
// from @kubernetes/client-node that must see every change in order, twenty malformed or invalid
// requests that must each get a 4xx Status and store nothing, and a node identity refused with
// 403 for another node's object and an unrelated secret. The control plane runs in-process.
import type { TestFn } from 'ava';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import YAML from 'yaml';
import { loadKubeconfig } from '../../agents/api/kubeconfig.ts';
import { clientNode, type Cluster, readyNode, startCluster, until } from '../integration/_apiserver-kit.ts';

interface Raw {
  status: number;
  body: any;
}

function rawClient(c: Cluster) {
  const { ca, cert, key } = loadKubeconfig(c.admin);
  const agent = new https.Agent({ ca, cert, key });
  const url = new URL(c.url);
  return (method: string, path: string, body: string | Buffer, contentType = 'application/json'): Promise<Raw> =>
    new Promise((resolve, reject) => {
      const req = https.request(
        { host: url.hostname, port: url.port, path, method, agent, headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => {
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* not JSON */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

const deployment = (name: string, replicas: number, image: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, labels: {app: ${name}}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - {name: web, image: ${image}, ports: [{containerPort: 8080}]}
`;

const pod = (name: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: name } },
    spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'] }], ...extra },
  });

/** 20 requests that must be refused: [what, method, path, body, content type, status, message]. */
function badInputs(): [string, string, string, string | Buffer, string, number, RegExp][] {
  const P = '/api/v1/namespaces/default/pods';
  const podWith = (spec: unknown, meta: Record<string, unknown> = { name: 'bad' }) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: meta, spec });
  const c = [{ name: 'c', image: 'i' }];
  return [
    [
      'name with capitals and underscore',
      'POST',
      P,
      podWith(c && { containers: c }, { name: 'Bad_Name' }),
      'application/json',
      422,
      /metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    ],
    [
      'name over 253 characters',
      'POST',
      P,
      podWith({ containers: c }, { name: 'a'.repeat(254) }),
      'application/json',
      422,
      /metadata\.name: Invalid value: .*must be no more than 253 characters/,
    ],
    [
      'no name and no generateName',
      'POST',
      P,
      podWith({ containers: c }, {}),
      'application/json',
      422,
      /metadata\.name: Required value: name or generateName is required/,
    ],
    ['no containers', 'POST', P, podWith({}), 'application/json', 422, /spec\.containers: Required value/],
    [
      'container without an image',
      'POST',
      P,
      podWith({ containers: [{ name: 'c' }] }),
      'application/json',
      422,
      /spec\.containers\[0\]\.image: Required value/,
    ],
    [
      'containers of the wrong type',
      'POST',
      P,
      podWith({ containers: 'oops' }),
      'application/json',
      400,
      /cannot unmarshal string into Go struct field PodSpec\.spec\.containers of type \[\]v1\.Container/,
    ],
    [
      'replicas of the wrong type',
      'POST',
      '/apis/apps/v1/namespaces/default/deployments',
      JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'bad' }, spec: { replicas: 'three' } }),
      'application/json',
      400,
      /cannot unmarshal string into Go struct field DeploymentSpec\.spec\.replicas of type int32/,
    ],
    [
      'unknown field under strict validation',
      'POST',
      `${P}?fieldValidation=Strict`,
      podWith({ containers: c, colour: 'blue' }),
      'application/json',
      400,
      /strict decoding error: unknown field "spec\.colour"/,
    ],
    [
      'unknown kind (no such resource)',
      'POST',
      '/api/v1/namespaces/default/gizmos',
      JSON.stringify({ apiVersion: 'v1', kind: 'Gizmo', metadata: { name: 'bad' } }),
      'application/json',
      404,
      /the server could not find the requested resource/,
    ],
    [
      'kind that does not belong to the URL',
      'POST',
      P,
      JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'bad' } }),
      'application/json',
      400,
      /the kind in the data \(Service\) does not match the expected kind \(Pod\)/,
    ],
    [
      'body over 3 MiB',
      'POST',
      '/api/v1/namespaces/default/configmaps',
      JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bad' }, data: { k: 'x'.repeat(3.2 * 1024 * 1024) } }),
      'application/json',
      413,
      /Request entity too large/,
    ],
    ['malformed JSON', 'POST', P, '{"apiVersion": "v1", "kind": "Pod", ', 'application/json', 400, /json parse error/],
    ['malformed YAML', 'POST', P, 'apiVersion: v1\nkind: Pod\nmetadata: {name: bad\n  spec: [', 'application/yaml', 400, /error converting YAML to JSON/],
    ['empty body', 'POST', P, '', 'application/json', 400, /the body of the request was empty/],
    [
      'duplicate container names',
      'POST',
      P,
      podWith({ containers: [...c, { name: 'c', image: 'j' }] }),
      'application/json',
      422,
      /spec\.containers\[1\]\.name: Duplicate value: "c"/,
    ],
    [
      'invalid label key',
      'POST',
      P,
      podWith({ containers: c }, { name: 'bad', labels: { 'bad key': 'x' } }),
      'application/json',
      422,
      /metadata\.labels: Invalid value: "bad key"/,
    ],
    [
      'container port out of range',
      'POST',
      P,
      podWith({ containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 70000 }] }] }),
      'application/json',
      422,
      /spec\.containers\[0\]\.ports\[0\]\.containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive/,
    ],
    [
      'deployment selector not matching its template',
      'POST',
      '/apis/apps/v1/namespaces/default/deployments',
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'bad' },
        spec: { selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'b' } }, spec: { containers: c } } },
      }),
      'application/json',
      422,
      /spec\.template\.metadata\.labels: Invalid value: .*`selector` does not match template `labels`/,
    ],
    [
      'cron job with an unparseable schedule',
      'POST',
      '/apis/batch/v1/namespaces/default/cronjobs',
      JSON.stringify({
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'bad' },
        spec: { schedule: 'now and then', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: c } } } } },
      }),
      'application/json',
      422,
      /spec\.schedule: Invalid value: "now and then"/,
    ],
    [
      'resourceVersion set on create',
      'POST',
      P,
      podWith({ containers: c }, { name: 'bad', resourceVersion: '5' }),
      'application/json',
      400,
      /resourceVersion should not be set on objects to be created/,
    ],
  ];
}

export function apiSuite(test: TestFn, backend: 'sqlite' | 'etcd'): void {
  let c: Cluster;
  let file: string;
  test.before(async () => {
    c = await startCluster(backend);
    file = join(c.dir, 'deploy.yaml');
    for (const n of ['node-a', 'node-b']) await c.ok(['create', '-f', '-'], { input: JSON.stringify(readyNode(n, n === 'node-a' ? '10.0.0.1' : '10.0.0.2')) });
  });
  test.after.always(async () => {
    await c?.close();
  });

  test.serial(`${backend}: api-resources, explain pod.spec.containers, version`, async (t) => {
    const res = await c.ok(['api-resources']);
    for (const line of [
      /^pods\s+po\s+v1\s+true\s+Pod$/m,
      /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m,
      /^cronjobs\s+cj\s+batch\/v1\s+true\s+CronJob$/m,
      /^leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease$/m,
      /^selfsubjectaccessreviews\s+authorization\.k8s\.io\/v1\s+false\s+SelfSubjectAccessReview$/m,
    ])
      t.regex(res, line);
    const ex = await c.ok(['explain', 'pod.spec.containers']);
    t.regex(ex, /^KIND:\s+Pod$/m);
    t.regex(ex, /^FIELD:\s+containers <\[\]Container>$/m);
    t.regex(ex, /^\s+image\s+<string>$/m);
    t.regex(ex, /^\s+ports\s+<\[\]ContainerPort>$/m);
  });

  test.serial(`${backend}: create, apply, re-apply a change, and print as yaml, json, wide, name; describe`, async (t) => {
    t.regex(await c.ok(['create', '-f', '-'], { input: pod('created') }), /pod\/created created/);
    writeFileSync(file, deployment('web', 2, 'busybox:1.36'));
    t.regex(await c.ok(['apply', '-f', file]), /deployment\.apps\/web created/);
    writeFileSync(file, deployment('web', 2, 'busybox:1.37'));
    t.regex(await c.ok(['apply', '-f', file]), /deployment\.apps\/web configured/);
    t.regex(await c.ok(['apply', '-f', file]), /deployment\.apps\/web unchanged/);
    const y = YAML.parse(await c.ok(['get', 'deploy', 'web', '-o', 'yaml']));
    t.is(y.spec.template.spec.containers[0].image, 'busybox:1.37');
    t.is(y.metadata.generation, 2);
    t.truthy(y.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
    const j = JSON.parse(await c.ok(['get', 'pod', 'created', '-o', 'json']));
    t.is(j.spec.containers[0].terminationMessagePolicy, 'File');
    // the counts are whatever the deployment controller has reached (no kubelet runs the pods)
    t.regex(
      await c.ok(['get', 'deploy', '-o', 'wide']),
      /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\n^web\s+\d\/2\s+\d\s+\d\s+\S+\s+web\s+busybox:1\.37\s+app=web$/m,
    );
    t.is(
      (await c.ok(['get', 'deploy,pods', '-l', 'app in (web,created)', '-o', 'name']))
        .trim()
        .split('\n')
        .filter((n) => !/^pod\/web-/.test(n))
        .join('\n'),
      'deployment.apps/web\npod/created',
    );
    const d = await c.ok(['describe', 'deploy', 'web']);
    t.regex(d, /^Name:\s+web$/m);
    t.regex(d, /^Replicas:\s+2 desired \| \d updated \| \d total \| \d available \| \d unavailable$/m);
    t.regex(d, /^StrategyType:\s+RollingUpdate$/m);
  });

  test.serial(`${backend}: apply --server-side owns fields, conflicts with another manager, --force-conflicts wins`, async (t) => {
    const m = deployment('ssa', 1, 'busybox:1.36');
    t.regex(await c.ok(['apply', '--server-side', '-f', '-'], { input: m }), /deployment\.apps\/ssa serverside-applied/);
    await c.ok(['patch', 'deploy', 'ssa', '--type=merge', '-p', '{"spec":{"replicas":4}}']);
    const clash = await c.kubectl(['apply', '--server-side', '-f', '-'], { input: deployment('ssa', 2, 'busybox:1.37') });
    t.is(clash.code, 1);
    t.regex(clash.stderr, /Apply failed with 1 conflict: conflict with "kubectl-patch" using apps\/v1: \.spec\.replicas/);
    t.is(
      await c.ok(['get', 'deploy', 'ssa', '-o', 'jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image}']),
      '4 busybox:1.36',
      'a refused apply changes nothing',
    );
    // agreeing on the contested value is shared ownership, not a conflict
    await c.ok(['apply', '--server-side', '-f', '-'], { input: deployment('ssa', 4, 'busybox:1.37') });
    await c.ok(['apply', '--server-side', '--force-conflicts', '-f', '-'], { input: deployment('ssa', 2, 'busybox:1.38') });
    const o = JSON.parse(await c.ok(['get', 'deploy', 'ssa', '-o', 'json', '--show-managed-fields']));
    t.is(o.spec.replicas, 2);
    t.is(o.spec.template.spec.containers[0].image, 'busybox:1.38');
    // the patcher lost its only field to the forced apply; controllers may own status fields
    const managers = o.metadata.managedFields.map((e: any) => `${e.manager}/${e.operation}`);
    t.true(managers.includes('kubectl/Apply'), managers.join(' '));
    t.false(
      managers.some((m: string) => m.startsWith('kubectl-patch/')),
      managers.join(' '),
    );
    const applied = o.metadata.managedFields.find((e: any) => e.manager === 'kubectl');
    t.deepEqual(applied.fieldsV1['f:spec']['f:replicas'], {});
  });

  test.serial(`${backend}: get -w, label, annotate, and patch of all three types`, async (t) => {
    const w = c.kubectl(['get', 'pods', '-w', '--output-watch-events', '--request-timeout=5s'], { timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 700));
    await c.ok(['label', 'pod', 'created', 'tier=front']);
    await c.ok(['annotate', 'pod', 'created', 'note=hi']);
    await c.ok(['patch', 'pod', 'created', '--type=merge', '-p', '{"metadata":{"labels":{"merge":"yes"}}}']);
    await c.ok(['patch', 'pod', 'created', '--type=json', '-p', '[{"op":"add","path":"/metadata/labels/json","value":"yes"}]']);
    await c.ok(['patch', 'pod', 'created', '--type=strategic', '-p', '{"spec":{"containers":[{"name":"c","image":"busybox:1.37"}]}}']);
    const out = (await w).stdout;
    t.regex(out, /^EVENT\s+NAME\s+READY\s+STATUS/m);
    t.regex(out, /^ADDED\s+created\s/m);
    t.true((out.match(/^MODIFIED\s+created\s/gm) ?? []).length >= 5, out);
    const p = JSON.parse(await c.ok(['get', 'pod', 'created', '-o', 'json']));
    t.like(p.metadata.labels, { tier: 'front', merge: 'yes', json: 'yes' });
    t.is(p.metadata.annotations.note, 'hi');
    t.is(p.spec.containers[0].image, 'busybox:1.37');
    t.deepEqual(p.spec.containers[0].command, ['sleep', '3600'], 'strategic merge kept the rest of the container');
  });

  test.serial(`${backend}: scale a deployment and a stateful set through /scale`, async (t) => {
    t.regex(await c.ok(['scale', 'deploy/web', '--replicas=5']), /deployment\.apps\/web scaled/);
    t.is(await c.ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}']), '5');
    await c.ok(['create', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'db' },
        spec: {
          serviceName: 'db',
          selector: { matchLabels: { app: 'db' } },
          template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'busybox' }] } },
        },
      }),
    });
    await c.ok(['scale', 'statefulset/db', '--replicas=3', '--current-replicas=1']);
    t.is(await c.ok(['get', 'sts', 'db', '-o', 'jsonpath={.spec.replicas}']), '3');
    const stale = await c.kubectl(['scale', 'statefulset/db', '--replicas=4', '--current-replicas=1']);
    t.not(stale.code, 0);
    t.regex(stale.stderr, /expected replicas to be 1, was 3/i);
  });

  test.serial(`${backend}: wait --for=condition and --for=delete`, async (t) => {
    const waiting = c.kubectl(['wait', '--for=condition=Ready', 'pod/created', '--timeout=20s']);
    await new Promise((r) => setTimeout(r, 500));
    // what a kubelet posts once the container runs
    await c.ok([
      'patch',
      'pod',
      'created',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}',
    ]);
    const r = await waiting;
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /pod\/created condition met/);
    const gone = c.kubectl(['wait', '--for=delete', 'statefulset/db', '--timeout=20s']);
    await new Promise((r) => setTimeout(r, 300));
    await c.ok(['delete', 'sts', 'db', '--wait=false']);
    t.is((await gone).code, 0);
  });

  test.serial(`${backend}: delete with --cascade=background, orphan and foreground`, async (t) => {
    const owner = async (name: string) => {
      const o = JSON.parse(await c.ok(['create', 'configmap', name, '-o', 'json']));
      const dep = (n: string) =>
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `${name}-${n}`, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name, uid: o.metadata.uid, blockOwnerDeletion: true }] },
        });
      await c.ok(['create', '-f', '-'], { input: dep('a') });
      await c.ok(['create', '-f', '-'], { input: dep('b') });
    };
    const names = async () =>
      (await c.ok(['get', 'configmaps', '-o', 'name']))
        .trim()
        .split('\n')
        .filter((n) => !n.includes('kube-root-ca'));
    await owner('bg');
    await c.ok(['delete', 'configmap', 'bg', '--cascade=background']);
    // the garbage collector (controllers/gc, in the control plane) deletes the dependents
    await until(
      "background: dependents collected by the control plane's garbage collector",
      async () => !(await names()).some((n) => n.startsWith('configmap/bg')),
      15_000,
    );
    await owner('or');
    await c.ok(['delete', 'configmap', 'or', '--cascade=orphan', '--timeout=15s']);
    t.deepEqual(
      (await names()).filter((n) => n.startsWith('configmap/or')),
      ['configmap/or-a', 'configmap/or-b'],
    );
    t.is(await c.ok(['get', 'configmap', 'or-a', '-o', 'jsonpath={.metadata.ownerReferences}']), '', 'orphans lose the owner reference');
    await owner('fg');
    const del = c.kubectl(['delete', 'configmap', 'fg', '--cascade=foreground', '--timeout=15s']);
    t.is((await del).code, 0);
    t.false(
      (await names()).some((n) => n.startsWith('configmap/fg')),
      'foreground: the owner goes after its dependents',
    );
  });

  test.serial(`${backend}: auth can-i`, async (t) => {
    t.is((await c.ok(['auth', 'can-i', 'create', 'deployments.apps'])).trim(), 'yes');
    const n = await c.identity('system:node:node-a', ['system:nodes']);
    t.is((await c.kubectl(['auth', 'can-i', 'delete', 'deployments'], { kubeconfig: n })).stdout.trim(), 'no');
    t.is((await c.ok(['auth', 'can-i', 'patch', 'nodes/node-a'], { kubeconfig: n })).trim(), 'yes');
  });

  test.serial(`${backend}: a client-node informer sees every change in order`, async (t) => {
    const k8s = await clientNode();
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(c.admin);
    await c.ok(['create', 'namespace', 'inf']);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/inf/configmaps', () => core.listNamespacedConfigMap({ namespace: 'inf' }));
    const seen: string[] = [];
    // the root CA configmap the control plane publishes into every namespace is not this test's
    const mine = (o: { metadata?: { name?: string } }) => o.metadata?.name !== 'kube-root-ca.crt';
    informer.on('add', (o) => mine(o) && seen.push(`add ${o.metadata!.name} ${o.data?.v ?? ''}`));
    informer.on('update', (o) => mine(o) && seen.push(`update ${o.metadata!.name} ${o.data?.v ?? ''}`));
    informer.on('delete', (o) => mine(o) && seen.push(`delete ${o.metadata!.name}`));
    await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'before' }, data: { v: '0' } } });
    await informer.start();
    t.teardown(() => informer.stop());
    const expected = ['add before 0'];
    for (let i = 0; i < 20; i++) {
      const name = `cm${i % 5}`;
      if (i < 5) {
        await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name }, data: { v: String(i) } } });
        expected.push(`add ${name} ${i}`);
      } else if (i < 15) {
        await core.patchNamespacedConfigMap(
          { namespace: 'inf', name, body: { data: { v: String(i) } } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
        expected.push(`update ${name} ${i}`);
      } else {
        await core.deleteNamespacedConfigMap({ namespace: 'inf', name });
        expected.push(`delete ${name}`);
      }
    }
    await until('every event', async () => seen.length >= expected.length || undefined, 15_000).catch(() => undefined);
    t.deepEqual(seen, expected);
  });

  test.serial(`${backend}: 20 malformed or invalid requests get a 4xx Status with a clear message and store nothing`, async (t) => {
    const raw = rawClient(c);
    const count = async () => {
      const kinds = [
        '/api/v1/namespaces/default/pods',
        '/api/v1/namespaces/default/configmaps',
        '/apis/apps/v1/namespaces/default/deployments',
        '/apis/batch/v1/namespaces/default/cronjobs',
      ];
      let n = 0;
      for (const k of kinds) n += (await raw('GET', k, '')).body.items.length;
      return n;
    };
    const before = await count();
    const cases = badInputs();
    t.is(cases.length, 20);
    for (const [what, method, path, body, ct, status, msg] of cases) {
      const r = await raw(method, path, body, ct);
      t.is(r.status, status, `${what}: ${JSON.stringify(r.body).slice(0, 300)}`);
      t.like(r.body, { kind: 'Status', status: 'Failure', code: status }, what);
      t.regex(r.body.message, msg, what);
    }
    t.is(await count(), before, 'nothing was stored');
  });

  test.serial(`${backend}: a node identity gets 403 for another node and for an unrelated secret`, async (t) => {
    const n = await c.identity('system:node:node-a', ['system:nodes']);
    const other = await c.kubectl(['label', 'node', 'node-b', 'x=y'], { kubeconfig: n });
    t.regex(other.stderr, /Error from server \(Forbidden\): nodes "node-b" is forbidden: node "node-a" is not allowed to modify node "node-b"/);
    await c.ok(['create', 'secret', 'generic', 'private', '--from-literal=k=v']);
    const secret = await c.kubectl(['get', 'secret', 'private'], { kubeconfig: n });
    t.regex(
      secret.stderr,
      /Error from server \(Forbidden\): secrets "private" is forbidden: User "system:node:node-a" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'node-a' and this object/,
    );
    t.regex(await c.ok(['label', 'node', 'node-a', 'x=y'], { kubeconfig: n }), /node\/node-a labeled/);
  });
}
