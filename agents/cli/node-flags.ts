// The node components' flags, declared once: `hawser kubelet`, `podnet` and `kube-proxy` each take
// the shared node flags plus their own, and `hawser agent` (all three in one process, as k3s runs
// its agent) takes the shared ones once plus every component's own. The same functions turn the
// parsed flags (and a --config YAML keyed by flag names) into each component's typed options.
import { existsSync } from 'node:fs';
import os from 'node:os';
import type { Command } from 'commander';
import type { KubeletOptions } from '../kubelet/kubelet.ts';
import type { KubeProxyOptions } from '../kube-proxy/index.ts';
import type { PodnetOptions } from '../podnet/podnet.ts';
import { parseKeyValues, parseTaints } from './config.ts';
import { parseCgroupDriver } from '../kubelet/pods/cgroup-plan.ts';
import { criSocketPath } from '../kubelet/cri/endpoint.ts';
import { LAYOUT } from './install/layout.ts';
import { PROXY_MODE_LIST, parseProxyMode } from '../kube-proxy/modes.ts';

type Flags = Record<string, unknown>;
const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const num = (v: string) => Number(v);

/** Go-style durations as kube-proxy's flags take them: 500ms, 1s, 30s, 1m. */
export function duration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v.trim());
  if (!m) throw new Error(`bad duration "${v}": use e.g. 500ms, 1s, 30s, 1m`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

/** What every node component takes: who it is and how it reaches the API server. */
export const sharedNodeFlags = (c: Command) => c
  .option('--config <file>', 'YAML file with any of these settings')
  .option('--node-name <name>', 'node name', os.hostname().toLowerCase())
  .option('--kubeconfig <file>', 'credentials for the API server', '/etc/hawser/kubelet.kubeconfig');

/** Taken by podnet and kube-proxy alike, with one meaning. */
const clusterCidrFlag = (c: Command) => c.option('--cluster-cidr <cidr>', 'pod network (not masqueraded inside it; traffic from outside it to a Service is)', '10.244.0.0/16');
const nodeIpFlag = (c: Command) => c.option('--node-ip <ip>', 'InternalIP (default: the address that routes to the API server)');
/** podnet reads it too: NetworkPolicies are enforced with nftables in nftables mode, else with iptables */
const proxyModeFlag = (c: Command) => c.option('--proxy-mode <mode>', PROXY_MODE_LIST, 'iptables');

export const kubeletFlags = (c: Command) => nodeIpFlag(c)
  .option('--container-runtime-endpoint <endpoint>', 'CRI socket: unix:///path or a path', '/run/containerd/containerd.sock')
  .option('--root-dir <dir>', 'kubelet state', '/var/lib/hawser/kubelet')
  .option('--pod-log-dir <dir>', 'container logs', '/var/log/pods')
  .option('--cgroup-root <path>', 'parent cgroup of pods', '/kubepods')
  .option('--cgroup-driver <cgroupfs|systemd>', 'who makes the pod cgroups: the kubelet (cgroupfs) or systemd (slices); must match containerd\'s SystemdCgroup', 'cgroupfs')
  .option('--pod-max-pids <n>', 'pids.max of each pod (-1: no limit)', num, -1)
  .option('--node-labels <k=v,...>', 'extra node labels')
  .option('--register-with-taints <k=v:Effect,...>', 'taints to register with')
  .option('--max-pods <n>', 'pod capacity', num, 110)
  .option('--port <n>', 'kubelet server port', num, 10250)
  .option('--healthz-port <n>', 'port of the unauthenticated 127.0.0.1 /healthz (0: none)', num, 10248)
  .option('--resolv-conf <file>', 'resolver config for pods', '/etc/resolv.conf')
  .option('--cluster-dns <ips>', 'cluster DNS server IPs for ClusterFirst pods, comma separated ("" = the node\'s resolvers)', '')
  .option('--cluster-domain <domain>', 'cluster DNS domain', 'cluster.local')
  .option('--pod-manifest-path <dir>', 'static pod manifests (default: <root-dir>/pod-manifests)')
  .option('--system-reserved <res=q,...>', 'resources kept for the OS, e.g. cpu=100m,memory=256Mi', '')
  .option('--kube-reserved <res=q,...>', 'resources kept for the node agents', '')
  .option('--eviction-hard <signal<q,...>', 'hard eviction thresholds (drive the pressure conditions)', 'memory.available<100Mi,nodefs.available<10%,imagefs.available<15%,nodefs.inodesFree<5%')
  .option('--image-gc-high-threshold <percent>', 'image disk usage that starts image garbage collection', num, 85)
  .option('--image-gc-low-threshold <percent>', 'image disk usage image garbage collection frees down to', num, 80)
  .option('--minimum-image-ttl-duration <duration>', 'minimum age of an unused image before it may be collected', '2m');

export const podnetFlags = (c: Command) => proxyModeFlag(clusterCidrFlag(c))
  .option('--cni-conf-dir <dir>', 'where containerd reads CNI configs', '/etc/cni/net.d')
  .option('--cni-bin-dir <dir>', 'where the CNI plugins are', '/opt/cni/bin')
  .option('--ipam-data-dir <dir>', 'host-local allocations', '/var/lib/cni/networks')
  .option('--bridge <name>', 'pod bridge', 'cni0')
  .option('--backend <host-gw|vxlan>', 'how pod traffic crosses nodes: routes on one L2, or a VXLAN overlay', 'host-gw')
  .option('--disable-network-policy', 'do not enforce NetworkPolicies on this node');

/** kube-proxy's own flags; `withShared` false when podnet (or the kubelet) already declared the common ones. */
export const proxyFlags = (c: Command, withShared = true) => (withShared ? proxyModeFlag(nodeIpFlag(clusterCidrFlag(c))) : c)
  .option('--healthz-bind-address <ip:port>', 'healthz server', '0.0.0.0:10256')
  .option('--metrics-bind-address <ip:port>', 'metrics server', '127.0.0.1:10249')
  .option('--min-sync-period <duration>', 'least time between syncs (batches bursts)', '1s')
  .option('--sync-period <duration>', 'how often every Service is re-checked', '30s')
  .option('--masquerade-all', 'masquerade all Service traffic')
  .option('--nodeport-addresses <cidrs>', 'addresses NodePorts answer on, comma separated (default: all)')
  .option('--ipvs-scheduler <name>', 'ipvs mode: rr, lc, dh, sh, sed or nq', 'rr')
  .option('--cleanup', 'remove the rules every proxy mode made (iptables, ipvs, nftables) and exit, as upstream kube-proxy --cleanup')
  .option('--ingress-kubeconfig <file>', 'the built-in ingress controller\'s credentials (system:hawser-ingress); without the file it does not run', LAYOUT.ingressKubeconfig)
  .option('--disable-ingress', 'do not run the built-in ingress controller on this node')
  .option('--ingress-bind-address <ip>', 'address the ingress controller listens on', '0.0.0.0')
  .option('--ingress-http-port <port>', 'the ingress controller\'s HTTP port', '80')
  .option('--ingress-https-port <port>', 'the ingress controller\'s HTTPS port', '443');

/**
 * podnet's and kube-proxy's own credentials where the host has them; a host joined by an earlier
 * release has only the node's (an upgrade re-runs install, not join), so those serve until it
 * joins again, as they did before.
 */
const componentKubeconfig = (file: string): string => (file === LAYOUT.podnetKubeconfig || file === LAYOUT.proxyKubeconfig) && !existsSync(file) ? LAYOUT.kubeconfig : file;

/** `hawser agent` only: podnet's and kube-proxy's own credentials (default: --kubeconfig, as on hosts joined before they had their own). */
export const agentCredentialFlags = (c: Command) => c
  .option('--podnet-kubeconfig <file>', 'podnet\'s credentials for the API server (default: --kubeconfig)')
  .option('--kube-proxy-kubeconfig <file>', 'kube-proxy\'s credentials for the API server (default: --kubeconfig)');

/** Each component's options from `hawser agent`'s flags: the shared ones, then each its own credentials. */
export function agentOptions(o: Flags): { podnet: PodnetOptions; kubelet: KubeletOptions; proxy: KubeProxyOptions } {
  const own = (v: unknown) => (v && existsSync(str(v)) ? str(v) : str(o.kubeconfig));
  return {
    podnet: { ...podnetOptions(o), kubeconfig: own(o.podnetKubeconfig) },
    kubelet: kubeletOptions(o),
    proxy: { ...proxyOptions(o), kubeconfig: own(o.kubeProxyKubeconfig) },
  };
}

export function kubeletOptions(o: Flags): KubeletOptions {
  return {
    nodeName: str(o.nodeName), kubeconfig: str(o.kubeconfig), runtimeEndpoint: criSocketPath(str(o.containerRuntimeEndpoint)), rootDir: str(o.rootDir),
    podLogDir: str(o.podLogDir), cgroupRoot: str(o.cgroupRoot), cgroupDriver: parseCgroupDriver(str(o.cgroupDriver)), podPidsLimit: Number(o.podMaxPids), nodeIP: o.nodeIp ? str(o.nodeIp) : undefined, nodeLabels: parseKeyValues(str(o.nodeLabels)),
    registerWithTaints: parseTaints(str(o.registerWithTaints)), maxPods: Number(o.maxPods), port: Number(o.port), healthzPort: Number(o.healthzPort), resolvConf: str(o.resolvConf), relistMs: 1000,
    clusterDNS: str(o.clusterDns).split(',').map((s) => s.trim()).filter(Boolean), clusterDomain: str(o.clusterDomain),
    podManifestPath: o.podManifestPath ? str(o.podManifestPath) : undefined, systemReserved: str(o.systemReserved), kubeReserved: str(o.kubeReserved), evictionHard: str(o.evictionHard),
    imageGCHighThreshold: Number(o.imageGcHighThreshold), imageGCLowThreshold: Number(o.imageGcLowThreshold), imageMinimumGCAge: str(o.minimumImageTtlDuration),
  };
}

export function podnetOptions(o: Flags): PodnetOptions {
  const backend = str(o.backend);
  if (backend !== 'host-gw' && backend !== 'vxlan') throw new Error(`--backend must be host-gw or vxlan, not "${backend}"`);
  return {
    nodeName: str(o.nodeName), kubeconfig: componentKubeconfig(str(o.kubeconfig)), cniConfDir: str(o.cniConfDir), cniBinDir: str(o.cniBinDir),
    ipamDataDir: str(o.ipamDataDir), bridge: str(o.bridge), clusterCIDR: str(o.clusterCidr), backend,
    disableNetworkPolicy: !!o.disableNetworkPolicy, proxyMode: parseProxyMode(str(o.proxyMode)),
  };
}

export function proxyOptions(o: Flags): KubeProxyOptions {
  const mode = parseProxyMode(str(o.proxyMode));
  return {
    nodeName: str(o.nodeName), kubeconfig: componentKubeconfig(str(o.kubeconfig)), mode, clusterCIDR: str(o.clusterCidr), nodeIP: o.nodeIp ? str(o.nodeIp) : undefined,
    healthzBindAddress: str(o.healthzBindAddress), metricsBindAddress: str(o.metricsBindAddress),
    minSyncPeriodMs: duration(str(o.minSyncPeriod)), syncPeriodMs: duration(str(o.syncPeriod)),
    masqueradeAll: !!o.masqueradeAll, nodePortAddresses: o.nodeportAddresses ? str(o.nodeportAddresses).split(',') : undefined,
    ipvsScheduler: str(o.ipvsScheduler),
    ingress: ingressOptions(o),
  };
}

/** The built-in ingress controller's settings, or undefined when it is off or has no credentials (a host joined before it existed). */
function ingressOptions(o: Flags): KubeProxyOptions['ingress'] {
  const kubeconfig = str(o.ingressKubeconfig);
  if (o.disableIngress || !kubeconfig || !existsSync(kubeconfig)) return undefined;
  return { kubeconfig, bindAddress: str(o.ingressBindAddress), httpPort: Number(o.ingressHttpPort), httpsPort: Number(o.ingressHttpsPort) };
}
