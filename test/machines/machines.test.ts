// The install path on real systemd machines: a server and two agents booted with systemd-nspawn
// from the cached Debian rootfs, the release tarball installed in each through `hawser install`,
// `hawser token create` and `hawser join` exactly as on a VM (agents/cli/machines/up.ts). Checks
// what a user sees: units systemd started are active and the nodes Ready, pods on the two agent
// machines reach each other directly and through a Service, restarting a unit leaves running pods
// alone, a rebooted machine comes back with its pod, and `hawser uninstall --purge` leaves a machine's files and firewall rules as before.
// The machines are installed from the previous release artifact (_previous-release.ts) and the first
// test upgrades them to this one, as a user upgrades a cluster; every later test runs on the upgraded
// machines. Type=notify: a unit is active only once its process said READY=1, with a STATUS= line, and
// the watchdog restarts a process whose event loop stops; log lines reach the journal with priorities.
// Everything booted is removed afterwards, also when a test fails (test.after.always).
// HAWSER_MACHINES=ci (`make test`, suite machines-ci): the core on this release installed directly
// (lab up, units active and Ready, status, pods across machines and Services, restarts, uninstall);
// the upgrade (which first builds the previous release), activating, watchdog and reboot tests are
// skipped there and run in the whole suite (`make test-machines`).
import test from 'ava';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { defaultRelease } from '../../agents/cli/machines/cli.ts';
import { machinesDown } from '../../agents/cli/machines/down.ts';
import { bridgeExists } from '../../agents/cli/machines/network.ts';
import { leaderPid, machineExec, machineRun } from '../../agents/cli/machines/nspawn.ts';
import { machineLab, type Machine } from '../../agents/cli/machines/topology.ts';
import { bootstrapScript, machinesUp, readyNodes, waitBooted } from '../../agents/cli/machines/up.ts';
import { previousRelease } from './_previous-release.ts';
import { snapshot, type Snapshot } from './_snapshot.ts';

const REPO = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const KUBECTL = join(REPO, '.build/bin/kubectl');
const lab = machineLab();
const [server, agent1, agent2] = lab.machines;
const before = new Map<string, Snapshot>();
let release = '';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FULL = process.env.HAWSER_MACHINES !== 'ci';
const fullOnly = FULL ? test.serial : test.serial.skip;

async function kubectl(...args: string[]): Promise<string> {
  const r = await promisify(execFile)(KUBECTL, args, { env: { ...process.env, KUBECONFIG: lab.adminKubeconfig }, timeout: 60_000 });
  return r.stdout;
}

/** Retries fn until it returns a value or timeoutMs passes (kube-proxy and podnet sync within seconds). */
async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(1000);
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? `: ${String(last)}` : ''}`);
}

test.before(async (t) => {
  release = defaultRelease(REPO);
  if (!existsSync(release)) throw new Error(`${release} is missing: make dist`);
  if (statSync(release).mtimeMs < statSync(join(REPO, 'dist/hawser.cjs')).mtimeMs) throw new Error(`${release} is older than dist/hawser.cjs: make dist`);
  if (bridgeExists(lab)) throw new Error(`a machine lab is up (${lab.bridge} exists): make vm-lab-down first`);
  const r = await machinesUp({
    repo: REPO,
    release: FULL ? previousRelease(REPO, undefined, (l) => t.log(l)) : release,
    log: (l) => t.log(l),
    beforeInstall: async () => {
      before.set(agent2.name, await snapshot(agent2));
    },
  });
  t.log(`machine lab up in ${Object.values(r.seconds).at(-1)?.toFixed(1)} s (rootfs ${r.rootfsBuilt ? 'built' : 'cached'})`);
});

test.after.always(async (t) => {
  const left = await machinesDown();
  if (left.length) t.log(`cgroups still busy after down: ${left.join(' ')}`);
});

/**
 * Why a machine is shutting down, or undefined when it is not: systemd refuses a `systemctl
 * restart` as "destructive (swap.target has 'stop' job queued…)" exactly while a shutdown's
 * irreversible stop jobs are queued, and nothing hawser installs starts one. The journal's lines
 * name what did: "Received SIGINT." (ctrl-alt-del: a reboot; with no "from PID" when the sender is
 * outside the machine), "Received SIGRTMIN+3." (nspawn was sent SIGTERM: a halt), or logind's
 * "System is rebooting." for a `systemctl reboot`.
 */
async function shutdownUnderway(m: Machine): Promise<string | undefined> {
  if (!leaderPid(m)) return undefined;
  const state = (await machineExec(m, ['systemctl', 'is-system-running'], { timeoutMs: 10_000 })).stdout.trim();
  if (state !== 'stopping') return undefined;
  const jobs = (await machineExec(m, ['systemctl', 'list-jobs', '--no-pager'], { timeoutMs: 10_000 })).stdout.split('\n').slice(0, 15).join('\n');
  // PID 1's and logind's own lines only: the journal also imports /dev/kmsg, which every machine
  // shares, and so holds the other machines' shutdowns too
  const why = (
    await machineExec(
      m,
      [
        'sh',
        '-c',
        'journalctl -b --no-pager -o short-precise _PID=1 + _COMM=systemd-logind | grep -E "Received SIG|special unit|rebooting|halting|powering" | tail -20',
      ],
      { timeoutMs: 20_000 },
    )
  ).stdout;
  return `${m.name} is shutting down (systemctl is-system-running: stopping)\n${jobs}\njournal:\n${why}`;
}

// a machine that starts shutting down during a test fails that test, with what started it
test.afterEach(async (t) => {
  for (const m of lab.machines) {
    const down = await shutdownUnderway(m);
    if (down) t.fail(down);
  }
});

const active = async (m: Machine, units: string[]) => (await machineExec(m, ['systemctl', 'is-active', ...units])).stdout.trim().split('\n');
/** The hawser units an agent machine runs: one `hawser agent`, or three with --separate-units. */
const agentUnits = (m: Machine) => (m.separateUnits ? ['hawser-podnet', 'hawser-kubelet', 'hawser-kube-proxy'] : ['hawser-agent']);
const allActive = (units: string[]) => units.map(() => 'active');

/** `hawser install` from this release's own unpacked hawser, over the machine's install (k3s: rerun its install script). */
async function upgrade(m: Machine): Promise<string> {
  const inMachine = `/root/upgrade/${basename(release)}`;
  mkdirSync(join(m.root, '/root/upgrade'), { recursive: true });
  copyFileSync(release, join(m.root, inMachine));
  const script = bootstrapScript(inMachine, '/run/hawser-upgrade');
  try {
    return await machineRun(m, ['sh', '-c', script, 'hawser', 'install', '--role', m.role, '--from', inMachine], { timeoutMs: 300_000 });
  } finally {
    rmSync(join(m.root, '/root/upgrade'), { recursive: true, force: true }); // the download, not the install's
  }
}

const unitProps = async (m: Machine, unit: string) =>
  Object.fromEntries(
    (await machineRun(m, ['systemctl', 'show', '-p', 'Type,StatusText,NotifyAccess,WatchdogUSec,MainPID,NRestarts', unit]))
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

fullOnly("upgrade from the previous release artifact keeps the cluster's objects and running pods; the new units are Type=notify", async (t) => {
  const manifest = [
    podManifest('keep-a', agent1.name),
    podManifest('keep-b', agent2.name),
    serviceManifest('keep-b'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kept}\ndata: {release: previous}\n',
  ].join('---\n');
  await promisify(execFile)('sh', ['-c', `printf '%s' "$M" | ${KUBECTL} apply -f -`], {
    env: { ...process.env, KUBECONFIG: lab.adminKubeconfig, M: manifest },
  });
  const pods = { a: await eventually('keep-a Running', () => pod('keep-a'), 120_000), b: await eventually('keep-b Running', () => pod('keep-b'), 120_000) };
  const uids = (await kubectl('get', 'pod/keep-a', 'pod/keep-b', 'service/keep-b', 'configmap/kept', '-o', 'jsonpath={.items[*].metadata.uid}')).trim();
  t.is((await unitProps(agent1, 'hawser-agent')).Type, 'exec', 'the previous release is what runs');

  const started = Date.now();
  // servers first, then agents, as k3s upgrades a cluster
  for (const m of [server, agent1, agent2]) t.log(`${m.name}: ${(await upgrade(m)).trim().split('\n').at(-1)}`);
  t.log(`3 machines upgraded in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  t.is(
    (await kubectl('get', 'pod/keep-a', 'pod/keep-b', 'service/keep-b', 'configmap/kept', '-o', 'jsonpath={.items[*].metadata.uid}')).trim(),
    uids,
    'the same objects',
  );
  t.is((await kubectl('get', 'configmap/kept', '-o', 'jsonpath={.data.release}')).trim(), 'previous');
  for (const [name, was] of [
    ['keep-a', pods.a],
    ['keep-b', pods.b],
  ] as const) {
    const now = await eventually(`${name} Running`, () => pod(name));
    t.deepEqual(now, was, `${name}: the same container, not restarted`);
  }
  await eventually('both agents Ready', async () => ((await readyNodes(lab)).length === 2 ? true : undefined));
  t.is(
    await eventually('keep-a -> Service keep-b after the upgrade', async () =>
      fetchFrom('keep-a', `http://${(await kubectl('get', 'service', 'keep-b', '-o', 'jsonpath={.spec.clusterIP}')).trim()}/`),
    ),
    'keep-b',
  );
  // the upgraded units: Type=notify, each process has said READY=1 (the unit is active) with a STATUS= line
  for (const [m, unit] of [[server, 'hawser-control-plane'], [agent1, 'hawser-agent'], ...agentUnits(agent2).map((u) => [agent2, u] as const)] as const) {
    const p = await unitProps(m, unit);
    t.like(p, { Type: 'notify', NotifyAccess: 'all', WatchdogUSec: '1min' }, `${m.name} ${unit}`);
    t.not(p.StatusText, '', `${m.name} ${unit} StatusText`);
  }
  t.regex((await unitProps(agent1, 'hawser-agent')).StatusText, /pod network reconciled, node registered, runtime listed, Service rules synced/);
  t.regex((await unitProps(server, 'hawser-control-plane')).StatusText, /^serving on https:/);
});

fullOnly('an agent unit stays activating until its process is ready (here: until the API server answers)', async (t) => {
  await machineRun(server, ['systemctl', 'stop', 'hawser-control-plane']);
  try {
    await machineRun(agent1, ['systemctl', 'restart', '--no-block', 'hawser-agent']);
    // the kubelet cannot register: the unit is started but not up, and says why
    await sleep(8000);
    t.deepEqual(await active(agent1, ['hawser-agent']), ['activating']);
    t.regex((await unitProps(agent1, 'hawser-agent')).StatusText, /registering node|starting the pod network/);
  } finally {
    await machineRun(server, ['systemctl', 'start', 'hawser-control-plane'], { timeoutMs: 180_000 });
  }
  t.deepEqual(await active(server, ['hawser-control-plane']), ['active'], '`systemctl start` returns once READY=1 came');
  await eventually(
    'hawser-agent active once the API answers',
    async () => ((await active(agent1, ['hawser-agent']))[0] === 'active' ? true : undefined),
    120_000,
  );
  t.regex((await unitProps(agent1, 'hawser-agent')).StatusText, /Service rules synced/);
  await eventually(`${agent1.name} Ready`, async () => ((await readyNodes(lab)).includes(agent1.name) ? true : undefined));
});

fullOnly('the watchdog restarts a unit whose process stops answering; log lines reach the journal with their priority', async (t) => {
  const unit = 'hawser-kube-proxy';
  const dropin = `/run/systemd/system/${unit}.service.d/50-watchdog-test.conf`;
  // a short watchdog for the test (pings at half of it), SIGKILL soon after the SIGABRT a stopped
  // process cannot act on, and debug logging (for the journal's priorities below)
  await machineRun(agent2, [
    'sh',
    '-c',
    `mkdir -p ${dropin.replace(/\/[^/]+$/, '')} && printf '[Service]\\nWatchdogSec=4s\\nTimeoutAbortSec=2s\\nEnvironment=HAWSER_LOG_LEVEL=debug\\n' > ${dropin} && systemctl daemon-reload && systemctl restart ${unit}`,
  ]);
  try {
    const was = await unitProps(agent2, unit);
    t.is(was.WatchdogUSec, '4s');
    await sleep(6000);
    t.is((await unitProps(agent2, unit)).MainPID, was.MainPID, 'a process that pings is left alone');
    await machineRun(agent2, ['kill', '-STOP', was.MainPID]);
    const now = await eventually(
      'restarted by the watchdog',
      async () => {
        const p = await unitProps(agent2, unit);
        return p.MainPID !== '0' && p.MainPID !== was.MainPID && (await active(agent2, [unit]))[0] === 'active' ? p : undefined;
      },
      60_000,
    );
    t.is(Number(now.NRestarts), Number(was.NRestarts) + 1);
    t.regex(await machineRun(agent2, ['journalctl', '-u', unit, '--no-pager', '-o', 'cat']), /Watchdog timeout/);
  } finally {
    await machineRun(agent2, ['sh', '-c', `rm -f ${dropin} && systemctl daemon-reload && systemctl restart ${unit}`], { timeoutMs: 180_000 });
  }
  // journald read the "<N>" prefix as the priority and took it off the message: info is 6, debug 7
  const entries = (await machineRun(agent2, ['journalctl', '-u', unit, '--no-pager', '-o', 'json']))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { MESSAGE?: string; PRIORITY?: string })
    .filter((e) => typeof e.MESSAGE === 'string');
  for (const [msg, priority] of [
    ['"msg":"kube-proxy started"', '6'],
    ['"msg":"synced"', '7'],
  ]) {
    const lines = entries.filter((e) => e.MESSAGE!.includes(msg));
    t.true(lines.length > 0, msg);
    for (const e of lines) {
      t.is(e.PRIORITY, priority, msg);
      t.true(e.MESSAGE!.startsWith('{'), e.MESSAGE);
    }
  }
});

test.serial('a command run in a machine ends at its time bound, with what it started there', async (t) => {
  const started = Date.now();
  const r = await machineExec(agent1, ['sh', '-c', 'sleep 31 & sleep 32; echo finished'], { timeoutMs: 2000 });
  t.true(Date.now() - started < 15_000, `returned after ${Date.now() - started} ms`);
  t.is(r.status, 124);
  t.regex(r.stderr, /did not finish within 2 s/);
  t.is(r.stdout, '');
  t.is((await machineExec(agent1, ['pgrep', '-f', 'sleep 3[12]'])).status, 1, 'nothing left running in the machine');
});

test.serial('units started by systemd are active on each machine and the agents are Ready nodes', async (t) => {
  t.deepEqual(await active(server, ['hawser-control-plane']), ['active']);
  t.not(agent1.separateUnits, true);
  t.true(agent2.separateUnits);
  for (const m of [agent1, agent2]) t.deepEqual(await active(m, ['containerd', ...agentUnits(m)]), allActive(['containerd', ...agentUnits(m)]), m.name);
  // one process on agent1, three on agent2
  t.deepEqual(
    (await machineRun(agent1, ['pgrep', '-f', 'hawser.cjs (agent|kubelet|podnet|kube-proxy) ']).catch(() => '')).trim().split('\n').filter(Boolean).length,
    1,
  );
  t.deepEqual(
    (await machineRun(agent2, ['pgrep', '-f', 'hawser.cjs (agent|kubelet|podnet|kube-proxy) ']).catch(() => '')).trim().split('\n').filter(Boolean).length,
    3,
  );
  t.deepEqual((await readyNodes(lab)).sort(), [agent1.name, agent2.name]);
  // the documented admin path on the server: the installed kubectl with /etc/hawser/admin.kubeconfig
  t.deepEqual((await machineRun(server, ['hawser', 'kubectl', 'get', 'nodes', '-o', 'name'])).trim().split('\n').sort(), [
    `node/${agent1.name}`,
    `node/${agent2.name}`,
  ]);
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

interface PodView {
  ip: string;
  containerID: string;
  restarts: number;
}
async function pod(name: string): Promise<PodView | undefined> {
  const p = JSON.parse(await kubectl('get', 'pod', name, '-o', 'json')) as {
    status?: { phase?: string; podIP?: string; containerStatuses?: { containerID?: string; restartCount?: number; ready?: boolean }[] };
  };
  const c = p.status?.containerStatuses?.[0];
  if (p.status?.phase !== 'Running' || !p.status.podIP || !c?.containerID || !c.ready) return undefined;
  return { ip: p.status.podIP, containerID: c.containerID, restarts: c.restartCount ?? 0 };
}

/** GET url from inside pod `from` (busybox wget; its -T segfaults, so timeout bounds it). */
const fetchFrom = async (from: string, url: string) => (await kubectl('exec', from, '--', 'timeout', '5', 'wget', '-qO-', url)).trim();

test.serial('a pod on each agent machine: they reach each other across machines and through a Service', async (t) => {
  const manifest = [podManifest('web-a', agent1.name), podManifest('web-b', agent2.name), serviceManifest('web-b')].join('---\n');
  await promisify(execFile)('sh', ['-c', `printf '%s' "$M" | ${KUBECTL} apply -f -`], {
    env: { ...process.env, KUBECONFIG: lab.adminKubeconfig, M: manifest },
  });
  const a = await eventually('web-a Running', () => pod('web-a'), 120_000);
  const b = await eventually('web-b Running', () => pod('web-b'), 120_000);
  t.not(a.ip.split('.')[2], b.ip.split('.')[2], "the pods are on two nodes' pod CIDRs");
  t.is(await eventually('web-a -> web-b', () => fetchFrom('web-a', `http://${b.ip}:8080/`)), 'web-b');
  t.is(await eventually('web-b -> web-a', () => fetchFrom('web-b', `http://${a.ip}:8080/`)), 'web-a');
  const clusterIP = (await kubectl('get', 'service', 'web-b', '-o', 'jsonpath={.spec.clusterIP}')).trim();
  t.is(await eventually('web-a -> Service web-b', () => fetchFrom('web-a', `http://${clusterIP}/`)), 'web-b');
});

test.serial('systemctl restart of each unit on an agent leaves its running pod alone', async (t) => {
  const first = await eventually('web-a Running', () => pod('web-a'));
  for (const unit of [...agentUnits(agent1), 'containerd']) {
    await machineRun(agent1, ['systemctl', 'restart', `${unit}.service`], { timeoutMs: 180_000 }).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${(await shutdownUnderway(agent1)) ?? `${agent1.name} is not shutting down`}`);
    });
    await eventually(`${unit} active again`, async () => ((await active(agent1, [unit]))[0] === 'active' ? true : undefined));
    await eventually(`${agent1.name} Ready after restarting ${unit}`, async () => ((await readyNodes(lab)).includes(agent1.name) ? true : undefined));
    const now = await eventually('web-a Running', () => pod('web-a'));
    t.is(now.containerID, first.containerID, `${unit} restart: same container`);
    t.is(now.restarts, first.restarts, `${unit} restart: no container restart`);
    t.is(await eventually(`web-b -> web-a after restarting ${unit}`, () => fetchFrom('web-b', `http://${now.ip}:8080/`)), 'web-a');
  }
});

fullOnly('a machine rebooted with `systemctl reboot` comes back with its units, Ready, and runs its pod again', async (t) => {
  const was = await eventually('web-a Running', () => pod('web-a'));
  const leader = leaderPid(agent1);
  await machineExec(agent1, ['systemctl', 'reboot']).catch(() => undefined);
  await eventually(`${agent1.name} going down`, async () => (leaderPid(agent1) !== leader ? true : undefined));
  await waitBooted(agent1, 90_000);
  t.deepEqual(await active(agent1, ['containerd', ...agentUnits(agent1)]), allActive(['containerd', ...agentUnits(agent1)]));
  // /run is gone with the boot: the sandbox and its container are made again
  const now = await eventually(
    'web-a Running in a new container',
    async () => {
      const p = await pod('web-a');
      return p && p.containerID !== was.containerID ? p : undefined;
    },
    120_000,
  );
  t.true((await readyNodes(lab)).includes(agent1.name));
  t.is(await eventually('web-b -> web-a after the reboot', () => fetchFrom('web-b', `http://${now.ip}:8080/`)), 'web-a');
});

test.serial("hawser uninstall --purge leaves an agent machine's files and firewall rules as before the install", async (t) => {
  const was = before.get(agent2.name);
  if (!was) return t.fail('no snapshot from before the install');
  await machineRun(agent2, ['hawser', 'uninstall', '--purge'], { timeoutMs: 180_000 });
  t.deepEqual(
    await active(agent2, agentUnits(agent2)),
    agentUnits(agent2).map(() => 'inactive'),
  );
  const now = await snapshot(agent2);
  const diff = (a: string[], b: string[]) => {
    const s = new Set(b);
    return a.filter((x) => !s.has(x));
  };
  t.deepEqual({ added: diff(now.files, was.files), removed: diff(was.files, now.files) }, { added: [], removed: [] }, 'files');
  t.deepEqual({ added: diff(now.rules, was.rules), removed: diff(was.rules, now.rules) }, { added: [], removed: [] }, 'iptables rules');
});
