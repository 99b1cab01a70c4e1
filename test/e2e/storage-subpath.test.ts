// Volume subPath and subPathExpr, mirrored from upstream's test/e2e/storage/subpath.go ([sig-storage]
// Subpath Atomic writer volumes; its configmap case lives in node-config.test.ts) and the subpath
// tests of test/e2e/common/node/expansion.go ([sig-node] Variable Expansion).
import { cstatus, eventually } from './helpers/node-e2e.ts';
import { containerOutput, objOf, podOf, mounttest, secretData, volumeSuite, type Json, type V } from './helpers/volume-e2e.ts';

const it = volumeSuite();

/** The BeforeEach of "Atomic writer volumes": my-secret and my-configmap. */
async function atomicWriterData(v: V): Promise<void> {
  await v.c.apply(objOf('Secret', 'my-secret', { data: secretData({ 'secret-key': 'secret-value' }) }));
  await v.c.apply(objOf('ConfigMap', 'my-configmap', { data: { 'configmap-key': 'configmap-value' } }));
}

/**
 * SubpathTestPod after TestBasicSubpathFile's removeUnusedContainers: the subpath container with
 * the volume's `subPath` at /test-volume (or `file`), the probe emptyDir at /probe-volume, reading
 * the mounted file; the log must hold `contents`.
 */
async function basicSubpath(v: V, subPath: string, type: string, source: Json, contents: (pod: string) => string, file = '/test-volume'): Promise<void> {
  await atomicWriterData(v);
  const name = `pod-subpath-test-${type.toLowerCase()}-${Math.random().toString(36).slice(2, 6)}`;
  await containerOutput(
    v,
    podOf(name, {
      terminationGracePeriodSeconds: 1,
      volumes: [
        { name: 'test-volume', ...source },
        { name: 'liveness-probe-volume', emptyDir: {} },
      ],
      containers: [
        {
          name: `test-container-subpath-${type.toLowerCase()}`,
          image: v.lab.testapp,
          securityContext: { privileged: false },
          ...mounttest({ content: [file] }),
          volumeMounts: [
            { name: 'test-volume', mountPath: file, subPath },
            { name: 'liveness-probe-volume', mountPath: '/probe-volume' },
          ],
        },
      ],
    }),
    `test-container-subpath-${type.toLowerCase()}`,
    [contents(name)],
  );
}

const configMap = { configMap: { name: 'my-configmap' } };
it('[sig-storage] Subpath Atomic writer volumes should support subpaths with secret pod [Conformance]', (v) =>
  basicSubpath(v, 'secret-key', 'secret', { secret: { secretName: 'my-secret' } }, () => 'secret-value'));
it('[sig-storage] Subpath Atomic writer volumes should support subpaths with configmap pod with mountPath of existing file [Conformance]', (v) =>
  basicSubpath(v, 'configmap-key', 'configmap', configMap, () => 'configmap-value', '/etc/resolv.conf'));
it('[sig-storage] Subpath Atomic writer volumes should support subpaths with downward pod [Conformance]', (v) =>
  basicSubpath(
    v,
    'downward/podname',
    'downwardAPI',
    { downwardAPI: { items: [{ path: 'downward/podname', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } }] } },
    (pod) => pod,
  ));
it('[sig-storage] Subpath Atomic writer volumes should support subpaths with projected pod [Conformance]', (v) =>
  basicSubpath(
    v,
    'projected/configmap-key',
    'projected',
    { projected: { sources: [{ configMap: { name: 'my-configmap', items: [{ path: 'projected/configmap-key', key: 'configmap-key' }] } }] } },
    () => 'configmap-value',
  ));

// ---- expansion.go ----

type Env = Json[];
/** expansion.go's newPod: one busybox "dapi-container" with the env and mounts, volume workdir1 an emptyDir. */
const expansionPod = (v: V, name: string, command: string[] | undefined, env: Env, mounts: Json[], meta: Json = {}) =>
  podOf(
    name,
    {
      volumes: [{ name: 'workdir1', emptyDir: {} }],
      containers: [{ name: 'dapi-container', image: v.lab.testapp, command, env, volumeMounts: mounts }],
    },
    { labels: { name }, ...meta },
  );

/** testPodFailSubpath: the container must wait in CreateContainerConfigError. */
async function failSubpath(v: V, value: string): Promise<void> {
  await v.c.apply(
    expansionPod(
      v,
      'var-expansion-fail',
      undefined,
      [{ name: 'POD_NAME', value }],
      [{ name: 'workdir1', mountPath: '/logscontainer', subPathExpr: '$(POD_NAME)' }],
    ),
  );
  await v.c.waitPod(
    'var-expansion-fail',
    'container 0 in CreateContainerConfigError',
    (p) => cstatus(p, 'dapi-container')?.state?.waiting?.reason === 'CreateContainerConfigError',
    120_000,
  );
  v.t.pass();
}

it('[sig-node] Variable Expansion should allow substituting values in a volume subpath [Conformance]', async (v) => {
  const name = 'var-expansion-subpath';
  await containerOutput(
    v,
    expansionPod(
      v,
      name,
      ['sh', '-c', `test -d /testcontainer/${name};echo $?`],
      [{ name: 'POD_NAME', value: name }],
      [
        { name: 'workdir1', mountPath: '/logscontainer', subPathExpr: '$(POD_NAME)' },
        { name: 'workdir1', mountPath: '/testcontainer' },
      ],
    ),
    'dapi-container',
    ['0'],
  );
});
it('[sig-node] Variable Expansion should fail substituting values in a volume subpath with backticks [Conformance]', (v) => failSubpath(v, '..'));
it('[sig-node] Variable Expansion should fail substituting values in a volume subpath with absolute path [Conformance]', (v) => failSubpath(v, '/tmp'));

const annotationEnv: Env = [
  { name: 'POD_NAME', value: 'foo' },
  { name: 'ANNOTATION', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: "metadata.annotations['mysubpath']" } } },
];
const annotationMounts = [
  { name: 'workdir1', mountPath: '/subpath_mount', subPathExpr: '$(ANNOTATION)/$(POD_NAME)' },
  { name: 'workdir1', mountPath: '/volume_mount' },
];
const running = (v: V, name: string) => v.c.waitPod(name, 'Running', (p) => p.status?.phase === 'Running', 120_000);

it('[sig-node] Variable Expansion should verify that a failing subpath expansion can be modified during the lifecycle of a container [Slow] [Conformance]', async (v) => {
  const name = 'var-expansion-modified';
  await v.c.apply(expansionPod(v, name, ['sh', '-c', 'tail -f /dev/null'], annotationEnv, annotationMounts, { annotations: { notmysubpath: 'mypath' } }));
  // without the annotation the expansion is "/foo", an absolute path: the pod must not start
  await v.c.waitPod(
    name,
    'container in CreateContainerConfigError',
    (p) => cstatus(p, 'dapi-container')?.state?.waiting?.reason === 'CreateContainerConfigError',
    60_000,
  );
  await new Promise((r) => setTimeout(r, 10_000));
  v.t.not((await v.c.pod(name)).status.phase, 'Running');
  await v.c.ok(['annotate', 'pod', name, 'mysubpath=mypath']);
  await running(v, name);
  await v.c.ok(['delete', 'pod', name, '--wait=true', '--timeout=60s']);
});

it('[sig-node] Variable Expansion should succeed in writing subpaths in container [Conformance]', async (v) => {
  const name = 'var-expansion-write';
  await v.c.apply(expansionPod(v, name, ['sh', '-c', 'tail -f /dev/null'], annotationEnv, annotationMounts, { annotations: { mysubpath: 'mypath' } }));
  await running(v, name);
  v.t.is((await v.c.exec(name, ['sh', '-c', 'touch /volume_mount/mypath/foo/test.log'])).code, 0, 'expected to be able to write to subpath');
  v.t.is((await v.c.exec(name, ['sh', '-c', 'test -f /subpath_mount/test.log'])).code, 0, 'expected to be able to verify file');
  await v.c.ok(['annotate', 'pod', name, '--overwrite', 'mysubpath=mynewpath']);
  // a changed expansion does not touch the running container
  await new Promise((r) => setTimeout(r, 5_000));
  await running(v, name);
  await v.c.ok(['delete', 'pod', name, '--wait=true', '--timeout=60s']);
  await eventually('the pod gone', async () => (await v.c.run(['get', 'pod', name])).code !== 0, 30_000);
});
