// Pure translation of a Pod and its containers into CRI PodSandboxConfig and ContainerConfig: pod
// identity labels (how the kubelet finds its sandboxes and containers again after a restart),
// QoS cgroup parent, DNS per dnsPolicy, hostname, host ports, security contexts, Linux resources,
// mounts, the resolved environment, and the annotations a kubelet needs to stop a container whose
// pod it no longer knows (grace period, preStop handler).
import { createHash } from 'node:crypto';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { Protocol, type ContainerConfig, type MountPropagation__Output, type PodSandboxConfig, type Protocol__Output } from '../cri/api-types.ts';
import { podDnsConfigWithWarnings } from './dns-policy.ts';
import { podHostname } from './hosts-file.ts';
import * as L from './labels.ts';
import { criCgroupParent, podComponents, type CgroupDriver } from './cgroup-plan.ts';
import { containerResources } from './qos.ts';
import type { DnsConfig } from './resolv.ts';
import { containerSecurityContext, sandboxSecurityContext, type ImageUser } from './security.ts';

export interface SandboxContext {
  podLogRoot: string;
  cgroupRoot: string;
  /** --cgroup-driver; unset = cgroupfs */
  cgroupDriver?: CgroupDriver;
  /** the node's resolvers (dnsPolicy Default, and the fallback) */
  dns: DnsConfig;
  /** --cluster-dns; unset: every pod gets the node's resolvers */
  clusterDNS?: string[];
  clusterDomain?: string;
}

export const podLogDir = (root: string, pod: V1Pod): string => `${root}/${pod.metadata!.namespace}_${pod.metadata!.name}_${pod.metadata!.uid}`;

/** upstream's toRuntimeProtocol: the CRI enum by name, TCP for anything else */
const protocol = (p: string | undefined): Protocol__Output => (p === 'UDP' ? Protocol.UDP : p === 'SCTP' ? Protocol.SCTP : Protocol.TCP);

/** The DNS settings of the pod's sandbox, and warnings for DNSConfigForming/MissingClusterDNS events. */
export function sandboxDns(pod: V1Pod, ctx: SandboxContext): { config: DnsConfig; warnings: string[] } {
  if (ctx.clusterDNS === undefined) return { config: ctx.dns, warnings: [] };
  return podDnsConfigWithWarnings(pod, { clusterDNS: ctx.clusterDNS, clusterDomain: ctx.clusterDomain ?? 'cluster.local', host: ctx.dns });
}

export function sandboxConfig(pod: V1Pod, attempt: number, ctx: SandboxContext): PodSandboxConfig {
  const m = pod.metadata!;
  const spec = pod.spec!;
  const hostNetwork = spec.hostNetwork === true;
  const portMappings = hostNetwork
    ? []
    : [...(spec.initContainers ?? []), ...spec.containers].flatMap((c) =>
        (c.ports ?? [])
          .filter((p) => p.hostPort)
          .map((p) => ({ protocol: protocol(p.protocol), containerPort: p.containerPort, hostPort: p.hostPort, hostIp: p.hostIP ?? '' })),
      );
  const sysctls = Object.fromEntries((spec.securityContext?.sysctls ?? []).map((s) => [s.name, s.value]));
  return {
    metadata: { name: m.name!, uid: m.uid!, namespace: m.namespace!, attempt },
    hostname: hostNetwork ? '' : podHostname(pod),
    logDirectory: podLogDir(ctx.podLogRoot, pod),
    dnsConfig: sandboxDns(pod, ctx).config,
    portMappings,
    labels: { ...(m.labels ?? {}), [L.POD_NAME]: m.name!, [L.POD_NAMESPACE]: m.namespace!, [L.POD_UID]: m.uid!, [L.MANAGED_BY]: 'true' },
    annotations: { ...(m.annotations ?? {}), [L.TERMINATION_GRACE]: String(spec.terminationGracePeriodSeconds ?? 30) },
    linux: {
      cgroupParent: criCgroupParent(podComponents(ctx.cgroupRoot, pod), ctx.cgroupDriver ?? 'cgroupfs'),
      securityContext: sandboxSecurityContext(pod),
      sysctls,
    },
  };
}

/** A hash of the container spec: a changed spec means the running container is outdated. */
export function containerHash(c: V1Container): string {
  // resources are left out: changing them is not a reason to restart (upstream excludes them too)
  const { resources: _r, ...rest } = c;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 8);
}

/** What the kubelet resolved for one container start; absent parts fall back to the spec alone. */
export interface ContainerExtras {
  env?: { key: string; value: string }[];
  command?: string[];
  args?: string[];
  mounts?: { containerPath: string; hostPath: string; readonly: boolean; propagation?: MountPropagation__Output }[];
  /** the image reference the runtime resolved (kept in the config as the user typed it too) */
  imageRef?: string;
  imageUser?: ImageUser;
  /** node memory capacity, for the Burstable OOM score */
  memoryCapacity?: number;
  /** an ephemeral container's target: the runtime id whose process namespace it shares */
  targetId?: string;
}

export function containerConfig(pod: V1Pod, c: V1Container, attempt: number, x: ContainerExtras = {}): ContainerConfig {
  const m = pod.metadata!;
  const env = x.env ?? (c.env ?? []).filter((e) => e.value !== undefined).map((e) => ({ key: e.name, value: e.value! }));
  const resources = x.memoryCapacity !== undefined ? containerResources(pod, c, x.memoryCapacity) : {};
  const preStop = c.lifecycle?.preStop;
  return {
    metadata: { name: c.name, attempt },
    image: { image: x.imageRef ?? c.image!, userSpecifiedImage: c.image! },
    command: x.command ?? c.command ?? [],
    args: x.args ?? c.args ?? [],
    workingDir: c.workingDir ?? '',
    envs: env,
    mounts: x.mounts ?? [],
    labels: { [L.POD_NAME]: m.name!, [L.POD_NAMESPACE]: m.namespace!, [L.POD_UID]: m.uid!, [L.CONTAINER_NAME]: c.name, [L.MANAGED_BY]: 'true' },
    annotations: {
      [L.CONTAINER_HASH]: containerHash(c),
      [L.CONTAINER_RESTARTS]: String(attempt),
      [L.TERMINATION_GRACE]: String(pod.spec?.terminationGracePeriodSeconds ?? 30),
      [L.TERMINATION_MESSAGE_PATH]: c.terminationMessagePath ?? '/dev/termination-log',
      [L.TERMINATION_MESSAGE_POLICY]: c.terminationMessagePolicy ?? 'File',
      ...(preStop ? { [L.PRESTOP_HANDLER]: JSON.stringify(preStop) } : {}),
      ...(c.ports?.length ? { [L.CONTAINER_PORTS]: JSON.stringify(c.ports) } : {}),
    },
    logPath: `${c.name}/${attempt}.log`,
    stdin: c.stdin ?? false,
    stdinOnce: c.stdinOnce ?? false,
    tty: c.tty ?? false,
    linux: { resources, securityContext: containerSecurityContext(pod, c, x.imageUser ?? {}, x.targetId) },
  };
}
