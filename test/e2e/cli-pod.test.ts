// [sig-cli] kubectl against running pods and everyday object work: exec (with stdin), exit codes,
// port-forward, logs with their filters, apply and last-applied, cluster-info dump, quota; plus
// three checks with no upstream counterpart, marked [hawser]: api-resources, explain, and the
// create/get/annotate/delete round trip in the output formats users script against.
import { conformance, sleep, waitReady } from '../conformance/fixture.ts';
import { configMap, deployment, pod, service } from '../conformance/manifests.ts';
import { httpGet, startKubectl } from '../conformance/background.ts';

const it = conformance('kubectl-pod');

it('[sig-cli] Kubectl client Simple pod should support exec', async (t, c) => {
  c.k.create(pod('httpd', c.env.image));
  await waitReady(c.k, ['httpd']);
  t.is(c.k.ok(['exec', 'httpd', '--', 'echo', 'running', 'in', 'container']).trim(), 'running in container');
  const long = 'a'.repeat(20_000);
  t.is(c.k.ok(['exec', 'httpd', '--', 'echo', long]).trim(), long, 'a very long command');
  t.is(c.k.ok(['exec', '-i', 'httpd', '--', 'cat'], 'abcd1234'), 'abcd1234', 'non-interactive stdin');
  t.is(c.k.ok(['exec', '-i', 'httpd', '--', 'sh'], 'echo hi\nexit\n').trim(), 'hi', 'pseudo-interactive stdin');
});

it('[sig-cli] Kubectl client Simple pod should support exec using resource/name', async (t, c) => {
  c.k.create(pod('httpd', c.env.image));
  await waitReady(c.k, ['httpd']);
  t.is(c.k.ok(['exec', 'pod/httpd', '--', 'echo', 'running', 'in', 'container']).trim(), 'running in container');
});

it('[sig-cli] Kubectl client Simple pod should return command exit codes', async (t, c) => {
  c.k.create(pod('httpd', c.env.image));
  await waitReady(c.k, ['httpd']);
  t.is(c.k.run(['exec', 'httpd', '--', '/bin/sh', '-c', 'exit 0']).code, 0);
  t.is(c.k.run(['exec', 'httpd', '--', '/bin/sh', '-c', 'exit 42']).code, 42, 'exec passes the exit code through');
  const run = (name: string, code: number) =>
    c.k.run(['run', '-i', `--image=${c.env.image}`, '--restart=Never', '--pod-running-timeout=2m', name, '--', '/bin/sh', '-c', `exit ${code}`]);
  const ok = run('success', 0);
  t.is(ok.code, 0, ok.stderr);
  const fail = run('failure-1', 42);
  t.is(fail.code, 42, `kubectl run -i passes the container's exit code through: ${fail.stderr.trim()}`);
});

it('[sig-cli] Kubectl client Simple pod should support port-forward', async (t, c) => {
  c.k.create(pod('httpd', c.env.image));
  await waitReady(c.k, ['httpd']);
  const pf = await startKubectl(c.env.kubeconfig, ['-n', c.ns, 'port-forward', 'pod/httpd', ':8080'], /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/);
  t.teardown(pf.stop);
  const r = await httpGet({ port: Number(pf.match[1]), path: '/' });
  t.is(r.status, 200);
  t.is(r.body.trim(), 'httpd', 'the pod answered through the forwarded port');
});

it('[sig-cli] Kubectl logs logs should be able to retrieve and filter logs [Conformance]', async (t, c) => {
  // upstream's agnhost logs-generator, in busybox sh: 100 lines over about 10 s
  const gen = 'i=0; while [ $i -lt 100 ]; do echo "$i GET /api/v1/namespaces/kube-system/pods/$i"; i=$((i+1)); sleep 0.1; done; sleep 3600';
  c.k.create(pod('logs-generator', c.env.image, { container: 'logs-generator', command: ['sh', '-c', gen], ports: [] }));
  await waitReady(c.k, ['logs-generator']);
  const logs = (...a: string[]) => c.k.ok(['logs', 'logs-generator', 'logs-generator', ...a]);
  const lines = (s: string) => s.replace(/\n$/, '').split('\n');
  for (let i = 0; i < 30 && !logs().includes('/api/v1/namespaces/kube-system'); i++) await sleep(1000);
  t.regex(logs(), /\/api\/v1\/namespaces\/kube-system/);
  const tail = logs('--tail=1');
  t.true(tail.length > 0);
  t.is(lines(tail).length, 1, '--tail=1 gives one line');
  t.is(logs('--limit-bytes=1').length, 1, '--limit-bytes=1 gives one byte');
  const stamped = lines(logs('--tail=1', '--timestamps'));
  t.is(stamped.length, 1);
  const words = stamped[0].split(' ');
  t.true(words.length > 1);
  t.false(Number.isNaN(Date.parse(words[0])), `"${words[0]}" is an RFC3339 timestamp`);
  t.regex(words[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  await sleep(2500);
  const recent = logs('--since=1s').split('\n').length;
  const older = logs('--since=24h').split('\n').length;
  t.true(recent < older, `--since=1s gave ${recent} lines, --since=24h ${older}`);
});

it('[sig-cli] Kubectl client Kubectl apply should reuse port when apply to an existing SVC', (t, c) => {
  const svc = JSON.stringify(
    service('agnhost-primary', {
      labels: { app: 'agnhost', role: 'primary' },
      selector: { app: 'agnhost', role: 'primary' },
      ports: [{ port: 6379, targetPort: 6379 }],
    }),
  );
  c.k.ok(['create', '-f', '-'], svc);
  const before = c.k.ok(['get', 'service', 'agnhost-primary', '-o', 'jsonpath={.spec.ports[0].port}']);
  c.k.ok(['apply', '-f', '-'], svc);
  const after = c.k.ok(['get', 'service', 'agnhost-primary', '-o', 'jsonpath={.spec.ports[0].port}']);
  t.is(after, before);
  t.is(before, '6379');
});

it('[sig-cli] Kubectl client Kubectl apply apply set/view last-applied', (t, c) => {
  const d1 = deployment('httpd-deployment', c.env.image, 2, { app: 'httpd' });
  const d2 = deployment('httpd-deployment', c.env.image, 2, { app: 'httpd' });
  delete d2.spec.replicas;
  const d3 = deployment('httpd-deployment', c.env.altImage, 2, { app: 'httpd' });
  delete d3.spec.replicas;
  c.k.apply(d1);
  t.regex(c.k.ok(['apply', 'view-last-applied', '-f', '-', '-o', 'json'], JSON.stringify(d1)), /"replicas": 2/);
  c.k.ok(['apply', 'set-last-applied', '-f', '-'], JSON.stringify(d2));
  t.notRegex(c.k.ok(['apply', 'view-last-applied', '-f', '-', '-o', 'json'], JSON.stringify(d1)), /"replicas": 2/);
  c.k.ok(['scale', 'deployment', 'httpd-deployment', '--replicas=3']);
  c.k.apply(d3);
  const out = c.k.ok(['get', '-f', '-', '-o', 'json'], JSON.stringify(d3));
  t.regex(out, /"replicas": 3/, 'replicas kept at 3: not in the last-applied configuration');
  t.true(out.includes(c.env.altImage), 'the image was updated');
});

it('[sig-cli] Kubectl client Kubectl cluster-info dump should check if cluster-info dump succeeds', (t, c) => {
  const out = c.k.ok(['cluster-info', 'dump', '--namespaces', c.ns]);
  t.regex(out, /"kind": "NodeList"/);
});

it('[sig-cli] Kubectl client Kubectl create quota should create a quota without scopes', (t, c) => {
  c.k.ok(['create', 'quota', 'million', '--hard=pods=1000000,services=1000000']);
  const q = c.k.json<any>(['get', 'resourcequota', 'million']);
  t.deepEqual(q.spec.scopes ?? [], []);
  t.deepEqual(q.spec.hard, { pods: '1M', services: '1M' });
});

it('[sig-cli] [hawser] kubectl api-resources lists the served resources with short names, scope and kind', (t, c) => {
  const rows = c.k
    .ok(['api-resources', '--no-headers'])
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/));
  const find = (name: string) => rows.find((r) => r[0] === name);
  for (const [name, short, version, namespaced, kind] of [
    ['pods', 'po', 'v1', 'true', 'Pod'],
    ['services', 'svc', 'v1', 'true', 'Service'],
    ['configmaps', 'cm', 'v1', 'true', 'ConfigMap'],
    ['namespaces', 'ns', 'v1', 'false', 'Namespace'],
    ['nodes', 'no', 'v1', 'false', 'Node'],
    ['deployments', 'deploy', 'apps/v1', 'true', 'Deployment'],
  ])
    t.deepEqual(find(name), [name, short, version, namespaced, kind], `${name} row`);
  const cluster = c.k.ok(['api-resources', '--namespaced=false', '-o', 'name']).split('\n');
  t.true(cluster.includes('nodes') && cluster.includes('namespaces') && !cluster.includes('pods'), '--namespaced=false filters');
  t.is(c.k.run(['get', 'po', '-o', 'name']).code, 0, 'short names resolve');
});

it("[sig-cli] [hawser] kubectl explain describes resources and nested fields from the server's OpenAPI schema", (t, c) => {
  const podDoc = c.k.ok(['explain', 'pods']);
  t.regex(podDoc, /KIND:\s+Pod/);
  t.regex(podDoc, /VERSION:\s+v1/);
  t.regex(podDoc, /DESCRIPTION:/);
  t.regex(podDoc, /spec\s+<PodSpec>/);
  t.regex(c.k.ok(['explain', 'pod.spec.containers.image']), /FIELD:\s+image <string>/);
  t.regex(c.k.ok(['explain', 'deployment.spec.replicas', '--api-version=apps/v1']), /FIELD:\s+replicas <integer>/);
  t.not(c.k.run(['explain', 'pod.spec.nosuchfield']).code, 0, 'an unknown field is an error');
});

it('[sig-cli] [hawser] kubectl create, get, annotate and delete a ConfigMap in the common output formats', (t, c) => {
  c.k.ok(['create', 'configmap', 'cfg', '--from-literal=key=value']);
  t.is(c.k.ok(['get', 'configmap', 'cfg', '-o', 'name']).trim(), 'configmap/cfg');
  t.is(c.k.ok(['get', 'configmap', 'cfg', '-o', 'jsonpath={.data.key}']), 'value');
  t.regex(c.k.ok(['get', 'configmap', 'cfg', '-o', 'yaml']), /^ {2}key: value$/m);
  t.regex(c.k.ok(['get', 'configmap', 'cfg', '-o', 'custom-columns=NAME:.metadata.name,KEY:.data.key', '--no-headers']), /^cfg\s+value\s*$/);
  t.regex(c.k.ok(['get', 'configmap', 'cfg']), /^cfg\s+1\s+\S+\s*$/m, 'the table: NAME DATA AGE');
  c.k.ok(['annotate', 'configmap', 'cfg', 'note=first']);
  t.not(c.k.run(['annotate', 'configmap', 'cfg', 'note=second']).code, 0, 'annotate refuses to overwrite without --overwrite');
  c.k.ok(['annotate', 'configmap', 'cfg', 'note=second', '--overwrite']);
  t.is(c.k.json<any>(['get', 'configmap', 'cfg']).metadata.annotations.note, 'second');
  c.k.ok(['annotate', 'configmap', 'cfg', 'note-']);
  t.falsy(c.k.json<any>(['get', 'configmap', 'cfg']).metadata.annotations?.note);
  c.k.create(configMap('cfg2', { a: 'b' }));
  t.regex(c.k.ok(['delete', 'configmap', 'cfg', 'cfg2']), /configmap "cfg" deleted[\s\S]*configmap "cfg2" deleted/);
  const gone = c.k.run(['get', 'configmap', 'cfg']);
  t.is(gone.code, 1);
  t.regex(gone.stderr, /NotFound|not found/);
});
