// The lab's processes are started with the ExecStart lines of the project's systemd units (mapped
// from /usr/local/bin/hawser and /etc/hawser to the lab's bundle and per-node config dirs), with
// settings in the same <component>.yaml files `hawser install` writes: so a unit that would not
// work on a VM fails here first.
import { dirname, join, resolve } from 'node:path';
import { renderComponentConfig } from '../install/configs.ts';
import { unitCommand } from '../install/units.ts';
import type { ProcSpec } from './procs.ts';
import type { AgentComponent } from '../../control-plane/auth/agent-identities.ts';
import type { Lab, LabNode } from './topology.ts';
import type { ComponentFile } from '../flags/components.ts';

export type NodeComponent = 'cni-daemon' | 'containerd' | 'kubelet' | 'podnet' | 'kube-proxy';

export const pidFileOf = (lab: Lab, id: string) => `${lab.dir}/run/${id}.pid`;
const logFile = (lab: Lab, id: string) => `${lab.dir}/logs/${id}.log`;
export const nodeProcId = (n: LabNode, c: NodeComponent) => `${n.name}-${c}`;
export const etcDirOf = (lab: Lab, n?: LabNode) => (n ? `${n.dir}/etc` : `${lab.dir}/etc`);

const repoOf = (bin: string) => dirname(dirname(resolve(bin)));
const unit = (bin: string, name: string) => join(repoOf(bin), 'systemd', name);

export interface ConfigFile {
  path: string;
  text: string;
}

export function controlPlaneConfig(lab: Lab): ConfigFile {
  return {
    path: `${etcDirOf(lab)}/control-plane.yaml`,
    text: renderComponentConfig('control-plane', {
      'data-dir': lab.serverDir,
      'bind-address': lab.bridgeIP,
      'advertise-address': lab.bridgeIP,
      'cluster-cidr': lab.clusterCIDR,
      'service-cidr': lab.serviceCIDR,
    }),
  };
}

/** Each agent component's own credentials on a lab node, as `hawser join` writes them on a host. */
export const labKubeconfig = (n: LabNode, c: AgentComponent) => `${n.dir}/${c}.kubeconfig`;

export function nodeConfig(lab: Lab, n: LabNode, c: 'kubelet' | 'podnet' | 'kube-proxy'): ConfigFile {
  const common = { 'node-name': n.name, kubeconfig: labKubeconfig(n, c) };
  const values = {
    kubelet: {
      ...common,
      'container-runtime-endpoint': n.socket,
      'root-dir': `${n.dir}/kubelet`,
      'pod-log-dir': `${n.dir}/pods`,
      'cgroup-root': `/hawser/${n.name}`,
      'node-ip': n.ip,
      'cluster-dns': '10.96.0.10',
    } satisfies ComponentFile<'kubelet'>,
    podnet: {
      ...common,
      'cni-conf-dir': `${n.dir}/cni/net.d`,
      'cni-bin-dir': lab.cniBinDir,
      'ipam-data-dir': `${n.dir}/cni/ipam`,
      'cluster-cidr': lab.clusterCIDR,
      backend: lab.podnetBackend,
    } satisfies ComponentFile<'podnet'>,
    'kube-proxy': {
      ...common,
      'cluster-cidr': lab.clusterCIDR,
      'node-ip': n.ip,
      'ingress-kubeconfig': labKubeconfig(n, 'ingress'),
    } satisfies ComponentFile<'kube-proxy'>,
  }[c];
  return { path: `${etcDirOf(lab, n)}/${c}.yaml`, text: renderComponentConfig(c, values) };
}

export function controlPlaneProc(lab: Lab, bin: string): ProcSpec {
  return {
    id: 'control-plane',
    argv: unitCommand(unit(bin, 'hawser-control-plane.service'), { hawser: [process.execPath, bin], etcDir: etcDirOf(lab) }),
    logFile: logFile(lab, 'control-plane'),
    pidFile: pidFileOf(lab, 'control-plane'),
  };
}

export function nodeProc(lab: Lab, n: LabNode, c: NodeComponent, bin: string): ProcSpec {
  const id = nodeProcId(n, c);
  const m = { hawser: [process.execPath, bin], etcDir: etcDirOf(lab, n) };
  const argv = c === 'containerd' ? unitCommand(unit(bin, 'containerd.service.d/10-hawser.conf'), m) : unitCommand(unit(bin, `hawser-${c}.service`), m);
  return { id, netns: n.netns, argv, logFile: logFile(lab, id), pidFile: pidFileOf(lab, id) };
}

export function registryPaths(lab: Lab) {
  return { dataDir: `${lab.dir}/registry`, logFile: logFile(lab, 'registry'), pidFile: pidFileOf(lab, 'registry') };
}
