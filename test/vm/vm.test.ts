// The kubelet on cgroup v2 under both cgroup drivers, in a real VM: Debian bookworm booted by QEMU
// (software emulation) from the image agents/cli/vm/image.ts builds on the machine lab's cached
// rootfs, with the release tarball installed inside exactly as on a user's VM (`hawser install
// --role agent` + `hawser join`; the server's files from `hawser install --role server`, see
// installServer). Checked from inside the VM for each driver: a pod's cgroup path, memory.max and
// cpu.max; an OOMKilled container reported as such; a kubelet restart leaving pods running. A
// reboot bringing the node back Ready comes under the systemd driver, the one install picks here
// (under cgroupfs systemd-shutdown waits about 80 s for the pods' processes, outside its units).
// The VM is shut down and its overlay removed afterwards, also when a test fails (test.after.always).
// Cached image, quiet host: 7.5 min before commands shared one ssh connection and the reboot moved;
// 277-380 s before the systemd check's pod became the reboot's survivor, the OOM pod the wait after
// the kubelet restart, and boots were awaited on the console (284-312 s after, see git log).
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { defaultRelease } from '../../agents/cli/machines/cli.ts';
import { ensureVmImage } from '../../agents/cli/vm/image.ts';
import { ssh, startVm, stopVm, waitBooted, type Vm } from '../../agents/cli/vm/qemu.ts';
import { waitFor } from '../../agents/cli/lab/procs.ts';
import { LAB_IMAGES } from '../../agents/cli/lab/up.ts';

const REPO = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const CACHE = process.env.HAWSER_CACHE_DIR ?? '/var/cache/hawser';
const STATE = '/var/lib/hawser-vm-test';
/** What the host hands the VM (the release unpacked, the lab's images), packed as a read-only disk. */
const PAYLOAD = `${STATE}-payload`;
const PAYLOAD_IMG = `${STATE}-payload.img`;
const MNT = '/mnt/hawser';
const NODE = 'hawser-vm';
const NODE_IP = '10.0.2.15'; // QEMU user networking's guest address
const REGISTRY_HOST = 'registry.hawser.local';
const t0 = Date.now();
const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
let vm: Vm | undefined;
let imageBuilt = false;
/** the release's directory in the VM (on the payload disk): installs take it as is */
let rel = '';
/** the join token, reused by the second join (it lives 24 h) */
let token = '';
const seen: string[] = [];
const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

const run = (script: string, timeoutMs?: number) => ssh(vm!, script, timeoutMs);
/** kubectl itself (a Go binary) with the server's admin credentials: `hawser kubectl` would start Node.js, half a minute in TCG */
const KUBECTL = `KUBECONFIG=/etc/hawser/admin.kubeconfig ${MNT}/release/hawser-*/bin/kubectl`;
const kubectl = (args: string) => run(`${KUBECTL} ${args}`, 120_000);

/** Retries fn every second until it returns a value (TCG is slow: minutes, not seconds; a poll over the shared ssh connection costs 0.1 s plus its command). */
const eventually = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 300_000): Promise<T> => waitFor(what, fn, timeoutMs, 1000);

const nodeReady = async () =>
  (await kubectl(`get node ${NODE} -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'`).catch(() => '')).trim() === 'True' || undefined;

/** The release unpacked and the images as OCI tars, in an ext4 image made without a mount (mkfs.ext4 -d). */
function buildPayload(release: string): void {
  rmSync(PAYLOAD, { recursive: true, force: true });
  mkdirSync(join(PAYLOAD, 'release'), { recursive: true });
  mkdirSync(join(PAYLOAD, 'images'), { recursive: true });
  execFileSync('tar', ['-xzf', release, '-C', join(PAYLOAD, 'release')]);
  for (const img of LAB_IMAGES) execFileSync('tar', ['-C', join(REPO, '.build/images', img.name), '-cf', join(PAYLOAD, 'images', `${img.name}.tar`), '.']);
  const mb = Number(execFileSync('du', ['-sm', PAYLOAD], { encoding: 'utf8' }).split(/\s/)[0]);
  rmSync(PAYLOAD_IMG, { force: true });
  execFileSync('mkfs.ext4', ['-q', '-L', 'hawser-payload', '-d', PAYLOAD, PAYLOAD_IMG, `${Math.ceil(mb * 1.3) + 64}M`]);
  rmSync(PAYLOAD, { recursive: true, force: true });
}

/** `hawser` of the release on the payload disk (what a user runs after unpacking it). */
const HAWSER = `${MNT}/release/hawser-*/bin/node ${MNT}/release/hawser-*/dist/hawser.cjs`;

/**
 * One host holds one role in the install manifest (an agent install drops a server's units), so the
 * server's files come from `hawser install --role server --root`, and its unit is enabled beside
 * the agent's: the same config and unit a server host gets, running on the node's VM from the
 * suite installed under that root (the agent's install, which comes later, owns /usr/local).
 */
async function installServer(): Promise<void> {
  await run(
    `mkdir -p /srv/hawser-server && ${HAWSER} install --role server --from ${rel} --node-ip ${NODE_IP} --root /srv/hawser-server >/dev/null
    mkdir -p /etc/hawser && install -m 0644 /srv/hawser-server/etc/hawser/control-plane.yaml /etc/hawser/control-plane.yaml
    sed 's|^ExecStart=/usr/local/bin/hawser |ExecStart=/srv/hawser-server/usr/local/lib/hawser/bin/node /srv/hawser-server/usr/local/lib/hawser/dist/hawser.cjs |' \
      /srv/hawser-server/etc/systemd/system/hawser-control-plane.service > /etc/systemd/system/hawser-control-plane.service
    systemctl daemon-reload && systemctl enable hawser-control-plane.service && systemctl start --no-block hawser-control-plane.service`,
    900_000,
  );
  await eventually('the API server', async () => (await run(`${KUBECTL} get --raw=/readyz 2>/dev/null || true`)).trim() === 'ok' || undefined, 600_000);
}

const agentFlags = () => `--from ${rel} --node-name ${NODE} --node-ip ${NODE_IP} --sandbox-image ${REGISTRY_HOST}/pause:3.10`;
const joinNode = (extra = '') =>
  run(`${HAWSER} join --server https://${NODE_IP}:6443 --token ${q(token)} ${agentFlags()} ${extra} --wait 300 >/dev/null`, 900_000);

test.before(async (t) => {
  const release = defaultRelease(REPO);
  if (!existsSync(release)) throw new Error(`${release} is missing: make dist`);
  if (existsSync(join(REPO, 'dist/hawser.cjs')) && statSync(release).mtimeMs < statSync(join(REPO, 'dist/hawser.cjs')).mtimeMs)
    throw new Error(`${release} is older than dist/hawser.cjs: make dist`);
  for (const tool of ['qemu-system-x86_64', 'qemu-img', 'ssh', 'debootstrap', 'mkfs.ext4']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is missing: apt-get install qemu-system-x86 qemu-utils openssh-client debootstrap e2fsprogs`);
    }
  }
  const image = ensureVmImage(CACHE, (l) => t.log(l));
  imageBuilt = image.built;
  t.log(`${since()}  image ${image.built ? 'built' : 'from the cache'}: ${image.dir}`);
  buildPayload(release);
  vm = await startVm(image, STATE, { readOnlyDisks: [PAYLOAD_IMG] });
  await waitBooted(vm);
  t.log(`${since()}  VM booted (ssh on 127.0.0.1:${vm.sshPort}, serial log ${vm.serialLog})`);

  // the release and the lab's images on the payload disk (no registry: the VM has no way out);
  // the images go into the distribution's containerd, whose store hawser's config keeps. (Run beside
  // the server's install, the agent's install was no faster in all: the two-vCPU guest is CPU bound.)
  await run(`mkdir -p ${MNT} && mount -o ro /dev/vdb ${MNT}`);
  rel = (await run(`ls -d ${MNT}/release/hawser-*`)).trim();
  await run(
    `systemctl start containerd && ${LAB_IMAGES.map((img) => `ctr -n k8s.io images import --base-name ${REGISTRY_HOST}/${img.name} ${MNT}/images/${img.name}.tar >/dev/null`).join(' && ')}`,
    600_000,
  );
  t.log(`${since()}  images imported`);
  await installServer();
  t.log(`${since()}  server up`);
  token = (await run(`${HAWSER} token create --description vm-test`, 300_000)).trim();
  await joinNode();
  await eventually('the node Ready', nodeReady, 600_000);
  t.log(`${since()}  node ${NODE} Ready`);
});

test.after.always(async (t) => {
  if (vm) await stopVm(vm);
  rmSync(PAYLOAD_IMG, { force: true });
  t.log(`${since()}  VM stopped and its overlay removed (image ${imageBuilt ? 'built cold' : 'cached'}); serial log kept in ${STATE}`);
  for (const l of seen) t.log(l);
});

/**
 * A server that ends on SIGTERM, as real ones do (porter, in testapp): busybox httpd as a container's
 * PID 1 has no handler, so the kernel drops the signal and systemd waits out its 90 s stop timeout
 * on the container's scope at shutdown (measured: the reboot took 139 s with it, most of it that
 * wait). The systemd check's pod is also the one the reboot must bring back.
 */
const limitedPod = (name: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: ${REGISTRY_HOST}/testapp:1.0
    command: [/bin/porter]
    env: [{name: SERVE_PORT_8080, value: ${name}}]
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

const apply = (yaml: string) => run(`${KUBECTL} apply -f - <<'EOF'\n${yaml}EOF`, 120_000);
const jsonpath = async (pod: string, path: string) => (await kubectl(`get pod ${pod} -o jsonpath=${q(path)}`)).trim();

/** The container's cgroup (from its process) and the pod cgroup's limits, read inside the VM. */
async function cgroupOf(pod: string): Promise<{ path: string; podMemoryMax: string; podCpuMax: string; memoryMax: string; cpuMax: string }> {
  const id = (await jsonpath(pod, '{.status.containerStatuses[0].containerID}')).replace(/^containerd:\/\//, '');
  const pid = (await run(`ctr -n k8s.io task ls | awk '$1=="${id}"{print $2}'`)).trim();
  const path = (await run(`sed -n 's/^0:://p' /proc/${pid}/cgroup`)).trim();
  const read = (p: string, f: string) => run(`cat /sys/fs/cgroup${p}/${f}`).then((s) => s.trim());
  const parent = path.replace(/\/[^/]+$/, '');
  return {
    path,
    podMemoryMax: await read(parent, 'memory.max'),
    podCpuMax: await read(parent, 'cpu.max'),
    memoryMax: await read(path, 'memory.max'),
    cpuMax: await read(path, 'cpu.max'),
  };
}

async function checkDriver(t: ExecutionContext, driver: 'systemd' | 'cgroupfs'): Promise<void> {
  const name = `limits-${driver}`;
  await apply(limitedPod(name));
  await eventually(`${name} Running`, async () => (await jsonpath(name, '{.status.phase}')) === 'Running' || undefined);
  t.log(`${since()}  ${name} Running`);
  const uid = await jsonpath(name, '{.metadata.uid}');
  const cg = await cgroupOf(name);
  seen.push(
    `${driver}: pod cgroup ${cg.path}; pod memory.max=${cg.podMemoryMax} cpu.max=${cg.podCpuMax}; container memory.max=${cg.memoryMax} cpu.max=${cg.cpuMax}`,
  );
  const podDir =
    driver === 'systemd'
      ? `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid.replaceAll('-', '_')}.slice/cri-containerd-`
      : `/kubepods/burstable/pod${uid}/`;
  t.true(cg.path.startsWith(podDir), `${cg.path} under ${podDir}`);
  t.is(cg.podMemoryMax, String(64 << 20));
  t.is(cg.podCpuMax, '50000 100000');
  t.is(cg.memoryMax, String(64 << 20));
  t.is(cg.cpuMax, '50000 100000');

  const before = await jsonpath(name, '{.status.containerStatuses[0].containerID}');
  await run('systemctl restart hawser-agent.service'); // returns once the agent says READY=1
  await eventually('the node Ready after a kubelet restart', nodeReady);
  t.log(`${since()}  kubelet restarted`);

  // the OOM pod runs under the restarted kubelet, and the 10-15 s it takes give that kubelet time to
  // show whether it touches the running pod (a fixed wait did that job before)
  const oom = `oom-${driver}`;
  await apply(oomPod(oom));
  const reason = await eventually(
    `${oom} terminated`,
    async () => (await jsonpath(oom, '{.status.containerStatuses[0].state.terminated.reason}')) || undefined,
  );
  t.is(reason, 'OOMKilled');
  t.log(`${since()}  ${oom} terminated: ${reason}`);
  seen.push(`${driver}: ${oom} terminated with reason ${reason}, exit code ${await jsonpath(oom, '{.status.containerStatuses[0].state.terminated.exitCode}')}`);

  t.is(await jsonpath(name, '{.status.containerStatuses[0].containerID}'), before, 'the same container, not restarted');
  t.is(await jsonpath(name, '{.status.containerStatuses[0].restartCount}'), '0');
  t.is((await run(`ctr -n k8s.io task ls | awk '$1=="${before.replace(/^containerd:\/\//, '')}"{print $3}'`)).trim(), 'RUNNING');
  t.log(`${since()}  ${name} untouched by the kubelet restart`);
  // not waited for: nothing after needs it gone (its container has ended; the sandbox stops on SIGTERM)
  await kubectl(`delete pod ${oom} --wait=false`);
}

test.serial('systemd driver (what install picks on a systemd host with cgroup v2): slices, limits, OOMKilled, kubelet restart', async (t) => {
  t.regex(await run('cat /etc/hawser/agent.yaml'), /cgroup-driver: systemd/);
  t.regex(await run('cat /etc/hawser/containerd.toml'), /SystemdCgroup = true/);
  await checkDriver(t, 'systemd');
  t.log(`${since()}  systemd driver checked`);
});

test.serial('a reboot of the VM (systemd driver) brings the node back Ready with its pod running again', async (t) => {
  // the systemd check's pod, still running, is the one to come back
  const survivor = 'limits-systemd';
  const before = await jsonpath(survivor, '{.status.containerStatuses[0].containerID}');
  const bootId = (await run('cat /proc/sys/kernel/random/boot_id')).trim();
  await run('systemctl reboot').catch(() => undefined);
  // up again means a new boot id: the old system may still answer for a moment while it shuts down
  await eventually('a new boot', async () => {
    await waitBooted(vm!);
    return (await run('cat /proc/sys/kernel/random/boot_id')).trim() !== bootId || undefined;
  });
  await run(`mount -o ro /dev/vdb ${MNT}`);
  t.log(`${since()}  VM rebooted`);
  // the pod's status from before the reboot says Running too: a new container proves the kubelet back
  const after = await eventually(
    `${survivor} running again in a new container`,
    async () => {
      const [id, started] = (
        await jsonpath(survivor, '{.status.containerStatuses[0].containerID} {.status.containerStatuses[0].state.running.startedAt}')
      ).split(' ');
      return id && id !== before && started ? id : undefined;
    },
    300_000,
  );
  t.not(after, before);
  t.truthy(await nodeReady(), 'the node Ready');
  t.is((await run('systemctl is-active hawser-agent.service')).trim(), 'active');
  t.log(`${since()}  ${survivor} running again in a new container after the reboot`);
  // gone before containerd and the kubelet change drivers under it
  await kubectl(`delete pod ${survivor} --wait=true --timeout=120s`);
});

test.serial('cgroupfs driver after reconfiguring both and restarting: /kubepods paths, limits, OOMKilled, kubelet restart', async (t) => {
  await joinNode('--cgroup-driver cgroupfs');
  t.regex(await run('cat /etc/hawser/containerd.toml'), /SystemdCgroup = false/);
  await eventually('the node Ready', nodeReady, 600_000);
  t.log(`${since()}  rejoined with the cgroupfs driver, Ready`);
  await checkDriver(t, 'cgroupfs');
  t.log(`${since()}  cgroupfs driver checked`);
});

test.serial("a kubelet whose driver differs from containerd's refuses to start and says why", async (t) => {
  // the agent's settings are in agent.yaml (one unit), so the kubelet alone gets its flags here
  const out = await run(
    `timeout 300 /usr/local/bin/hawser kubelet --node-name ${NODE} --root-dir /var/tmp/hawser-mismatch --port 10299 --cgroup-driver systemd 2>&1 | head -c 2000 || true`,
    600_000,
  );
  t.log(`${since()}  the mismatched kubelet refused`);
  t.regex(out, /misconfiguration: kubelet cgroup driver: "systemd" is different from the container runtime's cgroup driver: "cgroupfs"/);
});
