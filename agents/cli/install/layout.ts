// Where an installed hawser lives on a host. Paths are absolute as seen by the host; `--root DIR`
// prefixes every one of them when the install writes (a throwaway root in tests), never inside
// the files' content, which always names the host's paths.
import type { AgentComponent } from '../../control-plane/auth/agent-identities.ts';
import type { ProxyMode } from '../../kube-proxy/modes.ts';
export const LAYOUT = {
  /** the suite: dist/, the runtime node_modules, bin/node, bin/kubectl, the unit sources */
  libDir: '/usr/local/lib/hawser',
  /** the wrapper every unit runs */
  bin: '/usr/local/bin/hawser',
  etcDir: '/etc/hawser',
  unitDir: '/etc/systemd/system',
  cniBinDir: '/opt/cni/bin',
  cniConfDir: '/etc/cni/net.d',
  stateDir: '/var/lib/hawser',
  manifest: '/var/lib/hawser/install-manifest.json',
  serverDataDir: '/var/lib/hawser/server',
  kubeconfig: '/etc/hawser/kubelet.kubeconfig',
  /** kube-proxy's and podnet's own credentials (not the node's: agent-identities.ts) */
  proxyKubeconfig: '/etc/hawser/kube-proxy.kubeconfig',
  podnetKubeconfig: '/etc/hawser/podnet.kubeconfig',
  /** the built-in ingress controller's (kube-proxy runs it) */
  ingressKubeconfig: '/etc/hawser/ingress.kubeconfig',
  /** the server's admin credentials, written at each start (k3s: /etc/rancher/k3s/k3s.yaml) */
  adminKubeconfig: '/etc/hawser/admin.kubeconfig',
  /** the kubectl shipped with the release, which `hawser kubectl` runs */
  kubectl: '/usr/local/lib/hawser/bin/kubectl',
  caCert: '/etc/hawser/ca.crt',
  /** this machine's node password (k3s: /etc/rancher/node/password): proves it owns its node name */
  nodePassword: '/etc/hawser/node-password',
  containerdConfig: '/etc/hawser/containerd.toml',
  /** the host's containerd, which an agent's kubelet drives */
  criSocket: '/run/containerd/containerd.sock',
  kubeletDir: '/var/lib/hawser/kubelet',
  sysctl: '/etc/sysctl.d/90-hawser.conf',
  modules: '/etc/modules-load.d/hawser.conf',
} as const;

/** Directories the agents (kubelet: pod logs; containerd's CNI: IPAM and result cache) make at run time. */
export const AGENT_RUNTIME_DIRS = ['/var/log/pods', '/var/lib/cni'];

/** Each node agent's credentials file, as `hawser join` writes them. */
export const AGENT_KUBECONFIGS: Record<AgentComponent, string> = {
  kubelet: LAYOUT.kubeconfig,
  'kube-proxy': LAYOUT.proxyKubeconfig,
  podnet: LAYOUT.podnetKubeconfig,
  ingress: LAYOUT.ingressKubeconfig,
};

export const configFile = (component: string): string => `${LAYOUT.etcDir}/${component}.yaml`;

export type Role = 'server' | 'agent';
export type Component = 'control-plane' | 'agent' | 'kubelet' | 'kube-proxy' | 'podnet';

/** The node agents as separate units, in start order (podnet writes the CNI config the kubelet needs). */
export const SEPARATE_AGENT_COMPONENTS: Component[] = ['podnet', 'kubelet', 'kube-proxy'];

/** What a role runs: an agent's components in one process (`hawser agent`, as k3s) unless asked for one unit each. */
export function roleComponents(role: Role, separateUnits?: boolean): Component[] {
  if (role === 'server') return ['control-plane'];
  return separateUnits ? SEPARATE_AGENT_COMPONENTS : ['agent'];
}

export const unitName = (c: Component): string => `hawser-${c}.service`;

/**
 * What a host of each role runs, once: the command check-config looks for and the Debian package
 * install puts there (none for what every Debian install has). A server runs nothing outside the
 * suite.
 */
export interface HostTool {
  cmd: string;
  pkg?: string;
}
const ROLE_TOOLS: Record<Role, HostTool[]> = {
  server: [],
  agent: [
    { cmd: 'containerd', pkg: 'containerd' },
    { cmd: 'runc', pkg: 'runc' },
    { cmd: 'iptables', pkg: 'iptables' },
    { cmd: 'conntrack', pkg: 'conntrack' },
    // network policy in iptables mode (agents/netpol); without it no policy is enforced
    { cmd: 'ipset', pkg: 'ipset' },
    { cmd: 'ip' }, // iproute2
  ],
};

/**
 * What kube-proxy's mode (and network policy, which follows it) runs besides: nftables mode talks
 * to the kernel through `nft`, ipvs through `ipvsadm`; neither is on a minimal Debian host.
 */
const PROXY_MODE_TOOLS: Record<ProxyMode, HostTool[]> = {
  iptables: [],
  nftables: [{ cmd: 'nft', pkg: 'nftables' }],
  ipvs: [{ cmd: 'ipvsadm', pkg: 'ipvsadm' }],
};

/** What a host of this role and proxy mode runs (an agent's tools follow the mode; a server's do not). */
export const hostTools = (role: Role, mode: ProxyMode): HostTool[] => (role === 'agent' ? [...ROLE_TOOLS.agent, ...PROXY_MODE_TOOLS[mode]] : ROLE_TOOLS[role]);

/** The Debian packages an install of this role and proxy mode needs. */
export const rolePackages = (role: Role, mode: ProxyMode): string[] => hostTools(role, mode).flatMap((t) => (t.pkg ? [t.pkg] : []));

/** Files of the build a host needs at run time, relative to the suite dir. */
export const RUNTIME_MODULES: Record<string, string[]> = {
  // the native SQLite binding and the two tiny modules that locate it; not its build tooling
  // (prebuild-install and the C sources are install-time only)
  'better-sqlite3': ['package.json', 'lib', 'build/Release/better_sqlite3.node', 'LICENSE'],
  bindings: ['package.json', 'bindings.js', 'LICENSE.md'],
  'file-uri-to-path': ['package.json', 'index.js', 'LICENSE'],
};

/** Packages shipped whole with their dependencies (etcd3 loads its .proto files from its own dir). */
export const WHOLE_RUNTIME_PACKAGES = ['etcd3'];
