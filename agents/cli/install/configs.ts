// The settings of an install and the files they become: one YAML per component under /etc/hawser
// (keys are the component's flag names, as `--config` reads them), containerd's config, sysctls
// and kernel modules. Pure: the same settings give the same bytes, which makes a rerun a no-op.
import YAML from 'yaml';
import { renderContainerdConfig } from '../../kubelet/cri/containerd-config.ts';
import { AGENT_KUBECONFIGS, LAYOUT, type Component, type Role } from './layout.ts';
import type { AgentComponent } from '../../control-plane/auth/agent-identities.ts';
import type { ProxyMode } from '../../kube-proxy/modes.ts';
import type { ComponentFile } from '../flags/components.ts';

export interface InstallSettings {
  role: Role;
  /** agent: the Node name (join sets it; default the host name) */
  nodeName?: string;
  /** InternalIP; unset = the address that routes to the API server (the kubelet finds it) */
  nodeIP?: string;
  /** server: the address in certificates and kubeconfigs; default --node-ip, else the default route's */
  advertiseAddress?: string;
  tlsSANs?: string[];
  clusterCIDR: string;
  serviceCIDR: string;
  podnetBackend: 'host-gw' | 'vxlan';
  proxyMode: ProxyMode;
  /** agent: the kubelet's and containerd's cgroup driver; unset = cgroupfs (install picks it from the host) */
  cgroupDriver?: 'cgroupfs' | 'systemd';
  /** containerd's pause image */
  sandboxImage: string;
  /** registry host as written in image names -> http(s) endpoint, e.g. registry.hawser.local -> http://192.168.56.10:5000 */
  registryMirrors: Record<string, string>;
  /** agent: podnet, kubelet and kube-proxy as three units instead of one `hawser agent` */
  separateUnits?: boolean;
}

export const DEFAULT_SETTINGS: Omit<InstallSettings, 'role'> = {
  clusterCIDR: '10.244.0.0/16',
  serviceCIDR: '10.96.0.0/12',
  podnetBackend: 'host-gw',
  proxyMode: 'iptables',
  sandboxImage: 'registry.k8s.io/pause:3.10',
  registryMirrors: {},
};

/** A component's YAML: a header naming the file's reader, then the flag-name keys in a fixed order. */
export function renderComponentConfig<C extends Component>(component: C, values: ComponentFile<C>): string {
  const doc: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== '') doc[k] = v;
  return `# Written by \`hawser install\`; read by \`hawser ${component} --config\`. Keys are its flag names.\n${YAML.stringify(doc)}`;
}

const node = (who: AgentComponent, s: InstallSettings) => ({ 'node-name': s.nodeName, kubeconfig: AGENT_KUBECONFIGS[who] });

/** Each component's file, keyed by the names its flag spec declares. */
const writers: { [C in Component]: (s: InstallSettings) => ComponentFile<C> } = {
  'control-plane': (s): ComponentFile<'control-plane'> => ({
    'data-dir': LAYOUT.serverDataDir,
    'write-kubeconfig': LAYOUT.adminKubeconfig,
    'advertise-address': s.advertiseAddress ?? s.nodeIP,
    'tls-san': (s.tlsSANs ?? []).join(','),
    'cluster-cidr': s.clusterCIDR,
    'service-cidr': s.serviceCIDR,
  }),
  kubelet: (s): ComponentFile<'kubelet'> => ({
    ...node('kubelet', s),
    'container-runtime-endpoint': LAYOUT.criSocket,
    'root-dir': LAYOUT.kubeletDir,
    'node-ip': s.nodeIP,
    'cgroup-driver': s.cgroupDriver,
  }),
  podnet: (s): ComponentFile<'podnet'> => ({
    ...node('podnet', s),
    'cni-conf-dir': LAYOUT.cniConfDir,
    'cni-bin-dir': LAYOUT.cniBinDir,
    'cluster-cidr': s.clusterCIDR,
    // written only when not the default, so a podnet without the flag still reads the file
    backend: s.podnetBackend === 'host-gw' ? undefined : s.podnetBackend,
    'proxy-mode': s.proxyMode === 'iptables' ? undefined : s.proxyMode, // NetworkPolicy follows kube-proxy's mode
  }),
  'kube-proxy': (s): ComponentFile<'kube-proxy'> => ({
    ...node('kube-proxy', s),
    'cluster-cidr': s.clusterCIDR,
    'node-ip': s.nodeIP,
    'proxy-mode': s.proxyMode === 'iptables' ? undefined : s.proxyMode,
    'ingress-kubeconfig': AGENT_KUBECONFIGS.ingress,
  }),
  // the shared keys (node-name, node-ip, cluster-cidr) mean the same to each component; each
  // has its own credentials (kubeconfig is the kubelet's)
  agent: (s): ComponentFile<'agent'> => ({
    ...writers.podnet(s),
    ...writers.kubelet(s),
    ...writers['kube-proxy'](s),
    kubeconfig: LAYOUT.kubeconfig,
    'podnet-kubeconfig': LAYOUT.podnetKubeconfig,
    'kube-proxy-kubeconfig': LAYOUT.proxyKubeconfig,
  }),
};

export const componentValues = <C extends Component>(c: C, s: InstallSettings): ComponentFile<C> => writers[c](s);

export const componentConfig = (c: Component, s: InstallSettings): string => renderComponentConfig(c, componentValues(c, s));

export function containerdConfig(s: InstallSettings): string {
  return renderContainerdConfig({
    root: '/var/lib/containerd',
    state: '/run/containerd',
    socket: LAYOUT.criSocket,
    cniBinDir: LAYOUT.cniBinDir,
    cniConfDir: LAYOUT.cniConfDir,
    sandboxImage: s.sandboxImage,
    registryMirrors: s.registryMirrors,
    cgroupDriver: s.cgroupDriver,
  });
}

export const SYSCTL_CONF = [
  '# Written by `hawser install`: nodes forward pod traffic, and bridged pod traffic passes iptables',
  "# (kube-proxy's Service rules must see pod-to-Service packets that stay on the node's bridge).",
  'net.ipv4.ip_forward = 1',
  'net.bridge.bridge-nf-call-iptables = 1',
  'net.bridge.bridge-nf-call-ip6tables = 1',
  '',
].join('\n');

export const MODULES_CONF = [
  '# Written by `hawser install`: the bridge netfilter hook (for the sysctls above) and overlayfs',
  "# (containerd's snapshotter); vxlan for podnet's --backend vxlan.",
  'br_netfilter',
  'overlay',
  'vxlan',
  '',
].join('\n');

/** The wrapper on PATH: the suite's own node binary, so the native SQLite binding always matches it. */
export function wrapperScript(): string {
  return `#!/bin/sh\n# Written by \`hawser install\`.\nexec ${LAYOUT.libDir}/bin/node ${LAYOUT.libDir}/dist/hawser.cjs "$@"\n`;
}

/**
 * A CNI plugin in /opt/cni/bin: containerd execs it with its own PATH, where `node` may be missing
 * or another version, so the plugin bundle runs under the suite's node by absolute path.
 */
export function cniWrapper(plugin: string): string {
  return `#!/bin/sh\n# Written by \`hawser install\`: hawser's ${plugin} CNI plugin.\nexec ${LAYOUT.libDir}/bin/node ${LAYOUT.libDir}/dist/cni/${plugin}.cjs "$@"\n`;
}
