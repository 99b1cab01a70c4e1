// The node components' flags, declared once: `hawser kubelet`, `podnet` and `kube-proxy` each take
// the shared node flags plus their own, and `hawser agent` (all three in one process, as k3s runs
// its agent) takes the shared ones once plus every component's own. A flag two components take
// with one meaning (node-ip, cluster-cidr) is its own part, composed into each.
import os from 'node:os';
import { parseKeyValues, parseTaints } from '../config.ts';
import { parseCgroupDriver } from '../../kubelet/pods/cgroup-plan.ts';
import { criSocketPath } from '../../kubelet/cri/endpoint.ts';
import { LAYOUT } from '../install/layout.ts';
import { PROXY_MODE_LIST, parseProxyMode } from '../../kube-proxy/modes.ts';
import { cliOnly, commaList, hostDefault, compose, configFlag, duration, int, text, toggle, value, type Settings } from './spec.ts';
import { logSpec } from '../log-flags.ts';

function podnetBackend(v: string): 'host-gw' | 'vxlan' {
  if (v !== 'host-gw' && v !== 'vxlan') throw new Error(`--backend must be host-gw or vxlan, not "${v}"`);
  return v;
}

/** What every node component takes: who it is and how it reaches the API server. */
export const sharedNodeSpec = compose(configFlag, {
  'node-name': hostDefault(text('<name>', 'node name', os.hostname().toLowerCase()), 'the host name, lower case'),
  kubeconfig: text('<file>', 'credentials for the API server', '/etc/hawser/kubelet.kubeconfig'),
} as const);

/** Taken by podnet and kube-proxy alike, with one meaning. */
export const clusterCidrPart = {
  'cluster-cidr': text('<cidr>', 'pod network (not masqueraded inside it; traffic from outside it to a Service is)', '10.244.0.0/16'),
} as const;
/** podnet reads it too: NetworkPolicies are enforced with nftables in nftables mode, else with iptables */
export const proxyModePart = { 'proxy-mode': value('<mode>', PROXY_MODE_LIST, parseProxyMode, 'iptables') } as const;
export const nodeIpPart = { 'node-ip': text('<ip>', 'InternalIP (default: the address that routes to the API server)') } as const;

export const kubeletOwn = {
  'container-runtime-endpoint': value('<endpoint>', 'CRI socket: unix:///path or a path', criSocketPath, '/run/containerd/containerd.sock'),
  'root-dir': text('<dir>', 'kubelet state', '/var/lib/hawser/kubelet'),
  'pod-log-dir': text('<dir>', 'container logs', '/var/log/pods'),
  'cgroup-root': text('<path>', 'parent cgroup of pods', '/kubepods'),
  'cgroup-driver': value(
    '<cgroupfs|systemd>',
    "who makes the pod cgroups: the kubelet (cgroupfs) or systemd (slices); must match containerd's SystemdCgroup",
    parseCgroupDriver,
    'cgroupfs',
  ),
  'pod-max-pids': int('<n>', 'pids.max of each pod (-1: no limit)', '-1'),
  'node-labels': value('<k=v,...>', 'extra node labels', parseKeyValues, ''),
  'register-with-taints': value('<k=v:Effect,...>', 'taints to register with', parseTaints, ''),
  'max-pods': int('<n>', 'pod capacity', '110'),
  port: int('<n>', 'kubelet server port', '10250'),
  'healthz-port': int('<n>', 'port of the unauthenticated 127.0.0.1 /healthz (0: none)', '10248'),
  'resolv-conf': text('<file>', 'resolver config for pods', '/etc/resolv.conf'),
  'cluster-dns': value('<ips>', 'cluster DNS server IPs for ClusterFirst pods, comma separated ("" = the node\'s resolvers)', commaList, ''),
  'cluster-domain': text('<domain>', 'cluster DNS domain', 'cluster.local'),
  'pod-manifest-path': text('<dir>', 'static pod manifests (default: <root-dir>/pod-manifests)'),
  'system-reserved': text('<res=q,...>', 'resources kept for the OS, e.g. cpu=100m,memory=256Mi', ''),
  'kube-reserved': text('<res=q,...>', 'resources kept for the node agents', ''),
  'eviction-hard': text(
    '<signal<q,...>',
    'hard eviction thresholds (drive the pressure conditions)',
    'memory.available<100Mi,nodefs.available<10%,imagefs.available<15%,nodefs.inodesFree<5%',
  ),
  'image-gc-high-threshold': int('<percent>', 'image disk usage that starts image garbage collection', '85'),
  'image-gc-low-threshold': int('<percent>', 'image disk usage image garbage collection frees down to', '80'),
  'minimum-image-ttl-duration': text('<duration>', 'minimum age of an unused image before it may be collected', '2m'),
} as const;

export const podnetOwn = {
  'cni-conf-dir': text('<dir>', 'where containerd reads CNI configs', '/etc/cni/net.d'),
  'cni-bin-dir': text('<dir>', 'where the CNI plugins are', '/opt/cni/bin'),
  'ipam-data-dir': text('<dir>', 'host-local allocations', '/var/lib/cni/networks'),
  bridge: text('<name>', 'pod bridge', 'cni0'),
  backend: value('<host-gw|vxlan>', 'how pod traffic crosses nodes: routes on one L2, or a VXLAN overlay', podnetBackend, 'host-gw'),
  'disable-network-policy': toggle('do not enforce NetworkPolicies on this node'),
  'podnet-healthz-port': int('<n>', "port of podnet's 127.0.0.1 /livez, /readyz, /healthz (0: none)", '10262'),
} as const;

export const proxyOwn = {
  'healthz-bind-address': text('<ip:port>', 'healthz server', '0.0.0.0:10256'),
  'metrics-bind-address': text('<ip:port>', 'metrics server', '127.0.0.1:10249'),
  'min-sync-period': value('<duration>', 'least time between syncs (batches bursts)', duration, '1s'),
  'sync-period': value('<duration>', 'how often every Service is re-checked', duration, '30s'),
  'masquerade-all': toggle('masquerade all Service traffic'),
  'nodeport-addresses': value('<cidrs>', 'addresses NodePorts answer on, comma separated (default: all)', commaList),
  'ipvs-scheduler': text('<name>', 'ipvs mode: rr, lc, dh, sh, sed or nq', 'rr'),
  cleanup: cliOnly(toggle('remove the rules every proxy mode made (iptables, ipvs, nftables) and exit, as upstream kube-proxy --cleanup')),
  'ingress-kubeconfig': text(
    '<file>',
    "the built-in ingress controller's credentials (system:hawser-ingress); without the file it does not run",
    LAYOUT.ingressKubeconfig,
  ),
  'disable-ingress': toggle('do not run the built-in ingress controller on this node'),
  'ingress-bind-address': text('<ip>', 'address the ingress controller listens on', '0.0.0.0'),
  'ingress-http-port': int('<port>', "the ingress controller's HTTP port", '80'),
  'ingress-https-port': int('<port>', "the ingress controller's HTTPS port", '443'),
} as const;

/** `hawser agent` only: podnet's and kube-proxy's own credentials (default: --kubeconfig, as on hosts joined before they had their own). */
export const agentCredentials = {
  'podnet-kubeconfig': text('<file>', "podnet's credentials for the API server (default: --kubeconfig)"),
  'kube-proxy-kubeconfig': text('<file>', "kube-proxy's credentials for the API server (default: --kubeconfig)"),
} as const;

export const kubeletSpec = compose(sharedNodeSpec, nodeIpPart, kubeletOwn, logSpec);
export const podnetSpec = compose(sharedNodeSpec, clusterCidrPart, proxyModePart, podnetOwn, logSpec);
export const proxySpec = compose(sharedNodeSpec, clusterCidrPart, nodeIpPart, proxyModePart, proxyOwn, logSpec);
export const agentSpec = compose(sharedNodeSpec, nodeIpPart, kubeletOwn, clusterCidrPart, proxyModePart, podnetOwn, proxyOwn, agentCredentials, logSpec);

export type KubeletSettings = Settings<typeof kubeletSpec>;
export type PodnetSettings = Settings<typeof podnetSpec>;
export type ProxySettings = Settings<typeof proxySpec>;
export type AgentSettings = Settings<typeof agentSpec>;
