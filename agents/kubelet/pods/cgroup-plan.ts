// Where the kubelet's QoS and pod cgroups live and what goes in them, for both cgroup drivers, as
// upstream's kubelet does it (pkg/kubelet/cm): a cgroup is named by its components
// (['kubepods', 'burstable', 'pod<uid>']); the cgroupfs driver joins them as a path
// (/kubepods/burstable/pod<uid>), the systemd driver as nested slices with '-' in each component
// escaped to '_' (/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice).
// On cgroup v2 the limits are cpu.weight (from v1 shares by the kubelet's linear conversion),
// cpu.max, memory.max, pids.max and, with MemoryQoS, memory.min; controllers are enabled in
// cgroup.subtree_control of every ancestor. Pure.
import type { V1Pod } from '@kubernetes/client-node';
import { podTotals, qosClass, type PodCgroupConfig } from './qos.ts';

export type CgroupDriver = 'cgroupfs' | 'systemd';
export const CGROUP_DRIVERS: readonly CgroupDriver[] = ['cgroupfs', 'systemd'];

/** The v2 controllers the kubelet enables down its tree (upstream's supported set, less what the kernel lacks). */
export const V2_CONTROLLERS = ['cpu', 'cpuset', 'hugetlb', 'memory', 'pids'];

/** Components of --cgroup-root ('/kubepods' -> ['kubepods'], '/' -> []). */
export const rootComponents = (cgroupRoot: string): string[] => cgroupRoot.split('/').filter(Boolean);

/** The QoS cgroup of a class: Guaranteed pods sit directly under the root. */
export function qosComponents(cgroupRoot: string, qos: 'Guaranteed' | 'Burstable' | 'BestEffort'): string[] {
  const root = rootComponents(cgroupRoot);
  return qos === 'Guaranteed' ? root : [...root, qos.toLowerCase()];
}

export const podComponents = (cgroupRoot: string, pod: V1Pod): string[] => [...qosComponents(cgroupRoot, qosClass(pod)), `pod${pod.metadata!.uid!}`];

/** The pod's cgroup under each QoS class (the class of a vanished pod is unknown). */
export const podComponentsAnyQos = (cgroupRoot: string, uid: string): string[][] =>
  (['Guaranteed', 'Burstable', 'BestEffort'] as const).map((q) => [...qosComponents(cgroupRoot, q), `pod${uid}`]);

const escapeSystemd = (part: string): string => part.replaceAll('-', '_');

/** The systemd slice unit of a cgroup name: 'kubepods-burstable-pod<uid_>.slice'; the root slice for none. */
export function sliceName(name: string[]): string {
  return name.length ? `${name.map(escapeSystemd).join('-')}.slice` : '-.slice';
}

/** The cgroup's path under the v2 mount (or inside a v1 hierarchy) for the driver. */
export function cgroupPath(name: string[], driver: CgroupDriver): string {
  if (driver === 'cgroupfs') return `/${name.join('/')}`;
  return `/${name.map((_, i) => sliceName(name.slice(0, i + 1))).join('/')}`;
}

/** The cgroup parent handed to the CRI: a path for cgroupfs, the slice's name for systemd (containerd expands it). */
export const criCgroupParent = (name: string[], driver: CgroupDriver): string => (driver === 'systemd' ? sliceName(name) : cgroupPath(name, 'cgroupfs'));

/** cgroup v2 cpu.weight from v1 shares: the kubelet's linear conversion (KEP 2254), clamped to [1, 10000]. */
export const sharesToWeight = (shares: number): number => Math.max(1, Math.min(10000, 1 + Math.floor(((shares - 2) * 9999) / 262142)));

export interface CgroupOptions {
  /** --pod-max-pids: pids.max of each pod cgroup; unset or -1 = no limit */
  podPidsLimit?: number;
  /** the MemoryQoS feature gate: memory.min from the pod's memory requests */
  memoryQoS?: boolean;
}

export interface CgroupFile {
  file: string;
  value: string;
}

/** What a pod's v2 cgroup is limited to. */
export function podV2Files(cfg: PodCgroupConfig, o: CgroupOptions = {}, memoryRequest = 0): CgroupFile[] {
  const out: CgroupFile[] = [
    { file: 'cpu.weight', value: String(sharesToWeight(cfg.cpuShares)) },
    { file: 'cpu.max', value: `${cfg.cpuQuota ?? 'max'} ${cfg.cpuPeriod ?? 100000}` },
    { file: 'memory.max', value: cfg.memoryLimitInBytes ? String(cfg.memoryLimitInBytes) : 'max' },
    { file: 'pids.max', value: o.podPidsLimit !== undefined && o.podPidsLimit > 0 ? String(o.podPidsLimit) : 'max' },
  ];
  if (o.memoryQoS && memoryRequest > 0) out.push({ file: 'memory.min', value: String(memoryRequest) });
  return out;
}

/** The pod's memory request as MemoryQoS protects it (none for BestEffort). */
export const podMemoryRequest = (pod: V1Pod): number => (qosClass(pod) === 'BestEffort' ? 0 : podTotals(pod).memoryRequest);

/**
 * cgroup.subtree_control writes that give the cgroup at `path` its controllers: every ancestor from
 * the mount's root down to its parent enables the wanted controllers the root has.
 */
export function subtreeControlPlan(path: string, rootControllers: string[]): { dir: string; value: string }[] {
  const want = V2_CONTROLLERS.filter((c) => rootControllers.includes(c));
  if (!want.length) return [];
  const parts = path.split('/').filter(Boolean);
  const value = want.map((c) => `+${c}`).join(' ');
  return parts.map((_, i) => ({ dir: `/${parts.slice(0, i).join('/')}`, value }));
}

/** systemd unit properties of a pod or QoS slice (D-Bus signature, value), as runc's systemd driver sets them. */
export type UnitProperty = [name: string, signature: 't' | 'b' | 's' | 'as', value: string | number | boolean | string[]];
const INFINITY = '18446744073709551615';

export function sliceProperties(name: string[], cfg?: PodCgroupConfig, o: CgroupOptions = {}, memoryRequest = 0): UnitProperty[] {
  const parent = name.length > 1 ? sliceName(name.slice(0, -1)) : '-.slice';
  const props: UnitProperty[] = [
    ['Description', 's', `hawser kubelet: ${sliceName(name)}`],
    ['Wants', 'as', [parent]],
    ['DefaultDependencies', 'b', false],
    ['MemoryAccounting', 'b', true],
    ['CPUAccounting', 'b', true],
    ['TasksAccounting', 'b', true],
  ];
  if (!cfg) return props;
  props.push(['CPUWeight', 't', sharesToWeight(cfg.cpuShares)]);
  // systemd wants the quota per second of wall time, in whole 10 ms steps (runc rounds up the same way)
  const perSec = cfg.cpuQuota ? Math.ceil((cfg.cpuQuota * 1_000_000) / (cfg.cpuPeriod ?? 100000) / 10000) * 10000 : undefined;
  props.push(['CPUQuotaPerSecUSec', 't', perSec ?? INFINITY]);
  if (cfg.cpuPeriod) props.push(['CPUQuotaPeriodUSec', 't', cfg.cpuPeriod]);
  props.push(['MemoryMax', 't', cfg.memoryLimitInBytes ?? INFINITY]);
  props.push(['TasksMax', 't', o.podPidsLimit !== undefined && o.podPidsLimit > 0 ? o.podPidsLimit : INFINITY]);
  if (o.memoryQoS && memoryRequest > 0) props.push(['MemoryMin', 't', memoryRequest]);
  return props;
}

/** The busctl arguments that flatten properties into an a(sv) array. */
export function busctlProperties(props: UnitProperty[]): string[] {
  const out = [String(props.length)];
  for (const [name, sig, value] of props) {
    out.push(name, sig);
    if (Array.isArray(value)) out.push(String(value.length), ...value);
    else out.push(String(value));
  }
  return out;
}

/**
 * `busctl call` of a systemd Manager method. The `--` ends busctl's options: the root QoS slice
 * wants `-.slice`, which busctl would otherwise take for an option ("busctl: invalid option -- '.'",
 * seen in the VM test: kubepods.slice was never made).
 */
const managerCall = (method: string, signature: string, ...args: string[]): string[] => [
  'call',
  '--',
  'org.freedesktop.systemd1',
  '/org/freedesktop/systemd1',
  'org.freedesktop.systemd1.Manager',
  method,
  signature,
  ...args,
];

/** `busctl call` arguments that create a transient slice (systemd's StartTransientUnit). */
export const startSliceArgs = (unit: string, props: UnitProperty[]): string[] =>
  managerCall('StartTransientUnit', 'ssa(sv)a(sa(sv))', unit, 'replace', ...busctlProperties(props), '0');

/** `busctl call` arguments that update a running slice's limits (SetUnitProperties, runtime only). */
export const setSliceArgs = (unit: string, props: UnitProperty[]): string[] =>
  managerCall('SetUnitProperties', 'sba(sv)', unit, 'true', ...busctlProperties(props));

/** `busctl call` arguments that stop a slice (a removed pod's). */
export const stopSliceArgs = (unit: string): string[] => managerCall('StopUnit', 'ss', unit, 'replace');

/** --cgroup-driver's value, refused unless one of the two drivers. */
export function parseCgroupDriver(v: unknown): CgroupDriver {
  const s = String(v ?? 'cgroupfs');
  if ((CGROUP_DRIVERS as readonly string[]).includes(s)) return s as CgroupDriver;
  throw new Error(`invalid configuration: --cgroup-driver ${JSON.stringify(s)}: must be one of ${CGROUP_DRIVERS.map((d) => `"${d}"`).join(', ')}`);
}
