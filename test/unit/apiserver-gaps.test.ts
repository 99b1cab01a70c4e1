// Pure pieces behind the conformance gaps of issue 4: duplicate-field detection, quota
// arithmetic and messages, the OpenAPI v2 conversion and its protobuf form, RC selectors.
import test from 'ava';
import { duplicateFields, jsonDuplicates, yamlDuplicates } from '../../agents/control-plane/apiserver/duplicates.ts';
import { canonicalQuantity, exceeded, missingCompute, podUsage, usedFor } from '../../agents/control-plane/apiserver/quota.ts';
import { buildOpenAPIv2, v2Schema } from '../../agents/control-plane/apiserver/openapi-v2.ts';
import { openAPIv2Pb } from '../../agents/control-plane/apiserver/openapi-v2-pb.ts';
import { Registry } from '../../agents/control-plane/apiserver/registry.ts';
import { validatePodUpdate } from '../../agents/control-plane/apiserver/validation/pod.ts';
import { aggregatedVersion } from '../../agents/control-plane/apiserver/discovery-aggregated.ts';
import { equalitySelector } from '../../agents/control-plane/controllers/workloads/replicationcontroller.ts';

test('duplicate JSON fields are named at any depth, not inside strings or arrays of scalars', (t) => {
  t.deepEqual(jsonDuplicates('{"spec":{"replicas":1,"replicas":2}}'), ['json: duplicate field "replicas"']);
  t.deepEqual(jsonDuplicates('{"a":{"b":1,"c":[{"b":2},"x\\"b"],"b":3},"a":2}'), ['json: duplicate field "b"', 'json: duplicate field "a"']);
  t.deepEqual(jsonDuplicates('{"a":["a","a"],"b":{"a":1}}'), []);
  t.deepEqual(duplicateFields(Buffer.from('{"x":1,"x":1}'), 'application/json'), ['json: duplicate field "x"']);
});

test('duplicate YAML keys carry their line', (t) => {
  t.deepEqual(yamlDuplicates('kind: Deployment\nspec:\n  replicas: 1\n  replicas: 2\n'), ['line 4: key "replicas" already set in map']);
  t.deepEqual(yamlDuplicates('a: 1\nb: {a: 2}\n'), []);
});

test('quantities print canonically and quota refusals read as upstream', (t) => {
  t.is(canonicalQuantity('1000000'), '1M');
  t.is(canonicalQuantity('2048Ki'), '2Mi');
  t.is(canonicalQuantity('0.5'), '500m');
  t.is(canonicalQuantity('abc'), 'abc');
  const pod = { metadata: {}, spec: { containers: [{ resources: { requests: { cpu: '250m' }, limits: { memory: '64Mi' } } }] } };
  t.deepEqual(podUsage(pod), {
    pods: 1,
    'count/pods': 1,
    'requests.cpu': 0.25,
    cpu: 0.25,
    'requests.memory': 64 * 2 ** 20,
    memory: 64 * 2 ** 20,
    'limits.memory': 64 * 2 ** 20,
  });
  t.deepEqual(usedFor({ pods: '2', 'requests.memory': '1Gi', services: '1' }, { pods: 1, 'requests.memory': 2 ** 27 }), {
    pods: '1',
    'requests.memory': '128Mi',
    services: '0',
  });
  const quota = { metadata: { name: 'q' }, spec: { hard: { pods: '2', 'requests.cpu': '1' } } };
  t.is(exceeded(quota, { pods: 1 }, { pods: 1 }), undefined);
  t.is(
    exceeded(quota, { pods: 2, 'requests.cpu': 0.5 }, { pods: 1, 'requests.cpu': 0.75 }),
    'exceeded quota: q, requested: pods=1,requests.cpu=750m, used: pods=2,requests.cpu=500m, limited: pods=2,requests.cpu=1',
  );
});

test('the v2 document converts refs, allOf wrappers and int-or-string, and keeps the kinds', (t) => {
  t.deepEqual(v2Schema({ allOf: [{ $ref: '#/components/schemas/io.k8s.api.core.v1.PodSpec' }] }), { $ref: '#/definitions/io.k8s.api.core.v1.PodSpec' });
  t.deepEqual(v2Schema({ 'x-kubernetes-int-or-string': true }), { type: 'string', format: 'int-or-string' });
  const doc = buildOpenAPIv2(new Registry());
  t.is(doc.swagger, '2.0');
  const rc = doc.definitions['io.k8s.api.core.v1.ReplicationController'];
  t.deepEqual(rc['x-kubernetes-group-version-kind'], [{ group: '', version: 'v1', kind: 'ReplicationController' }]);
  t.is(rc.properties.spec.$ref, '#/definitions/io.k8s.api.core.v1.ReplicationControllerSpec');
  const post = doc.paths['/api/v1/namespaces/{namespace}/pods'].post;
  t.is(post.parameters[0].in, 'body');
  t.true(JSON.stringify(doc).indexOf('#/components/') < 0, 'no v3 refs left');
  const pb = openAPIv2Pb(doc);
  // Document.swagger = field 1 (tag 0x0a), "2.0"
  t.deepEqual([...pb.subarray(0, 5)], [0x0a, 3, 0x32, 0x2e, 0x30]);
  t.true(pb.includes(Buffer.from('x-kubernetes-group-version-kind')));
});

test('a pod update that re-sends its tolerations with keys reordered is not a change', (t) => {
  const old = {
    metadata: {},
    spec: { containers: [{ name: 'c', image: 'i' }], tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }] },
  };
  const same = {
    metadata: {},
    spec: { containers: [{ name: 'c', image: 'i' }], tolerations: [{ tolerationSeconds: 300, effect: 'NoExecute', key: 'k', operator: 'Exists' }] },
  };
  t.deepEqual(validatePodUpdate(same, old), []);
  const changed = structuredClone(same);
  changed.spec.tolerations[0].key = 'other';
  t.is(validatePodUpdate(changed, old)[0]?.field, 'spec.tolerations');
});

test('an RC selector is an equality map; an empty one selects nothing', (t) => {
  t.true(equalitySelector({ app: 'a', tier: 'b' })({ app: 'a', tier: 'b', x: 'y' }));
  t.false(equalitySelector({ app: 'a', tier: 'b' })({ app: 'a' }));
  t.false(equalitySelector({})({ app: 'a' }));
});

test('a compute quota needs each container to state what it tracks', (t) => {
  const quota = { metadata: { name: 'q' }, spec: { hard: { pods: '5', 'requests.cpu': '1', 'limits.memory': '1Gi' } } };
  const pod = { metadata: {}, spec: { containers: [{ name: 'a', resources: { limits: { cpu: '1', memory: '1Mi' } } }, { name: 'b' }] } };
  t.is(missingCompute(quota, pod), 'failed quota: q: must specify limits.memory for: b; requests.cpu for: b');
  t.is(missingCompute({ metadata: { name: 'q' }, spec: { hard: { pods: '1' } } }, pod), undefined);
});

test('aggregated discovery is chosen only when asked for before plain JSON', (t) => {
  const kubectl =
    'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
  t.is(aggregatedVersion(kubectl), 'v2');
  t.is(aggregatedVersion('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList'), 'v2beta1');
  t.is(aggregatedVersion('application/json, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList'), undefined);
  t.is(aggregatedVersion(undefined), undefined);
  t.is(aggregatedVersion('application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList'), undefined);
});

test('streaming a long container log to a slow reader leaves no close listeners behind (kubelet logs path)', async (t) => {
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { Writable } = await import('node:stream');
  const { writeContainerLog } = await import('../../agents/kubelet/server/log-stream.ts');
  const dir = mkdtempSync(join(tmpdir(), 'gaps-log-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, '0.log');
  const line = `2025-01-01T00:00:00.000000000Z stdout F ${'y'.repeat(200)}\n`;
  writeFileSync(path, line.repeat(20_000)); // several MB: many chunks, each meeting a full writer
  let bytes = 0;
  let most = 0;
  const out = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      most = Math.max(most, out.listenerCount('close'));
      setImmediate(cb);
    },
  });
  await writeContainerLog(path, { follow: false, previous: false } as never, out);
  t.true(bytes > 1_000_000, `streamed ${bytes} bytes`);
  t.true(most <= 1, `at most one close listener at a time (saw ${most})`);
  t.is(out.listenerCount('close'), 0);
});

test('the kubelet server takes a 20 kB request line (exec commands travel in its query string)', async (t) => {
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { request } = await import('node:https');
  const { issueCert, loadOrCreateCA } = await import('../../agents/control-plane/pki.ts');
  const { startKubeletServer } = await import('../../agents/kubelet/server/server.ts');
  const dir = mkdtempSync(join(tmpdir(), 'gaps-kubelet-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await loadOrCreateCA(join(dir, 'ca'));
  const none = async () => [];
  const cri = {
    listPodSandbox: none,
    listContainers: none,
    containerStatus: async () => {
      throw new Error('none');
    },
    exec: async () => '',
    attach: async () => '',
    portForward: async () => '',
  };
  const server = await startKubeletServer({
    bindAddress: '127.0.0.1',
    port: 0,
    tlsDir: join(dir, 'tls'),
    clientCA: Buffer.from(ca.certPem),
    nodeName: 'node-1',
    nodeIP: '127.0.0.1',
    cri: cri as never,
    podLogDir: join(dir, 'pods'),
    pods: () => [],
  });
  t.teardown(() => server.close());
  const admin = await issueCert(ca, { cn: 'admin', orgs: ['system:masters'], usage: 'client' });
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path: `/healthz?pad=${'c'.repeat(20_000)}`,
        ca: readFileSync(server.servingCertFile, 'utf8'),
        servername: 'node-1',
        cert: admin.certPem,
        key: admin.keyPem,
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode!);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
  t.is(status, 200);
});
