// [sig-node] and [sig-storage] pod configuration on a fresh two-node lab with the real kubectl v1.35:
// environment from values, ConfigMaps, Secrets, the downward API and service links; emptyDir,
// hostPath, configMap, secret, downwardAPI and projected volumes (with updates and subPath), the
// eviction of a pod whose emptyDir outgrows its sizeLimit;
// security contexts; the kubelet-managed /etc/hosts; QoS classes and pod cgroups.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Cluster, condition, cstatus, downLab, eventually, namespace, upLab, type NodeLab } from './helpers/node-e2e.ts';

const LAB = ['nodecf', '10.83.0.0/24'] as const;
let L: NodeLab;

test.before(async () => {
  L = await upLab(...LAB);
});
test.after.always(async () => {
  await downLab(...LAB);
});

type Spec = Record<string, unknown>;
const pod = (name: string, c: Spec, spec: Spec = {}, meta: Spec = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...meta },
    spec: { terminationGracePeriodSeconds: 1, restartPolicy: 'Never', containers: [{ name: 'c', image: L.testapp, ...c }], ...spec },
  });
const sh = (script: string) => ({ command: ['sh', '-c', script] });
const obj = (kind: string, name: string, body: Spec) => JSON.stringify({ apiVersion: 'v1', kind, metadata: { name }, ...body });

const it = (name: string, body: (c: Cluster, t: import('ava').ExecutionContext) => Promise<void>) =>
  test(name, async (t) => body(new Cluster(L.kc, await namespace(t, L.kc)), t));

/** Runs a pod to completion and returns its log. */
async function output(c: Cluster, name: string): Promise<string> {
  await c.waitPhase(name, 'Succeeded', 40_000);
  return c.ok(['logs', name]);
}

it('[sig-node] ConfigMap should be consumable via environment variable [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(obj('ConfigMap', 'cm-env', { data: { 'data-1': 'value-1' } }));
  await c.apply(pod('cm-env-pod', { command: ['env'], env: [{ name: 'CONFIG_DATA_1', valueFrom: { configMapKeyRef: { name: 'cm-env', key: 'data-1' } } }] }));
  t.regex(await output(c, 'cm-env-pod'), /^CONFIG_DATA_1=value-1$/m);
});

it('[sig-node] ConfigMap should be consumable via the environment [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(obj('ConfigMap', 'cm-from', { data: { 'data-1': 'value-1', 'data-2': 'value-2' } }));
  await c.apply(
    pod('cm-from-pod', { command: ['env'], envFrom: [{ configMapRef: { name: 'cm-from' } }, { prefix: 'p-', configMapRef: { name: 'cm-from' } }] }),
  );
  const out = await output(c, 'cm-from-pod');
  for (const line of ['data-1=value-1', 'data-2=value-2', 'p-data-1=value-1', 'p-data-2=value-2']) t.regex(out, new RegExp(`^${line}$`, 'm'));
});

it('[sig-node] Secrets should be consumable from pods in env vars [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(obj('Secret', 'sec-env', { stringData: { 'data-1': 'value-1' } }));
  await c.apply(pod('sec-env-pod', { command: ['env'], env: [{ name: 'SECRET_DATA', valueFrom: { secretKeyRef: { name: 'sec-env', key: 'data-1' } } }] }));
  t.regex(await output(c, 'sec-env-pod'), /^SECRET_DATA=value-1$/m);
});

it('[sig-storage] ConfigMap Should fail non-optional pod creation due to configMap object does not exist [Slow]', async (c, t) => {
  await c.apply(pod('cm-missing', { ...sh('echo $K'), env: [{ name: 'K', valueFrom: { configMapKeyRef: { name: 'later', key: 'k' } } }] }));
  const p = await c.waitPod('cm-missing', 'CreateContainerConfigError', (x) => cstatus(x, 'c')?.state?.waiting?.reason === 'CreateContainerConfigError');
  t.is(cstatus(p, 'c').state.waiting.message, 'configmap "later" not found');
  t.true((await c.events('cm-missing')).some((e) => e.reason === 'Failed' && e.message === 'Error: configmap "later" not found'));
  // creating the ConfigMap lets the pod start without anything else
  await c.apply(obj('ConfigMap', 'later', { data: { k: 'arrived' } }));
  t.is(await output(c, 'cm-missing'), 'arrived\n');
});

it('[sig-node] Downward API should provide pod name, namespace and IP address as env vars [NodeConformance] [Conformance]', async (c, t) => {
  const ref = (fieldPath: string) => ({ valueFrom: { fieldRef: { fieldPath } } });
  await c.apply(
    pod('downward-env', {
      ...sh('env'),
      env: [
        { name: 'POD_NAME', ...ref('metadata.name') },
        { name: 'POD_NAMESPACE', ...ref('metadata.namespace') },
        { name: 'POD_IP', ...ref('status.podIP') },
        { name: 'HOST_IP', ...ref('status.hostIP') },
        { name: 'NODE_NAME', ...ref('spec.nodeName') },
        { name: 'POD_UID', ...ref('metadata.uid') },
      ],
    }),
  );
  const out = await output(c, 'downward-env');
  const p = await c.pod('downward-env');
  t.regex(out, new RegExp(`^POD_NAME=downward-env$`, 'm'));
  t.regex(out, new RegExp(`^POD_NAMESPACE=${c.ns}$`, 'm'));
  t.regex(out, new RegExp(`^POD_IP=${p.status.podIP.replace(/\./g, '\\.')}$`, 'm'));
  t.regex(out, new RegExp(`^HOST_IP=${p.status.hostIP.replace(/\./g, '\\.')}$`, 'm'));
  t.regex(out, new RegExp(`^NODE_NAME=${p.spec.nodeName}$`, 'm'));
  t.regex(out, new RegExp(`^POD_UID=${p.metadata.uid}$`, 'm'));
});

it("[sig-node] Downward API should provide container's limits.cpu/memory and requests.cpu/memory as env vars [NodeConformance] [Conformance]", async (c, t) => {
  const res = (resource: string, divisor?: string) => ({ valueFrom: { resourceFieldRef: { resource, ...(divisor ? { divisor } : {}) } } });
  await c.apply(
    pod('downward-res', {
      ...sh('env'),
      resources: { requests: { cpu: '250m', memory: '32Mi' }, limits: { cpu: '1250m', memory: '64Mi' } },
      env: [
        { name: 'CPU_LIMIT', ...res('limits.cpu') },
        { name: 'MEMORY_LIMIT', ...res('limits.memory') },
        { name: 'CPU_REQUEST', ...res('requests.cpu', '1m') },
        { name: 'MEMORY_REQUEST', ...res('requests.memory', '1Mi') },
      ],
    }),
  );
  const out = await output(c, 'downward-res');
  for (const line of ['CPU_LIMIT=2', `MEMORY_LIMIT=${64 * 1024 * 1024}`, 'CPU_REQUEST=250', 'MEMORY_REQUEST=32']) t.regex(out, new RegExp(`^${line}$`, 'm'));
});

it('[sig-node] Variable Expansion should allow composing env vars into new env vars [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(
    pod('expansion', {
      command: ['sh', '-c', 'env; echo "cmd:$(FOOBAR)"'],
      env: [
        { name: 'FOO', value: 'foo-value' },
        { name: 'BAR', value: 'bar-value' },
        { name: 'FOOBAR', value: '$(FOO);;$(BAR)' },
        { name: 'ESCAPED', value: '$$(FOO)' },
      ],
    }),
  );
  const out = await output(c, 'expansion');
  t.regex(out, /^FOOBAR=foo-value;;bar-value$/m);
  t.regex(out, /^ESCAPED=\$\(FOO\)$/m);
  t.regex(out, /^cmd:foo-value;;bar-value$/m, 'the command expands too');
});

it('[sig-node] Pods should contain environment variables for services [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'fooservice' },
      spec: { selector: { name: 'server' }, ports: [{ port: 8765, targetPort: 8080 }] },
    }),
  );
  const svc = JSON.parse(await c.ok(['get', 'service', 'fooservice', '-o', 'json']));
  await c.apply(pod('client-envvars', { command: ['env'] }));
  const out = await output(c, 'client-envvars');
  const ip = svc.spec.clusterIP.replace(/\./g, '\\.');
  for (const line of [
    `FOOSERVICE_SERVICE_HOST=${ip}`,
    'FOOSERVICE_SERVICE_PORT=8765',
    `FOOSERVICE_PORT=tcp://${ip}:8765`,
    `FOOSERVICE_PORT_8765_TCP_PROTO=tcp`,
    'FOOSERVICE_PORT_8765_TCP_PORT=8765',
    `FOOSERVICE_PORT_8765_TCP_ADDR=${ip}`,
    'KUBERNETES_SERVICE_HOST=',
  ]) {
    t.regex(out, new RegExp(`^${line}`, 'm'));
  }
});

it('[sig-storage] ConfigMap updates should be reflected in volume [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(obj('ConfigMap', 'cm-upd', { data: { 'data-1': 'value-1' } }));
  await c.apply(
    pod(
      'cm-volume',
      { ...sh('sleep 600'), volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg' }] },
      { restartPolicy: 'Always', volumes: [{ name: 'cfg', configMap: { name: 'cm-upd' } }] },
    ),
  );
  await c.waitRunning('cm-volume');
  t.is((await c.exec('cm-volume', ['cat', '/etc/cfg/data-1'])).stdout, 'value-1');
  const began = Date.now();
  await c.apply(obj('ConfigMap', 'cm-upd', { data: { 'data-1': 'value-2' } }));
  await eventually('the update in the volume', async () => (await c.exec('cm-volume', ['cat', '/etc/cfg/data-1'])).stdout === 'value-2', 30_000, 200);
  t.log(`update visible after ${Date.now() - began} ms`);
  t.regex((await c.exec('cm-volume', ['ls', '-la', '/etc/cfg'])).stdout, /\.\.data -> \.\.\d{4}_/);
  t.is((await c.exec('cm-volume', ['sh', '-c', 'echo x > /etc/cfg/new'])).code, 1, 'API data volumes are read-only');
});

it('[sig-storage] Secrets should be consumable from pods in volume with mappings and Item Mode set [LinuxOnly] [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(obj('Secret', 'sec-vol', { stringData: { 'data-1': 'value-1', 'data-2': 'value-2' } }));
  await c.apply(
    pod(
      'sec-volume',
      {
        ...sh('stat -L -c "%a %n" /etc/secret-volume/new-path-data-1; cat /etc/secret-volume/new-path-data-1; echo; mount | grep secret-volume'),
        volumeMounts: [{ name: 'sv', mountPath: '/etc/secret-volume' }],
      },
      { volumes: [{ name: 'sv', secret: { secretName: 'sec-vol', items: [{ key: 'data-1', path: 'new-path-data-1', mode: 0o400 }] } }] },
    ),
  );
  const out = await output(c, 'sec-volume');
  t.regex(out, /^400 \/etc\/secret-volume\/new-path-data-1\nvalue-1\ntmpfs on \/etc\/secret-volume type tmpfs \(ro/);
});

it('[sig-storage] Downward API volume should update labels on modification [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(
    pod(
      'labels-vol',
      { ...sh('sleep 600'), volumeMounts: [{ name: 'podinfo', mountPath: '/etc/podinfo' }] },
      { restartPolicy: 'Always', volumes: [{ name: 'podinfo', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } }] },
      { labels: { key1: 'value1', key2: 'value2' } },
    ),
  );
  await c.waitRunning('labels-vol');
  t.is((await c.exec('labels-vol', ['cat', '/etc/podinfo/labels'])).stdout, 'key1="value1"\nkey2="value2"');
  await c.ok(['label', 'pod', 'labels-vol', 'key3=value3']);
  await eventually(
    'the new label in the file',
    async () => /key3="value3"/.test((await c.exec('labels-vol', ['cat', '/etc/podinfo/labels'])).stdout),
    30_000,
    200,
  );
  t.pass();
});

it('[sig-storage] Projected combined should project all components that make up the projection API [Projection] [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(obj('ConfigMap', 'proj-cm', { data: { configmap_data: 'configmap-value' } }));
  await c.apply(obj('Secret', 'proj-sec', { stringData: { secret_data: 'secret-value' } }));
  await c.apply(
    pod(
      'projected',
      { ...sh('cat /all/podname /all/cm /all/secret'), volumeMounts: [{ name: 'all', mountPath: '/all' }] },
      {
        volumes: [
          {
            name: 'all',
            projected: {
              sources: [
                { downwardAPI: { items: [{ path: 'podname', fieldRef: { fieldPath: 'metadata.name' } }] } },
                { configMap: { name: 'proj-cm', items: [{ key: 'configmap_data', path: 'cm' }] } },
                { secret: { name: 'proj-sec', items: [{ key: 'secret_data', path: 'secret' }] } },
              ],
            },
          },
        ],
      },
    ),
  );
  t.is((await output(c, 'projected')).trim(), 'projectedconfigmap-valuesecret-value');
});

it('[sig-storage] EmptyDir volumes should support (root,0666,tmpfs) [LinuxOnly] [NodeConformance] [Conformance]', async (c, t) => {
  const script =
    'umask 0; echo mount-tester > /test-volume/file; stat -c "%a" /test-volume/file; stat -c "%a" /test-volume; mount | grep test-volume; mount | grep disk-volume; stat -c "%a" /disk-volume';
  await c.apply(
    pod(
      'emptydir',
      {
        ...sh(script),
        volumeMounts: [
          { name: 'tv', mountPath: '/test-volume' },
          { name: 'dv', mountPath: '/disk-volume' },
        ],
      },
      {
        volumes: [
          { name: 'tv', emptyDir: { medium: 'Memory' } },
          { name: 'dv', emptyDir: {} },
        ],
      },
    ),
  );
  const out = (await output(c, 'emptydir')).split('\n');
  t.is(out[0], '666');
  t.is(out[1], '1777', 'a tmpfs emptyDir is world-writable, with the sticky bit of tmpfs as upstream leaves it');
  t.regex(out[2], /^tmpfs on \/test-volume type tmpfs \(rw/);
  t.notRegex(out[3], /tmpfs/, "the default medium is the node's disk");
  t.is(out[4], '777');
});

it('[sig-storage] [hawser] an emptyDir over its sizeLimit gets the pod evicted by the kubelet, as upstream; one under it keeps running', async (c, t) => {
  const cache = (script: string) => ({ ...sh(`${script} && sleep 600`), volumeMounts: [{ name: 'cache', mountPath: '/cache' }] });
  const spec = (nodeName?: string) => ({
    restartPolicy: 'Always',
    volumes: [{ name: 'cache', emptyDir: { sizeLimit: '1Mi' } }],
    ...(nodeName ? { nodeName } : {}),
  });
  await c.apply(pod('emptydir-under', cache('dd if=/dev/zero of=/cache/f bs=1k count=512'), spec()));
  const under = await c.waitRunning('emptydir-under');
  // on the same node, so that the pass that evicts the other pod has measured this one too
  await c.apply(pod('emptydir-over', cache('dd if=/dev/zero of=/cache/f bs=1M count=4'), spec(under.spec.nodeName)));
  const began = Date.now();
  const over = await c.waitPhase('emptydir-over', 'Failed', 40_000);
  t.log(`evicted ${Date.now() - began} ms after its creation`);
  const message = 'Usage of EmptyDir volume "cache" exceeds the limit "1Mi". ';
  t.is(over.status.reason, 'Evicted');
  t.is(over.status.message, message);
  t.falsy(condition(over, 'DisruptionTarget'), 'a local-storage eviction sets no DisruptionTarget condition upstream');
  t.truthy(cstatus(over, 'c').state.terminated, 'its container was killed');
  const events = await c.events('emptydir-over');
  t.true(
    events.some((e) => e.type === 'Warning' && e.reason === 'Evicted' && e.message === message),
    JSON.stringify(events),
  );
  t.true(events.some((e) => e.reason === 'Killing'));
  const still = await c.pod('emptydir-under');
  t.is(still.status.phase, 'Running');
  t.is(cstatus(still, 'c').restartCount, 0);
});

it('[sig-storage] HostPath should give a volume the correct mode [LinuxOnly] [NodeConformance]', async (c, t) => {
  const dir = mkdtempSync('/tmp/hawser-e2e-hostpath-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(`${dir}/from-host`, 'host data');
  await c.apply(
    pod(
      'hostpath',
      { ...sh('cat /hp/from-host; echo from-pod > /hp/from-pod; stat -c "%a" /hp/sub'), volumeMounts: [{ name: 'hp', mountPath: '/hp' }] },
      {
        volumes: [{ name: 'hp', hostPath: { path: dir, type: 'Directory' } }],
        initContainers: [{ name: 'mk', image: L.testapp, ...sh('mkdir -m 0750 /hp/sub'), volumeMounts: [{ name: 'hp', mountPath: '/hp' }] }],
      },
    ),
  );
  t.is(await output(c, 'hostpath'), 'host data750\n');
  t.is(readFileSync(`${dir}/from-pod`, 'utf8'), 'from-pod\n');
  await c.apply(
    pod(
      'hostpath-missing',
      { volumeMounts: [{ name: 'hp', mountPath: '/hp' }] },
      { volumes: [{ name: 'hp', hostPath: { path: `${dir}/absent`, type: 'Directory' } }] },
    ),
  );
  await eventually(
    'FailedMount',
    async () =>
      (await c.events('hostpath-missing')).find(
        (e) =>
          e.reason === 'FailedMount' && e.message === `MountVolume.SetUp failed for volume "hp" : hostPath type check failed: ${dir}/absent is not a directory`,
      ),
    20_000,
  );
  t.false(existsSync(`${dir}/absent`));
});

it('[sig-storage] Subpath Atomic writer volumes should support subpaths with configmap pod [Conformance]', async (c, t) => {
  await c.apply(obj('ConfigMap', 'sub-cm', { data: { 'configmap-key': 'configmap-value' } }));
  await c.apply(
    pod(
      'subpath',
      {
        ...sh('cat /probe-volume/probe-file; ls /probe-volume; echo; echo data > /scratch/sub/dir/f && cat /scratch/sub/dir/f'),
        volumeMounts: [
          { name: 'cm', mountPath: '/probe-volume/probe-file', subPath: 'configmap-key' },
          { name: 'scratch', mountPath: '/scratch/sub', subPath: 'a/b' },
        ],
      },
      {
        volumes: [
          { name: 'cm', configMap: { name: 'sub-cm' } },
          { name: 'scratch', emptyDir: {} },
        ],
        initContainers: [{ name: 'init', image: L.testapp, ...sh('mkdir -p /s/a/b/dir'), volumeMounts: [{ name: 'scratch', mountPath: '/s' }] }],
      },
    ),
  );
  t.is(await output(c, 'subpath'), 'configmap-valueprobe-file\n\ndata\n');
});

it('[sig-node] Security Context When creating a container with runAsUser should run the container with uid 65534 [LinuxOnly] [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(pod('run-as-user', { ...sh('id -u; id -G'), securityContext: { runAsUser: 65534 } }, { securityContext: { supplementalGroups: [1234] } }));
  t.regex(await output(c, 'run-as-user'), /^65534\n.*\b1234\b/);
});

it('[sig-node] Security Context When creating a container with runAsNonRoot should not run without a specified user ID', async (c, t) => {
  await c.apply(pod('non-root', { securityContext: { runAsNonRoot: true } }));
  const p = await c.waitPod('non-root', 'CreateContainerConfigError', (x) => cstatus(x, 'c')?.state?.waiting?.reason === 'CreateContainerConfigError');
  t.regex(
    cstatus(p, 'c').state.waiting.message,
    /^container has runAsNonRoot and image will run as root \(pod: "non-root_t-[0-9a-f]+\([0-9a-f-]+\)", container: c\)$/,
  );
  await c.apply(pod('non-root-ok', { ...sh('id -u'), securityContext: { runAsNonRoot: true, runAsUser: 1234 } }));
  t.is(await output(c, 'non-root-ok'), '1234\n');
});

it('[sig-node] Security Context When creating a pod with readOnlyRootFilesystem should run the container with readonly rootfs when readOnlyRootFilesystem=true [LinuxOnly] [NodeConformance]', async (c, t) => {
  await c.apply(pod('ro-rootfs', { ...sh('touch /file 2>&1; echo rc=$?'), securityContext: { readOnlyRootFilesystem: true } }));
  t.regex(await output(c, 'ro-rootfs'), /Read-only file system\nrc=1\n$/);
});

it('[sig-node] Security Context When creating a pod with privileged should run the container as unprivileged when false [LinuxOnly] [NodeConformance] [Conformance]', async (c, t) => {
  // changing a link needs CAP_NET_ADMIN, even in the pod's own network namespace
  const netAdmin = 'ip link set lo mtu 65535 2>/dev/null && echo can-admin || echo cannot-admin';
  await c.apply(pod('unprivileged', { ...sh(netAdmin), securityContext: { privileged: false } }));
  await c.apply(pod('privileged', { ...sh(netAdmin), securityContext: { privileged: true } }));
  await c.apply(pod('cap-add', { ...sh(netAdmin), securityContext: { capabilities: { add: ['NET_ADMIN'] } } }));
  await c.apply(
    pod('cap-drop', { ...sh('chown 1 /tmp 2>/dev/null && echo can-chown || echo cannot-chown'), securityContext: { capabilities: { drop: ['CHOWN'] } } }),
  );
  t.is(await output(c, 'unprivileged'), 'cannot-admin\n');
  t.is(await output(c, 'privileged'), 'can-admin\n');
  t.is(await output(c, 'cap-add'), 'can-admin\n');
  t.is(await output(c, 'cap-drop'), 'cannot-chown\n');
});

it('[sig-node] KubeletManagedEtcHosts should test kubelet managed /etc/hosts file [NodeConformance] [Conformance]', async (c, t) => {
  const dir = mkdtempSync('/tmp/hawser-e2e-hosts-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(`${dir}/hosts`, '127.0.0.1 mine\n');
  await c.apply(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'test-pod' },
      spec: {
        restartPolicy: 'Never',
        hostAliases: [{ ip: '123.45.67.89', hostnames: ['foo.remote', 'bar.remote'] }],
        containers: [
          { name: 'busybox-1', image: L.testapp, command: ['cat', '/etc/hosts'] },
          { name: 'busybox-3', image: L.testapp, command: ['cat', '/etc/hosts'], volumeMounts: [{ name: 'host-etc-hosts', mountPath: '/etc/hosts' }] },
        ],
        volumes: [{ name: 'host-etc-hosts', hostPath: { path: `${dir}/hosts`, type: 'File' } }],
      },
    }),
  );
  await c.apply(pod('test-host-network-pod', { command: ['cat', '/etc/hosts'] }, { hostNetwork: true }));
  await c.waitPhase('test-pod', 'Succeeded');
  const p = await c.pod('test-pod');
  const managed = await c.ok(['logs', 'test-pod', '-c', 'busybox-1']);
  t.true(managed.startsWith('# Kubernetes-managed hosts file.\n'), managed);
  t.regex(managed, new RegExp(`^${p.status.podIP.replace(/\./g, '\\.')}\\ttest-pod$`, 'm'));
  t.regex(managed, /# Entries added by HostAliases\.\n123\.45\.67\.89\tfoo\.remote\tbar\.remote\n$/);
  t.is(await c.ok(['logs', 'test-pod', '-c', 'busybox-3']), '127.0.0.1 mine\n', 'a container mounting its own /etc/hosts keeps it');
  const hostNet = await output(c, 'test-host-network-pod');
  t.false(hostNet.includes('# Kubernetes-managed hosts file.\n'));
  t.true(hostNet.startsWith('# Kubernetes-managed hosts file (host network).\n'));
  t.true(hostNet.includes(readFileSync('/etc/hosts', 'utf8').split('\n')[0]), "the node's own hosts file");
});

it('[sig-node] [hawser] the kubelet-managed /etc/hosts names a pod by its hostname and subdomain FQDN (the node half of DNS for pods for Hostname)', async (c, t) => {
  await c.apply(pod('dns-querier-2', sh('hostname; grep dns-querier-2 /etc/hosts'), { hostname: 'dns-querier-2', subdomain: 'dns-test-service-2' }));
  const out = await output(c, 'dns-querier-2');
  const p = await c.pod('dns-querier-2');
  t.is(out, `dns-querier-2\n${p.status.podIP}\tdns-querier-2.dns-test-service-2.${c.ns}.svc.cluster.local\tdns-querier-2\n`);
});

it('[sig-node] Pods Extended Pods Set QOS Class should be set on Pods with matching resource requests and limits for memory and cpu [Conformance]', async (c, t) => {
  const r = { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '100m', memory: '64Mi' } };
  await c.apply(pod('qos-g', { ...sh('sleep 600'), resources: r }, { restartPolicy: 'Always' }));
  await c.apply(pod('qos-b', { ...sh('sleep 600'), resources: { requests: { cpu: '50m' } } }, { restartPolicy: 'Always' }));
  await c.apply(pod('qos-be', sh('sleep 600'), { restartPolicy: 'Always' }));
  const [g, b, be] = await Promise.all(['qos-g', 'qos-b', 'qos-be'].map((n) => c.waitRunning(n)));
  t.deepEqual(
    [g, b, be].map((p) => p.status.qosClass),
    ['Guaranteed', 'Burstable', 'BestEffort'],
  );
  // the pod cgroups sit in the QoS hierarchy under the node's --cgroup-root, limited as declared
  const root = (p: any) => `/sys/fs/cgroup/%s/hawser/${p.spec.nodeName}`;
  const read = (p: any, ctl: string, rel: string, file: string) =>
    readFileSync(`${root(p).replace('%s', ctl)}/${rel}pod${p.metadata.uid}/${file}`, 'utf8').trim();
  t.is(read(g, 'memory', '', 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
  t.is(read(g, 'cpu', '', 'cpu.cfs_quota_us'), '10000');
  t.is(read(g, 'cpu', '', 'cpu.shares'), '102');
  t.is(read(b, 'cpu', 'burstable/', 'cpu.shares'), '51');
  t.is(read(be, 'cpu', 'besteffort/', 'cpu.shares'), '2');
  t.true(statSync(`${root(be).replace('%s', 'cpu')}/besteffort`).isDirectory());
  t.is(condition(g, 'Ready').status, 'True');
});
