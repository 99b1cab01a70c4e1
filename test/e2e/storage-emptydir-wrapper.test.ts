// [sig-storage] EmptyDir wrapper volumes, mirrored from upstream's test/e2e/storage/empty_dir_wrapper.go:
// a secret and a configMap volume side by side in one pod, and 5 pods on one node each mounting the
// same 50 configMap volumes, three times over (the race of kubernetes#29641).
import { eventually, kubectlJson } from './helpers/node-e2e.ts';
import { objOf, podOf, secretData, volumeSuite } from './helpers/volume-e2e.ts';

const it = volumeSuite();

it('[sig-storage] EmptyDir wrapper volumes should not conflict [Conformance]', async (v) => {
  const name = 'emptydir-wrapper-test';
  await v.c.apply(objOf('Secret', name, { data: secretData({ 'data-1': 'value-1\n' }) }));
  await v.c.apply(objOf('ConfigMap', name, { binaryData: { 'data-1': Buffer.from('value-1\n').toString('base64') } }));
  await v.c.apply(
    podOf('pod-secrets', {
      restartPolicy: 'Always',
      volumes: [
        { name: 'secret-volume', secret: { secretName: name } },
        { name: 'configmap-volume', configMap: { name } },
      ],
      containers: [
        {
          name: 'secret-test',
          image: v.lab.testapp,
          volumeMounts: [
            { name: 'secret-volume', mountPath: '/etc/secret-volume', readOnly: true },
            { name: 'configmap-volume', mountPath: '/etc/configmap-volume' },
          ],
        },
      ],
    }),
  );
  const pod = await v.c.waitRunning('pod-secrets', 60_000);
  v.t.is(pod.status.phase, 'Running');
  // both volumes hold their data side by side
  v.t.is((await v.c.exec('pod-secrets', ['cat', '/etc/secret-volume/data-1', '/etc/configmap-volume/data-1'])).stdout, 'value-1\nvalue-1\n');
  await v.c.ok(['delete', 'secret', name]);
  await v.c.ok(['delete', 'configmap', name]);
  await v.c.ok(['delete', 'pod', 'pod-secrets', '--grace-period=0', '--wait=false']);
});

const VOLUMES = 50;
const ITERATIONS = 3;
const PODS = 5;

it('[sig-storage] EmptyDir wrapper volumes should not cause race condition when used for configmaps [Serial] [Conformance]', async (v) => {
  const names = Array.from({ length: VOLUMES }, (_, i) => `racey-configmap-${i}`);
  await v.c.ok(
    ['create', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: names.map((n) => JSON.parse(objOf('ConfigMap', n, { data: { 'data-1': 'value-1' } }))) }),
  );
  const volumes = names.map((n, i) => ({ name: `racey-configmap-${i}`, configMap: { name: n, items: [{ key: 'data-1', path: 'data-1' }] } }));
  const volumeMounts = names.map((_, i) => ({ name: `racey-configmap-${i}`, mountPath: `/etc/config-${i}` }));
  const nodes = await kubectlJson(v.c.kc, ['get', 'nodes']);
  for (let i = 0; i < ITERATIONS; i++) {
    const target = nodes.items[i % nodes.items.length].metadata.labels['kubernetes.io/hostname'];
    const rc = `wrapped-volume-race-${i}`;
    await v.c.apply(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ReplicationController',
        metadata: { name: rc },
        spec: {
          replicas: PODS,
          selector: { name: rc },
          template: {
            metadata: { labels: { name: rc } },
            spec: {
              containers: [{ name: 'test-container', image: v.lab.pause, volumeMounts }],
              affinity: {
                nodeAffinity: {
                  requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [target] }] }],
                  },
                },
              },
              dnsPolicy: 'Default',
              volumes,
            },
          },
        },
      }),
    );
    const began = Date.now();
    const list = async () => (await kubectlJson(v.c.kc, ['-n', v.c.ns, 'get', 'pods', '-l', `name=${rc}`])).items as any[];
    const pods = await eventually(
      `${PODS} pods of ${rc} running`,
      async () => {
        const items = (await list()).filter((p) => !p.metadata.deletionTimestamp);
        return items.length === PODS && items.every((p) => p.status?.phase === 'Running') ? items : undefined;
      },
      180_000,
      1000,
    );
    v.t.true(pods.every((p) => p.spec.nodeName === target));
    v.t.log(`iteration ${i}: ${PODS} pods with ${VOLUMES} configMap volumes each running after ${Date.now() - began} ms`);
    await v.c.ok(['delete', 'rc', rc, '--cascade=foreground', '--wait=true', '--timeout=120s']);
  }
});
