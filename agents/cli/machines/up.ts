// `hawser lab up --machines` (sudo make vm-lab): the cached Debian rootfs, a bridge, a registry with
// the locally built images, then three machines booted by systemd-nspawn in which the release
// tarball is installed exactly as on a VM: `hawser install --role server` on the server, `hawser
// token create` there, `hawser join` on each agent; systemd starts the units. Prints the time to
// Ready and how to reach the cluster.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { V1Node } from '@kubernetes/client-node';
import { ApiClient } from '../../api/client.ts';
import { loadKubeconfig } from '../../api/kubeconfig.ts';
import { core } from '../../api/paths.ts';
import { pushImage, registryAnswers } from '../../../images/registry.ts';
import { LAYOUT } from '../install/layout.ts';
import { waitFor } from '../lab/procs.ts';
import { LAB_IMAGES, startLabRegistry } from '../lab/up.ts';
import { createMachineNetwork } from './network.ts';
import { boot, leaderPid, machineExec, machineRun, prepareRoot } from './nspawn.ts';
import { ensureRootfs } from './rootfs.ts';
import { machineLab, type Machine, type MachineLab } from './topology.ts';

export interface MachinesUpOptions {
  repo: string;
  release: string;
  stateDir?: string;
  cacheDir?: string;
  log?: (line: string) => void;
  /** runs once the machines are booted, before anything is installed (tests take a snapshot) */
  beforeInstall?: (lab: MachineLab) => Promise<void>;
}

export interface MachinesUpResult {
  lab: MachineLab;
  seconds: Record<string, number>;
  rootfsBuilt: boolean;
}

/** Where the release tarball is inside each machine (bound read-only). */
export const releaseInMachine = (release: string) => `/root/${basename(release)}`;
const BOOTSTRAP = '/run/hawser-bootstrap';

export const registryPathsOf = (lab: MachineLab) => ({
  dataDir: join(lab.stateDir, 'registry'),
  logFile: join(lab.stateDir, 'registry.log'),
  pidFile: join(lab.stateDir, 'registry.pid'),
});

function preflight(o: MachinesUpOptions): void {
  if (process.getuid?.() !== 0) throw new Error('the machine lab needs root: run `sudo make vm-lab`');
  for (const tool of ['systemd-nspawn', 'debootstrap', 'zstd', 'docker-registry', 'skopeo', 'nsenter', 'iptables']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is not installed: apt-get install systemd-container debootstrap zstd docker-registry skopeo`);
    }
  }
  if (!existsSync(o.release)) throw new Error(`${o.release} is missing: run \`make dist\``);
  for (const img of LAB_IMAGES)
    if (!existsSync(join(o.repo, '.build/images', img.name, 'index.json'))) throw new Error(`image ${img.name} is not built: run \`sudo make deps\``);
}

/**
 * A shell script that runs the release's own hawser with its arguments ("$@"), unpacking the
 * tarball at `rel` into `dir` once (as a user would before installing). Shared with the VM test,
 * whose /run is noexec (Debian's initramfs mounts it so; nspawn does not). Unpacked whole, the
 * directory is itself a release: `hawser install` without --from installs from it, and the
 * tarball is not unpacked a second time (half of a bare install's time).
 */
export const bootstrapScript = (
  rel: string,
  dir: string = BOOTSTRAP,
  exclude = '',
): string => `set -e; if [ ! -x ${dir}/hawser ]; then mkdir -p ${dir}; tar -xzf ${rel} -C ${dir} ${exclude};
    printf '#!/bin/sh\\nexec ${dir}/hawser-*/bin/node ${dir}/hawser-*/dist/hawser.cjs "$@"\\n' > ${dir}/hawser; chmod +x ${dir}/hawser; fi
    exec ${dir}/hawser "$@"`;

/** The release's own hawser, unpacked once per machine boot. */
async function hawser(m: Machine, release: string, args: string[], timeoutMs = 180_000): Promise<string> {
  return machineRun(m, ['sh', '-c', bootstrapScript(releaseInMachine(release)), 'hawser', ...args], { timeoutMs });
}

export async function waitBooted(m: Machine, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `${m.name} to boot`,
    async () => {
      if (!leaderPid(m)) return false;
      const r = await machineExec(m, ['systemctl', 'is-system-running'], { timeoutMs: 10_000 });
      return ['running', 'degraded'].includes(r.stdout.trim());
    },
    timeoutMs,
    300,
  );
}

export const adminApi = (lab: MachineLab) => new ApiClient(loadKubeconfig(lab.adminKubeconfig), 'hawser-machine-lab');

export async function readyNodes(lab: MachineLab): Promise<string[]> {
  const nodes = await adminApi(lab).list<V1Node>(core('nodes'));
  return nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata?.name ?? '');
}

export async function machinesUp(o: MachinesUpOptions): Promise<MachinesUpResult> {
  const log = o.log ?? (() => {});
  const lab = machineLab({ stateDir: o.stateDir, cacheDir: o.cacheDir });
  const t0 = Date.now();
  const seconds: Record<string, number> = {};
  const mark = (what: string) => {
    seconds[what] = (Date.now() - t0) / 1000;
    log(`${seconds[what].toFixed(1).padStart(6)} s  ${what}`);
  };
  preflight(o);
  const rootfs = ensureRootfs(lab.cacheDir, log);
  mark(rootfs.built ? `rootfs built and cached (${rootfs.packed})` : `rootfs from the cache (${rootfs.lowerDir})`);

  mkdirSync(lab.stateDir, { recursive: true });
  createMachineNetwork(lab);
  startLabRegistry(registryPathsOf(lab), lab.registry, join(lab.stateDir, 'registry.yml'));
  await waitFor('the registry', () => registryAnswers(lab.registry), 20_000);
  await Promise.all(LAB_IMAGES.map((img) => pushImage(join(o.repo, '.build/images', img.name), `${lab.registry}/${img.name}:${img.tag}`)));
  mark(`bridge ${lab.bridge} ${lab.bridgeIP}/24, registry ${lab.registry}`);

  for (const m of lab.machines) {
    prepareRoot(lab, m, rootfs.lowerDir);
    if (!leaderPid(m)) boot(lab, m, [`${o.release}:${releaseInMachine(o.release)}`]);
  }
  await Promise.all(lab.machines.map((m) => waitBooted(m)));
  mark('3 machines booted (systemd running)');
  await o.beforeInstall?.(lab);

  const [server, ...agents] = lab.machines;
  const mirror = `${lab.registryHost}=http://${lab.registry}`;
  // no --from: the unpacked release the bootstrap runs is what gets installed (README's path)
  const agentFlags = (m: Machine) => [
    '--node-name',
    m.name,
    '--node-ip',
    m.ip,
    '--registry-mirror',
    mirror,
    '--sandbox-image',
    `${lab.registryHost}/pause:3.10`,
    ...(m.separateUnits ? ['--separate-units'] : []),
  ];
  // as on VMs brought up together: the agents install while the server starts (their node units
  // wait for credentials: ConditionPathExists), and join once the server hands out a token
  await Promise.all([
    (async () => {
      const installing = Date.now();
      await hawser(server, o.release, ['install', '--role', 'server', '--node-ip', server.ip]);
      mark(`server: hawser install on a bare machine took ${((Date.now() - installing) / 1000).toFixed(1)} s (unpacking included)`);
      await waitFor(
        'the API server',
        async () => (await machineExec(server, ['hawser', 'kubectl', 'get', '--raw=/readyz'], { timeoutMs: 10_000 })).stdout.trim() === 'ok',
        120_000,
        500,
      );
      writeFileSync(lab.adminKubeconfig, readFileSync(join(server.root, LAYOUT.adminKubeconfig)), { mode: 0o600 });
      mark(`server installed, API ready on ${lab.server}`);
    })(),
    ...agents.map((m) => hawser(m, o.release, ['install', '--role', 'agent', ...agentFlags(m)])),
  ]);
  mark('agents installed');

  const token = (await machineRun(server, ['hawser', 'token', 'create', '--description', 'machine lab'])).trim();
  await Promise.all(agents.map((m) => hawser(m, o.release, ['join', '--server', lab.server, '--token', token, ...agentFlags(m), '--wait', '60'])));
  mark('agents joined');
  await waitFor(`${agents.length} Ready nodes`, async () => (await readyNodes(lab)).length === agents.length, 120_000, 500);
  mark(`${agents.length} nodes Ready`);
  return { lab, seconds, rootfsBuilt: rootfs.built };
}

export function showMachines(lab: MachineLab, kubectl: string): string {
  const out = execFileSync(kubectl, ['get', 'nodes', '-o', 'wide'], { encoding: 'utf8', env: { ...process.env, KUBECONFIG: lab.adminKubeconfig } });
  const [server] = lab.machines;
  return `${out}
Machines: ${lab.machines.map((m) => `${m.name} ${m.ip} (${m.role})`).join(', ')}
From this host:   KUBECONFIG=${lab.adminKubeconfig} ${kubectl} get nodes
On the server:    sudo nsenter -t $(cat /proc/$(cat ${server.dir}/nspawn.pid)/task/*/children | head -1) -a hawser kubectl get pods -A
Consoles:         ${lab.stateDir}/<machine>/console.log     Tear down: sudo make vm-lab-down
`;
}
