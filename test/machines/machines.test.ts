// The install path on real systemd machines: a server and two agents booted with systemd-nspawn
// from the cached Debian rootfs, the release tarball installed in each through `hawser install`,
// `hawser token create` and `hawser join` exactly as on a VM (agents/cli/machines/up.ts). Checks
// what a user sees: units systemd started are active and the nodes Ready, pods on the two agent
// machines reach each other directly and through a Service, restarting a unit leaves running pods
// alone, a rebooted machine comes back with its pod, and `hawser uninstall --purge` leaves a machine's files and firewall rules as before.
// Everything booted is removed afterwards, also when a test fails (test.after.always).
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defaultRelease } from '../../agents/cli/machines/cli.ts';
import { machinesDown } from '../../agents/cli/machines/down.ts';
import { bridgeExists } from '../../agents/cli/machines/network.ts';
import { leaderPid, machineExec, machineRun } from '../../agents/cli/machines/nspawn.ts';
import { machineLab, type Machine } from '../../agents/cli/machines/topology.ts';
import { machinesUp, readyNodes, waitBooted } from '../../agents/cli/machines/up.ts';
import { snapshot, type Snapshot } from './_snapshot.ts';

const REPO = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const KUBECTL = join(REPO, '.build/bin/kubectl');
const lab = machineLab();
const [server, agent1, agent2] = lab.machines;
const before = new Map<string, Snapshot>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function kubectl(...args: string[]): Promise<string> {
  const r = await promisify(execFile)(KUBECTL, args, { env: { ...process.env, KUBECONFIG: lab.adminKubeconfig }, timeout: 60_000 });
  return r.stdout;
}

/** Retries fn until it returns a value or timeoutMs passes (kube-proxy and podnet sync within seconds). */
async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try { const v = await fn(); if (v !== undefined) return v; } catch (e) { last = e; }
    await sleep(1000);
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? `: ${String(last)}` : ''}`);
}

test.before(async (t) => {
  const release = defaultRelease(REPO);
  if (!existsSync(release)) throw new Error(`${release} is missing: make dist`);
  if (statSync(release).mtimeMs < statSync(join(REPO, 'dist/hawser.cjs')).mtimeMs) throw new Error(`${release} is older than dist/hawser.cjs: make dist`);
  if (bridgeExists(lab)) throw new Error(`a machine lab is up (${lab.bridge} exists): make vm-lab-down first`);
  const r = await machinesUp({
    repo: REPO, release, log: (l) => t.log(l),
    beforeInstall: async () => { before.set(agent2.name, await snapshot(agent2)); },
  });
  t.log(`machine lab up in ${Object.values(r.seconds).at(-1)?.toFixed(1)} s (rootfs ${r.rootfsBuilt ? 'built' : 'cached'})`);
});

test.after.always(async (t) => {
  const left = await machinesDown();
  if (left.length) t.log(`cgroups still busy after down: ${left.join(' ')}`);
});

const active = async (m: Machine, units: string[]) => (await machineExec(m, ['systemctl', 'is-active', ...units])).stdout.trim().split('\n');
/** The hawser units an agent machine runs: one `hawser agent`, or three with --separate-units. */
const agentUnits = (m: Machine) => (m.separateUnits ? ['hawser-podnet', 'hawser-kubelet', 'hawser-kube-proxy'] : ['hawser-agent']);
const allActive = (units: string[]) => units.map(() => 'active');

test.serial('units started by systemd are active on each machine and the agents are Ready nodes', async (t) => {
  t.deepEqual(await active(server, ['hawser-control-plane']), ['active']);
  t.not(agent1.separateUnits, true);
  t.true(agent2.separateUnits);
  for (const m of [agent1, agent2]) t.deepEqual(await active(m, ['containerd', ...agentUnits(m)]), allActive(['containerd', ...agentUnits(m)]), m.name);
  // one process on agent1, three on agent2
  t.deepEqual((await machineRun(agent1, ['pgrep', '-f', 'hawser.cjs (agent|kubelet|podnet|kube-proxy) ']).catch(() => '')).trim().split('\n').filter(Boolean).length, 1);
  t.deepEqual((await machineRun(agent2, ['pgrep', '-f', 'hawser.cjs (agent|kubelet|podnet|kube-proxy) ']).catch(() => '')).trim().split('\n').filter(Boolean).length, 3);
  t.deepEqual((await readyNodes(lab)).sort(), [agent1.name, agent2.name]);
  // the documented admin path on the server: the installed kubectl with /etc/hawser/admin.kubeconfig
  t.deepEqual((await machineRun(server, ['hawser', 'kubectl', 'get', 'nodes', '-o', 'name'])).trim().split('\n').sort(), [`node/${agent1.name}`, `node/${agent2.name}`]);
});

test.serial('hawser status and hawser check-config on the installed machines report what runs and pass', async (t) => {
  const st = await machineExec(server, ['hawser', 'status']);
  t.is(st.status, 0, st.stdout + st.stderr);
  t.regex(st.stdout, /installed as server/);
  t.regex(st.stdout, /hawser-control-plane\.service +active \(running\)/);
  t.regex(st.stdout, /nodes: 2 of 2 Ready\n  pods: \d+ \(\d+ Running\)/);
  t.regex(st.stdout, /\/var\/lib\/hawser\/server\/tls\/apiserver\.crt \(.*\): \d{4}-\d\d-\d\d, \d+ days left/);
  const ag = await machineExec(agent1, ['hawser', 'status']);
  t.is(ag.status, 0, ag.stdout + ag.stderr);
  t.regex(ag.stdout, new RegExp(`installed as agent \\(node ${agent1.name}\\)`));
  t.regex(ag.stdout, /this node: Ready\n  pods on this node: \d+ \(\d+ Running\)/);
  t.regex(ag.stdout, /hawser-agent\.service +active \(running\)/);
  const ag2 = await machineRun(agent2, ['hawser', 'status']);
  for (const u of ['podnet', 'kubelet', 'kube-proxy']) t.regex(ag2, new RegExp(`hawser-${u}\\.service +active \\(running\\)`));
  // the installed agent's ports are held by hawser itself, and nothing else fails on a Debian machine
  const cc = await machineExec(agent1, ['hawser', 'check-config']);
  t.is(cc.status, 0, cc.stdout + cc.stderr);
  t.regex(cc.stdout, /\[ok\] +10250 +the kubelet already listens/);
  t.regex(cc.stdout, /\[ok\] +systemd +systemd is PID 1/);
  // and a setting that clashes with the machines' own network is caught
  const clash = await machineExec(agent1, ['hawser', 'check-config', '--cluster-cidr', '10.79.0.0/16']);
  t.is(clash.status, 1);
  t.regex(clash.stdout, /\[fail\] cluster CIDR +10\.79\.0\.0\/16 overlaps the host's route\(s\) 10\.79\.0\.0\/24/);
});

const podManifest = (name: string, node: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: ${name}}}
spec:
  nodeSelector: {kubernetes.io/hostname: ${node}}
  terminationGracePeriodSeconds: 1
  containers: [{name: web, image: ${lab.registryHost}/testapp:1.0, ports: [{containerPort: 8080}]}]
`;
const serviceManifest = (name: string) => `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec: {selector: {app: ${name}}, ports: [{port: 80, targetPort: 8080}]}
`;

interface PodView { ip: string; containerID: string; restarts: number }
async function pod(name: string): Promise<PodView | undefined> {
  const p = JSON.parse(await kubectl('get', 'pod', name, '-o', 'json')) as { status?: { phase?: string; podIP?: string; containerStatuses?: { containerID?: string; restartCount?: number; ready?: boolean }[] } };
  const c = p.status?.containerStatuses?.[0];
  if (p.status?.phase !== 'Running' || !p.status.podIP || !c?.containerID || !c.ready) return undefined;
  return { ip: p.status.podIP, containerID: c.containerID, restarts: c.restartCount ?? 0 };
}

/** GET url from inside pod `from` (busybox wget; its -T segfaults, so timeout bounds it). */
const fetchFrom = async (from: string, url: string) => (await kubectl('exec', from, '--', 'timeout', '5', 'wget', '-qO-', url)).trim();

test.serial('a pod on each agent machine: they reach each other across machines and through a Service', async (t) => {
  const manifest = [podManifest('web-a', agent1.name), podManifest('web-b', agent2.name), serviceManifest('web-b')].join('---\n');
  await promisify(execFile)('sh', ['-c', `printf '%s' "$M" | ${KUBECTL} apply -f -`], { env: { ...process.env, KUBECONFIG: lab.adminKubeconfig, M: manifest } });
  const a = await eventually('web-a Running', () => pod('web-a'), 120_000);
  const b = await eventually('web-b Running', () => pod('web-b'), 120_000);
  t.not(a.ip.split('.')[2], b.ip.split('.')[2], 'the pods are on two nodes\' pod CIDRs');
  t.is(await eventually('web-a -> web-b', () => fetchFrom('web-a', `http://${b.ip}:8080/`)), 'web-b');
  t.is(await eventually('web-b -> web-a', () => fetchFrom('web-b', `http://${a.ip}:8080/`)), 'web-a');
  const clusterIP = (await kubectl('get', 'service', 'web-b', '-o', 'jsonpath={.spec.clusterIP}')).trim();
  t.is(await eventually('web-a -> Service web-b', () => fetchFrom('web-a', `http://${clusterIP}/`)), 'web-b');
});

test.serial('systemctl restart of each unit on an agent leaves its running pod alone', async (t) => {
  const first = await eventually('web-a Running', () => pod('web-a'));
  for (const unit of [...agentUnits(agent1), 'containerd']) {
    await machineRun(agent1, ['systemctl', 'restart', `${unit}.service`]);
    await eventually(`${unit} active again`, async () => ((await active(agent1, [unit]))[0] === 'active' ? true : undefined));
    await eventually(`${agent1.name} Ready after restarting ${unit}`, async () => ((await readyNodes(lab)).includes(agent1.name) ? true : undefined));
    const now = await eventually('web-a Running', () => pod('web-a'));
    t.is(now.containerID, first.containerID, `${unit} restart: same container`);
    t.is(now.restarts, first.restarts, `${unit} restart: no container restart`);
    t.is(await eventually(`web-b -> web-a after restarting ${unit}`, () => fetchFrom('web-b', `http://${now.ip}:8080/`)), 'web-a');
  }
});

test.serial('a machine rebooted with `systemctl reboot` comes back with its units, Ready, and runs its pod again', async (t) => {
  const was = await eventually('web-a Running', () => pod('web-a'));
  const leader = leaderPid(agent1);
  await machineExec(agent1, ['systemctl', 'reboot']).catch(() => undefined);
  await eventually(`${agent1.name} going down`, async () => (leaderPid(agent1) !== leader ? true : undefined));
  await waitBooted(agent1, 90_000);
  t.deepEqual(await active(agent1, ['containerd', ...agentUnits(agent1)]), allActive(['containerd', ...agentUnits(agent1)]));
  // /run is gone with the boot: the sandbox and its container are made again
  const now = await eventually('web-a Running in a new container', async () => {
    const p = await pod('web-a');
    return p && p.containerID !== was.containerID ? p : undefined;
  }, 120_000);
  t.true((await readyNodes(lab)).includes(agent1.name));
  t.is(await eventually('web-b -> web-a after the reboot', () => fetchFrom('web-b', `http://${now.ip}:8080/`)), 'web-a');
});

test.serial('hawser uninstall --purge leaves an agent machine\'s files and firewall rules as before the install', async (t) => {
  const was = before.get(agent2.name);
  if (!was) return t.fail('no snapshot from before the install');
  await machineRun(agent2, ['hawser', 'uninstall', '--purge'], { timeoutMs: 180_000 });
  t.deepEqual(await active(agent2, agentUnits(agent2)), agentUnits(agent2).map(() => 'inactive'));
  const now = await snapshot(agent2);
  const diff = (a: string[], b: string[]) => { const s = new Set(b); return a.filter((x) => !s.has(x)); };
  t.deepEqual({ added: diff(now.files, was.files), removed: diff(was.files, now.files) }, { added: [], removed: [] }, 'files');
  t.deepEqual({ added: diff(now.rules, was.rules), removed: diff(was.rules, now.rules) }, { added: [], removed: [] }, 'iptables rules');
});
