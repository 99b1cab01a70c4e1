// [sig-node] the node agent itself on a fresh two-node lab, with the real kubectl v1.35: the Node
// object (labels, capacity, allocatable, conditions, addresses, nodeInfo, images) and its Lease,
// static pods with their mirror pods, kubectl port-forward through the kubelet, and what survives
// a kubelet or containerd restart; then the disruptive ones: image garbage collection on disk
// thresholds and registration with taints and labels from flags.
import test from 'ava';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { nodeProc } from '../../agents/cli/lab/components.ts';
import { startProc, stopProc } from '../../agents/cli/lab/procs.ts';
import type { LabNode } from '../../agents/cli/lab/topology.ts';
import { CriClient } from '../../agents/kubelet/cri/client.ts';
import { bin, Cluster, condition, cstatus, downLab, eventually, kubectl, kubectlJson, kubectlOk, namespace, upLab, type NodeLab } from './helpers/node-e2e.ts';

const LAB = ['nodeag', '10.84.0.0/24'] as const;
let L: NodeLab;
let leaseAtStart: any;

test.before(async () => {
  L = await upLab(...LAB);
  leaseAtStart = await kubectlJson(L.kc, ['-n', 'kube-node-lease', 'get', 'lease', L.lab.nodes[0].name]);
});
test.after.always(async () => {
  await downLab(...LAB);
});

type Spec = Record<string, unknown>;
const pod = (name: string, node: LabNode, c: Spec = {}, spec: Spec = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 1,
      nodeSelector: { 'kubernetes.io/hostname': node.name },
      containers: [{ name: 'c', image: L.testapp, ...c }],
      ...spec,
    },
  });
// one at a time, as upstream runs [Disruptive] tests: these restart the kubelet and containerd,
// change kubelet flags and garbage-collect images, which a test running beside them would feel
const it = (name: string, body: (c: Cluster, t: import('ava').ExecutionContext) => Promise<void>) =>
  test.serial(name, async (t) => body(new Cluster(L.kc, await namespace(t, L.kc)), t));

async function cri<T>(n: LabNode, fn: (c: CriClient) => Promise<T>): Promise<T> {
  const c = new CriClient(n.socket, { timeoutMs: 10_000 });
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}
const containersOf = (n: LabNode, uid: string) => cri(n, (c) => c.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': uid } }));
const sandboxesOf = (n: LabNode, uid: string) => cri(n, (c) => c.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': uid } }));

async function restart(n: LabNode, what: 'kubelet' | 'containerd', between?: () => Promise<void>): Promise<void> {
  const spec = nodeProc(L.lab, n, what, bin);
  await stopProc(spec.pidFile);
  await between?.();
  startProc(spec);
  if (what === 'containerd') await eventually('containerd to answer', () => cri(n, (c) => c.version().then(() => true)), 30_000, 200);
}

/** Waits until the node's kubelet has posted status since `since` (it has synced after a restart). */
const kubeletBack = (n: LabNode, since: number) =>
  eventually(
    `${n.name}'s kubelet to report`,
    async () => {
      const node = await kubectlJson(L.kc, ['get', 'node', n.name]);
      const ready = condition(node, 'Ready');
      return ready?.status === 'True' && Date.parse(ready.lastHeartbeatTime) >= since - 1000;
    },
    60_000,
  );

it('[sig-node] Node status reports labels, capacity, allocatable, conditions, addresses and nodeInfo', async (c, t) => {
  const n = L.lab.nodes[0];
  await c.apply(pod('img', n));
  await c.waitRunning('img');
  const node = await kubectlJson(L.kc, ['get', 'node', n.name]);
  t.like(node.metadata.labels, { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' });
  t.deepEqual(node.status.addresses, [
    { type: 'InternalIP', address: n.ip },
    { type: 'Hostname', address: n.name },
  ]);
  t.is(node.status.capacity.pods, '110');
  t.regex(node.status.capacity.cpu, /^\d+$/);
  t.regex(node.status.allocatable.memory, /^\d+Ki$/);
  t.true(parseInt(node.status.allocatable.memory, 10) < parseInt(node.status.capacity.memory, 10), 'hard eviction keeps memory back');
  t.true(parseInt(node.status.allocatable['ephemeral-storage'], 10) < parseInt(node.status.capacity['ephemeral-storage'], 10));
  for (const [type, reason] of [
    ['Ready', 'KubeletReady'],
    ['MemoryPressure', 'KubeletHasSufficientMemory'],
    ['DiskPressure', 'KubeletHasNoDiskPressure'],
    ['PIDPressure', 'KubeletHasSufficientPID'],
  ]) {
    t.like(condition(node, type), { status: type === 'Ready' ? 'True' : 'False', reason }, type);
  }
  t.like(node.status.nodeInfo, { operatingSystem: 'linux', architecture: 'amd64', kubeletVersion: 'v1.35.0-hawser' });
  t.regex(node.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\/1\.6\./);
  t.is(node.status.daemonEndpoints.kubeletEndpoint.Port, 10250);
  t.regex(
    await kubectlOk(L.kc, ['get', 'nodes', '-o', 'wide']),
    new RegExp(`${n.name}\\s+Ready\\s+<none>\\s+\\S+\\s+v1\\.35\\.0-hawser\\s+${n.ip.replace(/\./g, '\\.')}`),
  );
});

it('[sig-node] MirrorPod when create a mirror pod should be updated when static pod updated [NodeConformance]', async (c, t) => {
  const n = L.lab.nodes[0];
  const dir = `${n.dir}/kubelet/pod-manifests`;
  const file = `${dir}/static-web.yaml`;
  const manifest = (value: string) => `apiVersion: v1
kind: Pod
metadata: {name: static-web, namespace: ${c.ns}, labels: {role: static}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: ${L.testapp}
    env: [{name: VERSION, value: "${value}"}]
`;
  const write = (text: string) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/.tmp`, text);
    renameSync(`${dir}/.tmp`, file);
  };
  t.teardown(() => rmSync(file, { force: true }));
  const name = `static-web-${n.name}`;
  write(manifest('one'));
  const m1 = await c.waitRunning(name, 30_000);
  const staticUid = m1.metadata.annotations['kubernetes.io/config.mirror'];
  t.is(m1.metadata.annotations['kubernetes.io/config.source'], 'file');
  t.is(m1.metadata.annotations['kubernetes.io/config.hash'], staticUid);
  t.not(m1.metadata.uid, staticUid, 'the mirror is a copy: the static pod keeps its own UID');
  t.deepEqual(
    m1.metadata.ownerReferences.map((o: any) => [o.kind, o.name]),
    [['Node', n.name]],
  );
  t.is((await c.exec(name, ['sh', '-c', 'echo $VERSION'])).stdout, 'one\n');
  const [first] = await containersOf(n, staticUid);

  // a deleted mirror pod comes back; the static pod behind it keeps running
  await c.ok(['delete', 'pod', name, '--timeout=30s']);
  t.is((await c.run(['get', 'pod', name])).code, 1, 'kubectl delete saw it go before it came back');
  const m2 = await c.waitPod(name, 'recreated', (x) => x.metadata.uid !== m1.metadata.uid && x.status?.phase === 'Running', 30_000);
  t.is(cstatus(m2, 'web').containerID, `containerd://${first.id}`);
  t.is(cstatus(m2, 'web').restartCount, 0);

  // a changed manifest is a new static pod: the mirror follows it
  write(manifest('two'));
  const m3 = await c.waitPod(
    name,
    'updated',
    (x) => x.metadata.annotations['kubernetes.io/config.mirror'] !== staticUid && x.status?.phase === 'Running',
    30_000,
  );
  t.is((await c.exec(name, ['sh', '-c', 'echo $VERSION'])).stdout, 'two\n');
  await eventually("the old static pod's containers to go", async () => (await containersOf(n, staticUid)).length === 0, 20_000);

  // and a removed manifest takes the mirror pod and the containers with it
  rmSync(file);
  await eventually('the mirror pod to go', async () => (await c.run(['get', 'pod', name])).code === 1, 30_000);
  await eventually('its containers to go', async () => (await containersOf(n, m3.metadata.annotations['kubernetes.io/config.mirror'])).length === 0, 20_000);
  t.pass();
});

it('[sig-cli] Kubectl Port forwarding With a server listening on 0.0.0.0 should support forwarding over websockets', async (c, t) => {
  await c.apply(pod('pf', L.lab.nodes[1], { ports: [{ containerPort: 8080 }] }));
  await c.waitRunning('pf');
  const child = spawn('.build/bin/kubectl', ['-n', c.ns, 'port-forward', 'pod/pf', ':8080'], { env: { ...process.env, KUBECONFIG: L.kc } });
  t.teardown(() => {
    child.kill();
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const port = await eventually('kubectl to listen', async () => Number(/Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(out)?.[1]), 15_000, 100);
  const body = await new Promise<string>((res, rej) => {
    get({ host: '127.0.0.1', port, path: '/', timeout: 5000 }, (r) => {
      let b = '';
      r.on('data', (d) => (b += d));
      r.on('end', () => res(b));
    }).on('error', rej);
  });
  t.is(body.trim(), 'pf');
});

it('[sig-node] Restart [Disruptive] Kubelet restart keeps running pods as they are and cleans up pods deleted while it was down', async (c, t) => {
  const n = L.lab.nodes[0];
  await c.apply(pod('survivor', n, { readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 } }));
  await c.apply(pod('doomed', n));
  const before = await c.waitRunning('survivor');
  const doomed = await c.waitRunning('doomed');
  const since = Date.now();
  await restart(n, 'kubelet', async () => {
    // deleted from the API while no kubelet watches: only the runtime still has it
    await c.ok(['delete', 'pod', 'doomed', '--force', '--grace-period=0']);
  });
  await kubeletBack(n, since);
  await eventually("the deleted pod's sandbox to be removed", async () => (await sandboxesOf(n, doomed.metadata.uid)).length === 0, 30_000);
  await c.apply(pod('newcomer', n));
  await c.waitRunning('newcomer');
  const after = await c.pod('survivor');
  t.is(cstatus(after, 'c').containerID, cstatus(before, 'c').containerID, 'same container');
  t.is(cstatus(after, 'c').restartCount, 0);
  t.true(cstatus(after, 'c').ready);
  t.is(condition(after, 'Ready').lastTransitionTime, condition(before, 'Ready').lastTransitionTime, 'readiness did not flap');
});

it('[sig-node] Restart [Disruptive] Container runtime restart does not restart running containers', async (c, t) => {
  const n = L.lab.nodes[0];
  await c.apply(pod('steady', n));
  const before = await c.waitRunning('steady');
  await restart(n, 'containerd', () => new Promise((r) => setTimeout(r, 1000)));
  await c.apply(pod('after-restart', n));
  await c.waitRunning('after-restart', 60_000);
  const after = await c.pod('steady');
  t.is(cstatus(after, 'c').containerID, cstatus(before, 'c').containerID);
  t.is(cstatus(after, 'c').restartCount, 0);
  const [ctr] = await containersOf(n, before.metadata.uid);
  t.is(ctr.state, 'CONTAINER_RUNNING');
  t.is(condition(await kubectlJson(L.kc, ['get', 'node', n.name]), 'Ready').status, 'True');
});

it('[sig-node] ImageGarbageCollect removes unused images once disk usage crosses --image-gc-high-threshold', async (c, t) => {
  const n = L.lab.nodes[1];
  const cfg = `${n.dir}/etc/kubelet.yaml`;
  const original = readFileSync(cfg, 'utf8');
  t.teardown(async () => {
    writeFileSync(cfg, original);
    await restart(n, 'kubelet');
  });
  // the test image, pulled here and then no longer used by any container on the node
  await c.apply(pod('puller', n, { command: ['true'] }, { restartPolicy: 'Never' }));
  await c.waitPhase('puller', 'Succeeded');
  await c.ok(['delete', 'pod', 'puller']);
  // pods of earlier tests on this node finish terminating: then no container uses the image
  await eventually('no containers on the node', async () => (await cri(n, (x) => x.listContainers())).length === 0, 30_000);
  const tags = async () => (await cri(n, (x) => x.listImages())).flatMap((i) => i.repoTags);
  t.true((await tags()).includes(L.testapp));
  appendFileSync(cfg, 'image-gc-high-threshold: 1\nimage-gc-low-threshold: 0\nminimum-image-ttl-duration: 0s\n');
  const since = Date.now();
  await restart(n, 'kubelet');
  await kubeletBack(n, since);
  await eventually('the unused image to be removed', async () => !(await tags()).includes(L.testapp), 30_000);
  t.true((await tags()).includes(L.pause), 'the sandbox image is pinned');
  const ev = await kubectlJson(L.kc, ['get', 'events', '-n', 'default', '--field-selector', `involvedObject.name=${n.name},reason=FreeDiskSpaceFailed`]);
  t.regex(
    ev.items[0]?.message ?? '',
    /^Failed to garbage collect required amount of images\. Attempted to free \d+ bytes, but only found \d+ bytes eligible to free\.$/,
  );
});

it('[sig-node] Kubelet registers with the taints and labels of --register-with-taints and --node-labels', async (c, t) => {
  const n = L.lab.nodes[1];
  const cfg = `${n.dir}/etc/kubelet.yaml`;
  const original = readFileSync(cfg, 'utf8');
  // the node keeps what it registered with: take the taint and label off it too, or every later
  // test on this lab (the conformance runner shares one) finds the node tainted
  t.teardown(async () => {
    writeFileSync(cfg, original);
    await kubectl(L.kc, ['taint', 'node', n.name, 'dedicated-']);
    await kubectl(L.kc, ['label', 'node', n.name, 'hawser.io/e2e-']);
  });
  appendFileSync(cfg, 'register-with-taints: "dedicated=e2e:NoSchedule"\nnode-labels: "hawser.io/e2e=yes"\n');
  // a pod first, so that the node's bridge holds the gateway of its current podCIDR
  await c.apply(pod('before', n));
  await c.waitPod('before', 'Running', (x) => x.status?.phase === 'Running', 60_000);
  const oldCIDR = (await kubectlJson(L.kc, ['get', 'node', n.name])).spec.podCIDR;
  const since = Date.now();
  // taints apply when the node registers: a node object that already exists keeps its own
  await restart(n, 'kubelet', async () => {
    await kubectlOk(L.kc, ['delete', 'node', n.name]);
  });
  await kubeletBack(n, since);
  const node = await kubectlJson(L.kc, ['get', 'node', n.name]);
  t.deepEqual(node.spec.taints, [{ key: 'dedicated', value: 'e2e', effect: 'NoSchedule' }]);
  t.is(node.metadata.labels['hawser.io/e2e'], 'yes');
  await c.apply(pod('repelled', n));
  const p = await c.waitPod('repelled', 'unschedulable', (x) => condition(x, 'PodScheduled')?.status === 'False', 30_000);
  t.regex(condition(p, 'PodScheduled').message, /untolerated taint/);
  // the registered-again node has another podCIDR (the allocator moves on, as upstream's does): a
  // pod that tolerates the taint still starts there, with an address of the new range (podnet
  // takes the old gateway off the bridge; the bridge plugin refused to add pods before)
  t.not(node.spec.podCIDR, oldCIDR);
  await c.apply(pod('tolerant', n, {}, { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'e2e', effect: 'NoSchedule' }] }));
  const q = await c.waitPod('tolerant', 'Running', (x) => x.status?.phase === 'Running', 60_000);
  const prefix = node.spec.podCIDR.split('.').slice(0, 3).join('.');
  t.true(q.status.podIP.startsWith(`${prefix}.`), `${q.status.podIP} in ${node.spec.podCIDR}`);
});

test('[sig-node] NodeLease NodeLease the kubelet should create and update a lease in the kube-node-lease namespace (and node status lists its images)', async (t) => {
  const n = L.lab.nodes[0];
  const lease = await eventually(
    'a renewal',
    async () => {
      const l = await kubectlJson(L.kc, ['-n', 'kube-node-lease', 'get', 'lease', n.name]);
      return Date.parse(l.spec.renewTime) > Date.parse(leaseAtStart.spec.renewTime) && l;
    },
    20_000,
  );
  t.is(lease.spec.holderIdentity, n.name);
  t.is(lease.spec.leaseDurationSeconds, 40);
  t.true(Date.now() - Date.parse(lease.spec.renewTime) < 15_000, 'renewed within the last 10 s period');
  t.deepEqual(
    lease.metadata.ownerReferences.map((o: any) => [o.kind, o.name]),
    [['Node', n.name]],
  );
  // by now the node status (sent when it changes, checked every 10 s) lists the images it pulled
  const node = await eventually(
    'the node to list the test image',
    async () => {
      const x = await kubectlJson(L.kc, ['get', 'node', n.name]);
      return x.status.images?.some((i: any) => i.names.includes(L.testapp)) && x;
    },
    15_000,
  );
  t.true(node.status.images.every((i: any) => i.sizeBytes > 0 && i.names.length > 0));
});
