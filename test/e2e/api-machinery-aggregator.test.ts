// [sig-api-machinery] Aggregator, mirroring upstream's aggregator.go as far as the lab permits:
// upstream deploys the sample-apiserver image behind a Service; here the aggregated server is a
// process on 127.0.0.1 (helpers/aggregated-apiserver.ts, trusting only the front-proxy CA that
// extension-apiserver-authentication publishes), behind a selector-less Service whose
// EndpointSlice names 127.0.0.1, which the lab's API server (root namespace) reaches. The steps are
// upstream's: register v1alpha1.wardle.example.com, wait for Available, create, list and delete a
// flunder through the aggregator (raw and through discovery as the dynamic client does), then
// read, patch, update the status of, list by label and delete the APIService.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import test from 'ava';
import { conformance, until } from '../conformance/fixture.ts';

const it = conformance('aggregator', { timeoutMs: 180_000 });
let child: ChildProcess | undefined;
let dir: string | undefined;
test.after.always(() => {
  child?.stdin?.end();
  child?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const NAME = 'v1alpha1.wardle.example.com';

it('[sig-api-machinery] Aggregator Should be able to support the 1.17 Sample API Server using the current Aggregator [LinuxOnly] [Conformance]', async (t, c) => {
  const auth = c.kc.json(['get', 'configmap', '-n', 'kube-system', 'extension-apiserver-authentication']).data;
  dir = mkdtempSync(join(tmpdir(), 'hawser-aggregator-e2e-'));
  writeFileSync(join(dir, 'auth.json'), JSON.stringify(auth));
  child = spawn(process.execPath, ['--import=tsx', 'test/e2e/helpers/aggregated-apiserver.ts', join(dir, 'auth.json'), `sample-api.${c.ns}.svc`], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const server = JSON.parse(
    await new Promise<string>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).once('line', resolve);
      child!.once('exit', (code) => reject(new Error(`the aggregated server exited (${code})`)));
    }),
  ) as { port: number; caBundle: string };

  c.k.ok(
    ['create', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'sample-api' },
      spec: { ports: [{ name: 'https', port: 7443, targetPort: server.port }] },
    }),
  );
  c.k.ok(
    ['create', '-f', '-'],
    JSON.stringify({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'sample-api-process', labels: { 'kubernetes.io/service-name': 'sample-api', 'endpointslice.kubernetes.io/managed-by': 'e2e' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
      ports: [{ name: 'https', port: server.port, protocol: 'TCP' }],
    }),
  );
  c.kc.ok(
    ['create', '-f', '-'],
    JSON.stringify({
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: NAME },
      spec: {
        service: { namespace: c.ns, name: 'sample-api', port: 7443 },
        group: 'wardle.example.com',
        version: 'v1alpha1',
        caBundle: server.caBundle,
        groupPriorityMinimum: 2000,
        versionPriority: 200,
      },
    }),
  );
  t.teardown(() => {
    c.kc.run(['delete', 'apiservice', NAME, '--ignore-not-found']);
  });
  await until(
    'the APIService Available',
    () => (c.kc.json(['get', 'apiservice', NAME]).status?.conditions ?? []).some((x: any) => x.type === 'Available' && x.status === 'True'),
    60_000,
  );

  // through the aggregator with a REST client
  const base = `/apis/wardle.example.com/v1alpha1/namespaces/${c.ns}/flunders`;
  c.kc.ok(
    ['create', '--raw', base, '-f', '-'],
    JSON.stringify({
      apiVersion: 'wardle.example.com/v1alpha1',
      kind: 'Flunder',
      metadata: { name: 'rest-flunder', labels: { 'sample-label': 'true' } },
      spec: {},
    }),
  );
  t.is(JSON.parse(c.kc.ok(['get', '--raw', base])).items.length, 1);
  c.kc.ok(['delete', '--raw', `${base}/rest-flunder`]);
  t.is(JSON.parse(c.kc.ok(['get', '--raw', base])).items.length, 0);

  // through discovery, as upstream's dynamic client does
  t.regex(c.kc.ok(['api-resources', '--namespaced=true', '--api-group=wardle.example.com']), /^flunders\s+wardle\.example\.com\/v1alpha1\s+true\s+Flunder$/m);
  c.k.ok(
    ['create', '-f', '-'],
    JSON.stringify({ apiVersion: 'wardle.example.com/v1alpha1', kind: 'Flunder', metadata: { name: 'dynamic-flunder' }, spec: {} }),
  );
  t.is(c.k.json(['get', 'flunders']).items.length, 1);
  c.k.ok(['delete', 'flunder', 'dynamic-flunder']);
  t.is(c.k.json(['get', 'flunders']).items.length, 0);

  // the APIService itself: read, patch, status update, list by label, delete
  c.kc.ok(['patch', 'apiservice', NAME, '--type=merge', '-p', JSON.stringify({ metadata: { labels: { [c.ns]: 'patched' } } })]);
  t.is(c.kc.json(['get', 'apiservices', '-l', `${c.ns}=patched`]).items.length, 1);
  const cur = c.kc.json(['get', 'apiservice', NAME]);
  const conditions = [
    ...cur.status.conditions,
    {
      type: 'StatusUpdated',
      status: 'True',
      reason: 'E2E',
      message: 'Set from e2e test',
      lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    },
  ];
  c.kc.ok(['replace', '--raw', `/apis/apiregistration.k8s.io/v1/apiservices/${NAME}/status`, '-f', '-'], JSON.stringify({ ...cur, status: { conditions } }));
  t.true(c.kc.json(['get', 'apiservice', NAME]).status.conditions.some((x: any) => x.type === 'StatusUpdated' && x.reason === 'E2E'));
  c.kc.ok(['delete', 'apiservices', '-l', `${c.ns}=patched`]);
  t.is(c.kc.json(['get', 'apiservices', '-l', `${c.ns}=patched`]).items.length, 0);
});
