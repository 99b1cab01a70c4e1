// The command lines of every lab process, in one place: `up` starts them, tests restart them.
// They are the same `hawser <role>` commands a systemd unit runs on a VM.
import type { ProcSpec } from './procs.ts';
import type { Lab, LabNode } from './topology.ts';

export type NodeComponent = 'containerd' | 'kubelet' | 'podnet';

const pidFile = (lab: Lab, id: string) => `${lab.dir}/run/${id}.pid`;
const logFile = (lab: Lab, id: string) => `${lab.dir}/logs/${id}.log`;

export function controlPlaneProc(lab: Lab, bin: string): ProcSpec {
  return {
    id: 'control-plane',
    argv: [process.execPath, bin, 'control-plane', '--data-dir', lab.serverDir, '--bind-address', lab.bridgeIP,
      '--advertise-address', lab.bridgeIP, '--cluster-cidr', lab.clusterCIDR, '--service-cidr', lab.serviceCIDR],
    logFile: logFile(lab, 'control-plane'), pidFile: pidFile(lab, 'control-plane'),
  };
}

export function nodeProc(lab: Lab, n: LabNode, c: NodeComponent, bin: string): ProcSpec {
  const id = `${n.name}-${c}`;
  const base = { id, netns: n.netns, logFile: logFile(lab, id), pidFile: pidFile(lab, id) };
  const kubeconfig = `${n.dir}/kubelet.kubeconfig`;
  switch (c) {
    case 'containerd':
      return { ...base, argv: ['containerd', '--config', `${n.dir}/containerd.toml`] };
    case 'kubelet':
      return {
        ...base,
        argv: [process.execPath, bin, 'kubelet', '--node-name', n.name, '--kubeconfig', kubeconfig,
          '--container-runtime-endpoint', n.socket, '--root-dir', `${n.dir}/kubelet`, '--pod-log-dir', `${n.dir}/pods`,
          '--cgroup-root', `/hawser/${n.name}`, '--node-ip', n.ip],
      };
    case 'podnet':
      return {
        ...base,
        argv: [process.execPath, bin, 'podnet', '--node-name', n.name, '--kubeconfig', kubeconfig,
          '--cni-conf-dir', `${n.dir}/cni/net.d`, '--cni-bin-dir', lab.cniBinDir, '--ipam-data-dir', `${n.dir}/cni/ipam`,
          '--cluster-cidr', lab.clusterCIDR],
      };
  }
}

export function registryPaths(lab: Lab) {
  return { dataDir: `${lab.dir}/registry`, logFile: logFile(lab, 'registry'), pidFile: pidFile(lab, 'registry') };
}
