// The walking skeleton, end to end on a fresh two-node lab, driven by the real kubectl v1.35:
// pods get IPs from their node's podCIDR and reach each other across nodes; a deleted pod's
// sandbox and IP are released; a kubelet restart does not restart running containers; a malformed
// manifest is refused and nothing is stored.
import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { CriClient } from '../../agents/kubelet/cri/client.ts';
import { labUp, imageRef } from '../../agents/cli/lab/up.ts';
import { labDown } from '../../agents/cli/lab/down.ts';
import { nodeProc } from '../../agents/cli/lab/components.ts';
import { startProc, stopProc, waitFor } from '../../agents/cli/lab/procs.ts';
import { netnsExists } from '../../agents/cli/lab/network.ts';
import type { Lab } from '../../agents/cli/lab/topology.ts';
import { cidrsOverlap as overlaps } from '../../agents/api/ip.ts';
import { kubectl, kubectlJson, kubectlOk } from '../helpers/kubectl.ts';

const opts = { name: 'e2e', subnet: '10.78.0.0/24', workers: 2, stateRoot: '/var/lib/hawser-lab' };
const bin = resolve('dist/hawser.cjs');
let lab: Lab;
let kc: string;

const podManifest = (name: string, node: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: skeleton}}
spec:
  nodeSelector: {kubernetes.io/hostname: ${node}}
  terminationGracePeriodSeconds: 1   # busybox httpd is PID 1 in its own PID namespace: it ignores SIGTERM
  containers:
  - name: web
    image: ${imageRef(lab, 'testapp', '1.0')}
    ports: [{containerPort: 8080}]
`;

async function crictl<T>(socket: string, fn: (c: CriClient) => Promise<T>): Promise<T> {
  const c = new CriClient(socket, { timeoutMs: 30_000 });
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

async function containerOf(socket: string, podUid: string) {
  const cs = await crictl(socket, (c) => c.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': podUid } }));
  if (cs.length !== 1) throw new Error(`expected one container for pod ${podUid}, found ${cs.length}`);
  return cs[0];
}

test.before(async () => {
  await labDown({ ...opts }); // leftovers of an interrupted run
  lab = await labUp({ ...opts, bin, repo: resolve('.'), demo: false, quiet: true });
  kc = lab.adminKubeconfig;
});

test.after.always(async () => {
  await labDown({ ...opts });
});

test.serial('two nodes register and become Ready, each with its own podCIDR', (t) => {
  const nodes = kubectlJson(kc, ['get', 'nodes']).items as any[];
  t.deepEqual(
    nodes.map((n) => n.metadata.name).sort(),
    lab.nodes.map((n) => n.name),
  );
  for (const n of nodes) {
    t.is(n.status.conditions.find((c: any) => c.type === 'Ready').status, 'True', `${n.metadata.name} Ready`);
    t.regex(n.spec.podCIDR, /^10\.206\.\d+\.0\/24$/, "inside the lab's pod network (10.78 -> 10.206)");
    t.is(n.status.addresses.find((a: any) => a.type === 'InternalIP').address, lab.nodes.find((x) => x.name === n.metadata.name)!.ip);
  }
  t.not(nodes[0].spec.podCIDR, nodes[1].spec.podCIDR);
  t.regex(kubectlOk(kc, ['get', 'nodes']), /e2e-worker1\s+Ready/);
});

test.serial('pods run on their nodes with IPs from the node podCIDR and answer HTTP across nodes', async (t) => {
  const [n1, n2] = lab.nodes;
  kubectlOk(kc, ['apply', '-f', '-'], `${podManifest('web-a', n1.name)}---\n${podManifest('web-b', n2.name)}`);
  kubectlOk(kc, ['wait', '--for=condition=Ready', 'pod/web-a', 'pod/web-b', '--timeout=120s']);
  const wide = kubectlOk(kc, ['get', 'pods', '-o', 'wide']);
  t.regex(wide, /web-a\s+1\/1\s+Running\s+0\s+\S+\s+10\.206\.\d+\.\d+\s+e2e-worker1/);
  const nodes = kubectlJson(kc, ['get', 'nodes']).items as any[];
  const cidrOf = (name: string) => nodes.find((n) => n.metadata.name === name).spec.podCIDR as string;
  const a = kubectlJson(kc, ['get', 'pod', 'web-a']);
  const b = kubectlJson(kc, ['get', 'pod', 'web-b']);
  t.is(a.spec.nodeName, n1.name);
  t.is(b.spec.nodeName, n2.name);
  t.true(overlaps(`${a.status.podIP}/32`, cidrOf(n1.name)), `${a.status.podIP} in ${cidrOf(n1.name)}`);
  t.true(overlaps(`${b.status.podIP}/32`, cidrOf(n2.name)), `${b.status.podIP} in ${cidrOf(n2.name)}`);
  // from inside each pod (CRI ExecSync in its container), fetch the other pod's page by IP
  const cb = await containerOf(n2.socket, b.metadata.uid);
  const fromB = await crictl(n2.socket, (c) => c.execSync(cb.id, ['timeout', '5', 'wget', '-qO-', `http://${a.status.podIP}:8080/`], 20));
  t.is(fromB.exitCode, 0, fromB.stderr.toString());
  t.regex(fromB.stdout.toString(), /web-a/);
  const ca = await containerOf(n1.socket, a.metadata.uid);
  const fromA = await crictl(n1.socket, (c) => c.execSync(ca.id, ['timeout', '5', 'wget', '-qO-', `http://${b.status.podIP}:8080/`], 20));
  t.is(fromA.exitCode, 0, fromA.stderr.toString());
  t.regex(fromA.stdout.toString(), /web-b/);
});

test.serial('a kubelet restart does not restart the running container', async (t) => {
  const n1 = lab.nodes[0];
  const pod = kubectlJson(kc, ['get', 'pod', 'web-a']);
  const before = await containerOf(n1.socket, pod.metadata.uid);
  const spec = nodeProc(lab, n1, 'kubelet', bin);
  await stopProc(spec.pidFile);
  startProc(spec);
  // the restarted kubelet has synced once it renews its heartbeat after the restart
  const restartedAt = Date.now();
  await waitFor(
    'the kubelet to report again',
    async () => {
      const n = kubectlJson(kc, ['get', 'node', n1.name]);
      const ready = n.status.conditions.find((c: any) => c.type === 'Ready');
      return ready.status === 'True' && Date.parse(ready.lastHeartbeatTime) >= restartedAt - 1000;
    },
    60_000,
    1000,
  );
  await new Promise((r) => setTimeout(r, 3000)); // a few relists and syncs of the adopted pod
  const after = await containerOf(n1.socket, pod.metadata.uid);
  t.is(after.id, before.id, 'same container');
  t.is(after.state, 'CONTAINER_RUNNING');
  t.is(after.createdAt, before.createdAt);
  const now = kubectlJson(kc, ['get', 'pod', 'web-a']);
  t.is(now.status.containerStatuses[0].restartCount, 0);
  t.is(now.status.containerStatuses[0].containerID, `containerd://${before.id}`);
});

test.serial('deleting a pod removes its sandbox from containerd and frees its IP', async (t) => {
  const n1 = lab.nodes[0];
  const pod = kubectlJson(kc, ['get', 'pod', 'web-a']);
  const ip = pod.status.podIP as string;
  const ipamDir = `${n1.dir}/cni/ipam/hawser`;
  t.true(existsSync(`${ipamDir}/${ip}`), 'the IP is allocated on disk while the pod runs');
  kubectlOk(kc, ['delete', 'pod', 'web-a', '--timeout=60s']);
  t.is(kubectl(kc, ['get', 'pod', 'web-a']).code, 1);
  const sandboxes = await crictl(n1.socket, (c) => c.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': pod.metadata.uid } }));
  t.deepEqual(sandboxes, [], 'containerd no longer has the sandbox');
  t.false(existsSync(`${ipamDir}/${ip}`), `host-local released ${ip}`);
  t.false(readdirSync(ipamDir).some((f) => f === ip));
});

test.serial('a malformed manifest gets a 4xx Status naming the problem and stores nothing', (t) => {
  const noContainers = kubectl(kc, ['apply', '-f', '-'], 'apiVersion: v1\nkind: Pod\nmetadata: {name: bad-pod}\nspec: {containers: []}\n');
  t.not(noContainers.code, 0);
  t.regex(noContainers.stderr, /spec\.containers/);
  t.regex(kubectl(kc, ['get', 'pod', 'bad-pod']).stderr, /NotFound|not found/);
  const badName = kubectl(kc, ['create', '-f', '-'], 'apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: [{name: c, image: x}]}\n');
  t.not(badName.code, 0);
  t.regex(badName.stderr, /metadata\.name/);
  const notJson = kubectl(kc, ['create', '--raw', '/api/v1/namespaces/default/pods', '-f', '-'], '{"kind": "Pod", ');
  t.not(notJson.code, 0);
  t.regex(notJson.stderr, /BadRequest|400|invalid|couldn't|decode/i);
  t.is((kubectlJson(kc, ['get', 'pods']).items as any[]).filter((p) => /bad/i.test(p.metadata.name)).length, 0);
});

test.serial('lab down removes its namespaces and links', async (t) => {
  await labDown({ ...opts });
  for (const n of lab.nodes) t.false(netnsExists(n.netns), `${n.netns} removed`);
  t.false(existsSync(lab.dir));
  // and the lab comes back after a down (idempotent set-up)
  lab = await labUp({ ...opts, bin, repo: resolve('.'), demo: false, quiet: true });
  t.regex(kubectlOk(kc, ['get', 'nodes']), /e2e-worker2\s+Ready/);
});
