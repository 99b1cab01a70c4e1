// Which cgroup driver the container runtime uses, read from its CRI Status verbose info (containerd
// puts its CRI plugin config there as JSON: the default runtime's runc options carry SystemdCgroup),
// and the refusal to start when it differs from the kubelet's: with the kubelet making
// /kubepods/... directories and runc asking systemd for slices (or the reverse), pods land outside
// the kubelet's QoS tree or fail to start, a classic kubeadm failure. Pure.
import type { CgroupDriver } from '../pods/cgroup-plan.ts';

interface RuncOptions {
  SystemdCgroup?: boolean;
}
interface Runtime {
  options?: RuncOptions | null;
  runtimeType?: string;
}
interface CriConfig {
  containerd?: { defaultRuntimeName?: string; runtimes?: Record<string, Runtime>; defaultRuntime?: Runtime };
  /** the deprecated io.containerd.runtime.v1.linux switch */
  systemdCgroup?: boolean;
}

/** The runtime's driver from `Status(verbose)` info, undefined when it does not say (not containerd). */
export function runtimeCgroupDriver(info: Record<string, string | undefined>): CgroupDriver | undefined {
  if (!info.config) return undefined;
  let cfg: CriConfig;
  try {
    cfg = JSON.parse(info.config) as CriConfig;
  } catch {
    return undefined;
  }
  const c = cfg.containerd;
  const rt = c?.runtimes?.[c.defaultRuntimeName ?? 'runc'] ?? c?.defaultRuntime;
  if (rt?.options && typeof rt.options.SystemdCgroup === 'boolean') return rt.options.SystemdCgroup ? 'systemd' : 'cgroupfs';
  if (rt?.runtimeType === 'io.containerd.runc.v2' || rt?.runtimeType === 'io.containerd.runtime.v1.linux') return cfg.systemdCgroup ? 'systemd' : 'cgroupfs';
  return undefined;
}

/** The error the kubelet exits with when the drivers differ; undefined when they agree or the runtime does not say. */
export function cgroupDriverMismatch(kubelet: CgroupDriver, runtime: CgroupDriver | undefined): string | undefined {
  if (!runtime || runtime === kubelet) return undefined;
  return (
    `misconfiguration: kubelet cgroup driver: "${kubelet}" is different from the container runtime's cgroup driver: "${runtime}"` +
    ` (containerd: SystemdCgroup = ${runtime === 'systemd'} in plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options).` +
    ` Set the kubelet's --cgroup-driver ${runtime}, or SystemdCgroup = ${kubelet === 'systemd'} in containerd's config and restart containerd`
  );
}
