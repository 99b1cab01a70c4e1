// The kubelet on cgroup v2 under both cgroup drivers, in a real VM: Debian bookworm booted by QEMU
// (software emulation) from the image agents/cli/vm/image.ts builds on the machine lab's cached
// rootfs, with the release tarball installed inside exactly as on a user's VM (`hawser install
// --role agent` + `hawser join`; the server's files from `hawser install --role server`, see
// installServer). Checked from inside the VM for each driver: a pod's cgroup path, memory.max and
// cpu.max; an OOMKilled container reported as such; a kubelet restart leaving pods running; then a
// reboot bringing the node back Ready. The VM is shut down and its overlay removed afterwards, also
// when a test fails (test.after.always).
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { defaultRelease } from '../../agents/cli/machines/cli.ts';
import { bootstrapScript } from '../../agents/cli/machines/up.ts';
import { ensureVmImage } from '../../agents/cli/vm/image.ts';
import { scp, ssh, startVm, stopVm, waitBooted, type Vm } from '../../agents/cli/vm/qemu.ts';
import { waitFor } from '../../agents/cli/lab/procs.ts';
import { LAB_IMAGES } from '../../agents/cli/lab/up.ts';

const REPO = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const CACHE = process.env.HAWSER_CACHE_DIR ?? '/var/cache/hawser';
const STATE = '/var/lib/hawser-vm-test';
const NODE = 'hawser-vm';
const NODE_IP = '10.0.2.15';   // QEMU user networking's guest address
const REGISTRY_HOST = 'registry.hawser.local';
const t0 = Date.now();
const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
let vm: Vm | undefined;
let imageBuilt = false;
const seen: string[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The release unpacked once in the VM (whole, kubectl too): installs take it as is, no unpacking each time. */
const BOOT = '/var/tmp/hawser-release';
const unpacked = (rel: string) => `${BOOT}/${basename(rel).replace(/-linux-amd64\.tar\.gz$/, '')}`;
const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

const run = (script: string, timeoutMs?: number) => ssh(vm!, script, timeoutMs);
const kubectl = (args: string) => run(`hawser kubectl ${args}`, 60_000);

/** Retries fn until it returns a value (TCG is slow: minutes, not seconds). */
const eventually = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 300_000): Promise<T> => waitFor(what, fn, timeoutMs, 2000);

const nodeReady = async () => (await kubectl(`get node ${NODE} -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'`)).trim() === 'True' || undefined;

/**
 * One host holds one role in the install manifest (an agent install drops a server's units), so the
 * server's files come from `hawser install --role server --root`, and its unit is enabled beside
 * the agent's: the same config and unit a server host gets, running on the node's VM.
 */
async function installServer(rel: string): Promise<void> {
  await run(`mkdir -p /srv/hawser-server && hawser-release install --role server --from ${unpacked(rel)} --node-ip ${NODE_IP} --root /srv/hawser-server >/dev/null
    install -m 0644 /srv/hawser-server/etc/hawser/control-plane.yaml /etc/hawser/control-plane.yaml
    install -m 0644 /srv/hawser-server/etc/systemd/system/hawser-control-plane.service /etc/systemd/system/hawser-control-plane.service
    systemctl daemon-reload && systemctl enable --now hawser-control-plane.service`, 900_000);
  await eventually('the API server', async () => ((await run('hawser kubectl get --raw=/readyz 2>/dev/null || true')).trim() === 'ok') || undefined);
}

test.before(async (t) => {
  const release = defaultRelease(REPO);
  if (!existsSync(release)) throw new Error(`${release} is missing: make dist`);
  if (existsSync(join(REPO, 'dist/hawser.cjs')) && statSync(release).mtimeMs < statSync(join(REPO, 'dist/hawser.cjs')).mtimeMs) throw new Error(`${release} is older than dist/hawser.cjs: make dist`);
  for (const tool of ['qemu-system-x86_64', 'qemu-img', 'ssh', 'debootstrap', 'mkfs.ext4']) {
    try { execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }); } catch { throw new Error(`${tool} is missing: apt-get install qemu-system-x86 qemu-utils openssh-client debootstrap e2fsprogs`); }
  }
  const image = ensureVmImage(CACHE, (l) => t.log(l));
  imageBuilt = image.built;
  t.log(`${since()}  image ${image.built ? 'built' : 'from the cache'}: ${image.dir}`);
  vm = await startVm(image, STATE);
  await waitBooted(vm);
  t.log(`${since()}  VM booted (ssh on 127.0.0.1:${vm.sshPort}, serial log ${vm.serialLog})`);

  // the release and the lab's images (no registry: the VM has no way out)
  const rel = `/root/${basename(release)}`;
  const tars = join(STATE, 'images');
  mkdirSync(tars, { recursive: true });
  await scp(vm, release, rel);
  for (const img of LAB_IMAGES) {
    execFileSync('tar', ['-C', join(REPO, '.build/images', img.name), '-cf', join(tars, `${img.name}.tar`), '.']);
    await scp(vm, join(tars, `${img.name}.tar`), `/root/${img.name}.tar`);
  }
  await run(`cat > /usr/local/sbin/hawser-release <<'EOF'\n#!/bin/sh\n${bootstrapScript(rel, BOOT, '')}\nEOF\nchmod +x /usr/local/sbin/hawser-release`);
  await run('hawser-release --version >/dev/null', 900_000);
  const agentFlags = `--from ${unpacked(rel)} --node-name ${NODE} --node-ip ${NODE_IP} --sandbox-image ${REGISTRY_HOST}/pause:3.10`;
  await run(`hawser-release install --role agent ${agentFlags}`, 900_000);
  for (const img of LAB_IMAGES) await run(`ctr -n k8s.io images import --base-name ${REGISTRY_HOST}/${img.name} /root/${img.name}.tar >/dev/null`);
  t.log(`${since()}  agent installed, images imported`);
  await installServer(rel);
  t.log(`${since()}  server up`);
  const token = (await run(`hawser token create --description vm-test`)).trim();
  await run(`hawser-release join --server https://${NODE_IP}:6443 --token ${q(token)} ${agentFlags} --wait 120 >/dev/null`, 900_000);
  await eventually('the node Ready', nodeReady);
  t.log(`${since()}  node ${NODE} Ready`);
});

test.after.always(async (t) => {
  if (vm) await stopVm(vm);
  rmSync(join(STATE, 'images'), { recursive: true, force: true });
  t.log(`${since()}  VM stopped and its overlay removed (image ${imageBuilt ? 'built cold' : 'cached'}); serial log kept in ${STATE}`);
  for (const l of seen) t.log(l);
});

const limitedPod = (name: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: ${REGISTRY_HOST}/testapp:1.0
    resources: {requests: {cpu: 250m, memory: 32Mi}, limits: {cpu: 500m, memory: 64Mi}}
`;
const oomPod = (name: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  restartPolicy: Never
  containers:
  - name: hog
    image: ${REGISTRY_HOST}/testapp:1.0
    command: [sh, -c, 'dd if=/dev/zero of=/dev/null bs=96M count=1']
    resources: {limits: {cpu: 500m, memory: 32Mi}}
`;

const apply = (yaml: string) => run(`hawser kubectl apply -f - <<'EOF'\n${yaml}EOF`);
const jsonpath = async (pod: string, path: string) => (await kubectl(`get pod ${pod} -o jsonpath=${q(path)}`)).trim();

/** The container's cgroup (from its process) and the pod cgroup's limits, read inside the VM. */
async function cgroupOf(pod: string): Promise<{ path: string; podMemoryMax: string; podCpuMax: string; memoryMax: string; cpuMax: string }> {
  const id = (await jsonpath(pod, '{.status.containerStatuses[0].containerID}')).replace(/^containerd:\/\//, '');
  const pid = (await run(`ctr -n k8s.io task ls | awk '$1=="${id}"{print $2}'`)).trim();
  const path = (await run(`sed -n 's/^0:://p' /proc/${pid}/cgroup`)).trim();
  const read = (p: string, f: string) => run(`cat /sys/fs/cgroup${p}/${f}`).then((s) => s.trim());
  const parent = path.replace(/\/[^/]+$/, '');
  return { path, podMemoryMax: await read(parent, 'memory.max'), podCpuMax: await read(parent, 'cpu.max'), memoryMax: await read(path, 'memory.max'), cpuMax: await read(path, 'cpu.max') };
}

async function checkDriver(t: ExecutionContext, driver: 'systemd' | 'cgroupfs'): Promise<void> {
  const name = `limits-${driver}`;
  await apply(limitedPod(name));
  await eventually(`${name} Running`, async () => (await jsonpath(name, '{.status.phase}')) === 'Running' || undefined);
  const uid = await jsonpath(name, '{.metadata.uid}');
  const cg = await cgroupOf(name);
  seen.push(`${driver}: pod cgroup ${cg.path}; pod memory.max=${cg.podMemoryMax} cpu.max=${cg.podCpuMax}; container memory.max=${cg.memoryMax} cpu.max=${cg.cpuMax}`);
  const podDir = driver === 'systemd'
    ? `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid.replaceAll('-', '_')}.slice/cri-containerd-`
    : `/kubepods/burstable/pod${uid}/`;
  t.true(cg.path.startsWith(podDir), `${cg.path} under ${podDir}`);
  t.is(cg.podMemoryMax, String(64 << 20));
  t.is(cg.podCpuMax, '50000 100000');
  t.is(cg.memoryMax, String(64 << 20));
  t.is(cg.cpuMax, '50000 100000');

  const oom = `oom-${driver}`;
  await apply(oomPod(oom));
  const reason = await eventually(`${oom} terminated`, async () => (await jsonpath(oom, '{.status.containerStatuses[0].state.terminated.reason}')) || undefined);
  t.is(reason, 'OOMKilled');
  seen.push(`${driver}: ${oom} terminated with reason ${reason}, exit code ${await jsonpath(oom, '{.status.containerStatuses[0].state.terminated.exitCode}')}`);

  const before = await jsonpath(name, '{.status.containerStatuses[0].containerID}');
  await run('systemctl restart hawser-kubelet.service');
  await eventually('the node Ready after a kubelet restart', nodeReady);
  await sleep(5000);
  t.is(await jsonpath(name, '{.status.containerStatuses[0].containerID}'), before, 'the same container, not restarted');
  t.is(await jsonpath(name, '{.status.containerStatuses[0].restartCount}'), '0');
  t.is((await run(`ctr -n k8s.io task ls | awk '$1=="${before.replace(/^containerd:\/\//, '')}"{print $3}'`)).trim(), 'RUNNING');
  await kubectl(`delete pod ${name} ${oom} --wait=true --timeout=120s`);
}

test.serial('systemd driver (what install picks on a systemd host with cgroup v2): slices, limits, OOMKilled, kubelet restart', async (t) => {
  t.regex(await run('cat /etc/hawser/kubelet.yaml'), /cgroup-driver: systemd/);
  t.regex(await run('cat /etc/hawser/containerd.toml'), /SystemdCgroup = true/);
  await checkDriver(t, 'systemd');
  t.log(`${since()}  systemd driver checked`);
});

test.serial('cgroupfs driver after reconfiguring both and restarting: /kubepods paths, limits, OOMKilled, kubelet restart', async (t) => {
  const token = (await run(`hawser token create --description vm-test-cgroupfs`)).trim();
  const rel = (await run('ls /root/hawser-*.tar.gz')).trim();
  await run(`hawser-release join --server https://${NODE_IP}:6443 --token ${q(token)} --from ${unpacked(rel)} --node-name ${NODE} --node-ip ${NODE_IP} --sandbox-image ${REGISTRY_HOST}/pause:3.10 --cgroup-driver cgroupfs --wait 120 >/dev/null`, 900_000);
  t.regex(await run('cat /etc/hawser/containerd.toml'), /SystemdCgroup = false/);
  await eventually('the node Ready', nodeReady);
  await checkDriver(t, 'cgroupfs');
  t.log(`${since()}  cgroupfs driver checked`);
});

test.serial('a kubelet whose driver differs from containerd\'s refuses to start and says why', async (t) => {
  const out = await run(`/usr/local/bin/hawser kubelet --config /etc/hawser/kubelet.yaml --cgroup-driver systemd --port 10299 2>&1 | head -c 2000 || true`, 120_000);
  t.regex(out, /misconfiguration: kubelet cgroup driver: "systemd" is different from the container runtime's cgroup driver: "cgroupfs"/);
});

test.serial('a reboot of the VM brings the node back Ready with its pod running again', async (t) => {
  await apply(limitedPod('survivor'));
  await eventually('survivor Running', async () => (await jsonpath('survivor', '{.status.phase}')) === 'Running' || undefined);
  await run('systemctl reboot').catch(() => undefined);
  await sleep(10_000);
  await waitBooted(vm!);
  t.log(`${since()}  VM rebooted`);
  await eventually('the node Ready after the reboot', nodeReady, 300_000);
  await eventually('survivor running again', async () => (await jsonpath('survivor', '{.status.containerStatuses[0].state.running.startedAt}')) ? true : undefined, 300_000);
  t.pass();
});
