// The node components' typed options, from their settings (flags over YAML over defaults, typed by
// the specs in flags/node.ts). The flags themselves are declared there, once.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { KubeletOptions } from '../kubelet/kubelet.ts';
import type { KubeProxyOptions } from '../kube-proxy/index.ts';
import type { PodnetOptions } from '../podnet/podnet.ts';
import { LAYOUT } from './install/layout.ts';
import { addFlags, compose, settingsOf } from './flags/spec.ts';
import {
  agentCredentials,
  clusterCidrPart,
  kubeletOwn,
  kubeletSpec,
  nodeIpPart,
  podnetOwn,
  proxyModePart,
  proxyOwn,
  sharedNodeSpec,
  type AgentSettings,
  type KubeletSettings,
  type PodnetSettings,
  type ProxySettings,
} from './flags/node.ts';

// The spec's parts as commander options, for callers that build a command piece by piece.
export const sharedNodeFlags = (c: Command) => addFlags(c, sharedNodeSpec);
export const kubeletFlags = (c: Command) => addFlags(c, compose(nodeIpPart, kubeletOwn));
export const podnetFlags = (c: Command) => addFlags(c, compose(clusterCidrPart, proxyModePart, podnetOwn));
/** kube-proxy's own flags; `withShared` false when podnet (or the kubelet) already declared the common ones. */
export const proxyFlags = (c: Command, withShared = true) => addFlags(c, withShared ? compose(clusterCidrPart, nodeIpPart, proxyModePart, proxyOwn) : proxyOwn);
export const agentCredentialFlags = (c: Command) => addFlags(c, agentCredentials);

/**
 * podnet's and kube-proxy's own credentials where the host has them; a host joined by an earlier
 * release has only the node's (an upgrade re-runs install, not join), so those serve until it
 * joins again, as they did before.
 */
const componentKubeconfig = (file: string): string =>
  (file === LAYOUT.podnetKubeconfig || file === LAYOUT.proxyKubeconfig) && !existsSync(file) ? LAYOUT.kubeconfig : file;

/** Each component's options from `hawser agent`'s settings: the shared ones, then each its own credentials. */
export function agentOptions(o: AgentSettings): { podnet: PodnetOptions; kubelet: KubeletOptions; proxy: KubeProxyOptions } {
  const own = (v: string | undefined) => (v && existsSync(v) ? v : o.kubeconfig);
  return {
    podnet: { ...podnetOptions(o), kubeconfig: own(o.podnetKubeconfig) },
    kubelet: toKubeletOptions(o),
    proxy: { ...proxyOptions(o), kubeconfig: own(o.kubeProxyKubeconfig) },
  };
}

/** The kubelet's options from unparsed values (a settings file's keys as setting names), defaults for the rest. */
export const kubeletOptions = (raw: Readonly<Record<string, unknown>>): KubeletOptions => toKubeletOptions(settingsOf(kubeletSpec, {}, raw));

export function toKubeletOptions(o: KubeletSettings): KubeletOptions {
  return {
    nodeName: o.nodeName,
    kubeconfig: o.kubeconfig,
    runtimeEndpoint: o.containerRuntimeEndpoint,
    rootDir: o.rootDir,
    podLogDir: o.podLogDir,
    cgroupRoot: o.cgroupRoot,
    cgroupDriver: o.cgroupDriver,
    podPidsLimit: o.podMaxPids,
    nodeIP: o.nodeIp || undefined,
    nodeLabels: o.nodeLabels,
    registerWithTaints: o.registerWithTaints,
    maxPods: o.maxPods,
    port: o.port,
    healthzPort: o.healthzPort,
    resolvConf: o.resolvConf,
    relistMs: 1000,
    clusterDNS: o.clusterDns,
    clusterDomain: o.clusterDomain,
    podManifestPath: o.podManifestPath || undefined,
    systemReserved: o.systemReserved,
    kubeReserved: o.kubeReserved,
    evictionHard: o.evictionHard,
    imageGCHighThreshold: o.imageGcHighThreshold,
    imageGCLowThreshold: o.imageGcLowThreshold,
    imageMinimumGCAge: o.minimumImageTtlDuration,
  };
}

export function podnetOptions(o: PodnetSettings): PodnetOptions {
  return {
    nodeName: o.nodeName,
    kubeconfig: componentKubeconfig(o.kubeconfig),
    cniConfDir: o.cniConfDir,
    cniBinDir: o.cniBinDir,
    ipamDataDir: o.ipamDataDir,
    bridge: o.bridge,
    clusterCIDR: o.clusterCidr,
    backend: o.backend,
    disableNetworkPolicy: o.disableNetworkPolicy,
    healthzPort: o.podnetHealthzPort,
    proxyMode: o.proxyMode,
  };
}

export function proxyOptions(o: ProxySettings): KubeProxyOptions {
  return {
    nodeName: o.nodeName,
    kubeconfig: componentKubeconfig(o.kubeconfig),
    mode: o.proxyMode,
    clusterCIDR: o.clusterCidr,
    nodeIP: o.nodeIp || undefined,
    healthzBindAddress: o.healthzBindAddress,
    metricsBindAddress: o.metricsBindAddress,
    minSyncPeriodMs: o.minSyncPeriod,
    syncPeriodMs: o.syncPeriod,
    masqueradeAll: o.masqueradeAll,
    nodePortAddresses: o.nodeportAddresses?.length ? o.nodeportAddresses : undefined,
    ipvsScheduler: o.ipvsScheduler,
    ingress: ingressOptions(o),
  };
}

/** The built-in ingress controller's settings, or undefined when it is off or has no credentials (a host joined before it existed). */
function ingressOptions(o: ProxySettings): KubeProxyOptions['ingress'] {
  const kubeconfig = o.ingressKubeconfig;
  if (o.disableIngress || !kubeconfig || !existsSync(kubeconfig)) return undefined;
  return { kubeconfig, bindAddress: o.ingressBindAddress, httpPort: o.ingressHttpPort, httpsPort: o.ingressHttpsPort };
}
