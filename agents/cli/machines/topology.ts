// The machine lab as data, declared once: one server and two agent machines (Debian bookworm
// booted by systemd-nspawn with systemd as PID 1) on a bridge of their own, 10.79.0.0/24, apart
// from the netns lab's 10.77/10.80. `up`, `down` and the tests derive every name from here.
export type MachineRole = 'server' | 'agent';

export interface Machine {
  name: string;
  role: MachineRole;
  ip: string;
  dir: string;
  root: string;
  /** an agent installed with --separate-units (three units) instead of the default one `hawser agent` unit */
  separateUnits?: boolean;
}

export interface MachineLab {
  /** prefix of every machine, link and cgroup: hawser-m */
  prefix: string;
  bridge: string;
  bridgeIP: string;
  prefixLen: number;
  gateway: string;
  /** where up keeps machines' overlays and logs (removed by down) */
  stateDir: string;
  /** the packed and the unpacked rootfs (kept by down: a cache) */
  cacheDir: string;
  /** cgroup (in every hierarchy) each machine's launcher moves into: <cgroupParent>/<machine> */
  cgroupParent: string;
  registry: string;
  registryHost: string;
  server: string;
  adminKubeconfig: string;
  machines: Machine[];
}

export const MACHINE_PREFIX = 'hawser-m';
export const MACHINE_SUBNET = '10.79.0';

export function machineLab(o: { stateDir?: string; cacheDir?: string } = {}): MachineLab {
  const stateDir = o.stateDir ?? '/var/lib/hawser-machines';
  const net = MACHINE_SUBNET;
  const m = (name: string, role: MachineRole, host: number): Machine => {
    const full = `${MACHINE_PREFIX}-${name}`;
    return { name: full, role, ip: `${net}.${host}`, dir: `${stateDir}/${full}`, root: `${stateDir}/${full}/root` };
  };
  // agent1 runs the default single agent unit, agent2 the three separate ones: both installs are proven
  const machines = [m('server', 'server', 10), m('agent1', 'agent', 11), { ...m('agent2', 'agent', 12), separateUnits: true }];
  return {
    prefix: MACHINE_PREFIX,
    bridge: `${MACHINE_PREFIX}-br`,
    bridgeIP: `${net}.1`,
    prefixLen: 24,
    gateway: `${net}.1`,
    stateDir,
    cacheDir: o.cacheDir ?? '/var/cache/hawser',
    cgroupParent: MACHINE_PREFIX,
    registry: `${net}.1:5000`,
    registryHost: 'registry.hawser.local',
    server: `https://${machines[0].ip}:6443`,
    adminKubeconfig: `${stateDir}/admin.kubeconfig`,
    machines,
  };
}
