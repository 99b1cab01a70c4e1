// Pure builders for the Node object and its status, from host facts and runtime health.
import type { V1Node, V1NodeCondition } from '@kubernetes/client-node';
import type { Wire } from '../../api/wire.ts';
import type { HostFacts } from './facts.ts';
import { reserveOf, type Thresholds } from './pressure.ts';

export const KUBELET_VERSION = 'v1.35.0-hawser';

export interface NodeSpecInput {
  name: string;
  nodeIP: string;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
  facts: HostFacts;
  runtimeVersion: string; // e.g. containerd://1.6.20
  maxPods: number;
  /** --system-reserved plus --kube-reserved */
  reserved: { cpuMillis: number; memoryBytes: number; ephemeralStorageBytes?: number };
  /** --eviction-hard: what it keeps back is not allocatable either */
  evictionHard?: Thresholds;
  kubeletPort: number;
}

export interface NodeExtras {
  pressure?: { memory: boolean; disk: boolean; pid: boolean };
  images?: { names: string[]; sizeBytes: number }[];
}

/** At most 50 images, the largest first, as the kubelet reports them (nodeStatusMaxImages). */
export function nodeImages(images: { tags: string[]; digests: string[]; size: number }[]): { names: string[]; sizeBytes: number }[] {
  return [...images]
    .sort((a, b) => b.size - a.size)
    .slice(0, 50)
    .map((i) => ({ names: [...i.digests, ...i.tags], sizeBytes: i.size }))
    .filter((i) => i.names.length > 0);
}

export function baseLabels(i: NodeSpecInput): Record<string, string> {
  return {
    'kubernetes.io/hostname': i.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': i.facts.architecture,
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': i.facts.architecture,
    ...i.labels,
  };
}

export function resources(i: NodeSpecInput): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  const kib = (b: number) => `${Math.floor(b / 1024)}Ki`;
  const capacity = {
    cpu: String(i.facts.cpus),
    memory: kib(i.facts.memoryBytes),
    'ephemeral-storage': kib(i.facts.ephemeralStorageBytes),
    pods: String(i.maxPods),
    'hugepages-2Mi': '0',
  };
  const evictMem = reserveOf(i.evictionHard?.['memory.available'], i.facts.memoryBytes);
  const evictDisk = reserveOf(i.evictionHard?.['nodefs.available'], i.facts.ephemeralStorageBytes);
  const allocatable = {
    ...capacity,
    cpu: `${Math.max(0, i.facts.cpus * 1000 - i.reserved.cpuMillis)}m`,
    memory: kib(Math.max(0, i.facts.memoryBytes - i.reserved.memoryBytes - evictMem)),
    'ephemeral-storage': kib(Math.max(0, i.facts.ephemeralStorageBytes - (i.reserved.ephemeralStorageBytes ?? 0) - evictDisk)),
  };
  return { capacity, allocatable };
}

export interface Health {
  runtimeReady: boolean;
  networkReady: boolean;
  message: string;
}

export function conditions(
  h: Health,
  now: string,
  previous: Wire<V1NodeCondition>[] = [],
  p = { memory: false, disk: false, pid: false },
): Wire<V1NodeCondition>[] {
  const ready = h.runtimeReady && h.networkReady;
  const want: Omit<V1NodeCondition, 'lastHeartbeatTime' | 'lastTransitionTime'>[] = [
    p.memory
      ? { type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'kubelet has insufficient memory available' }
      : { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
    p.disk
      ? { type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' }
      : { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
    p.pid
      ? { type: 'PIDPressure', status: 'True', reason: 'KubeletHasInsufficientPID', message: 'kubelet has insufficient PID available' }
      : { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
    ready
      ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
      : { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: h.message },
  ];
  return want.map((c) => {
    const prev = previous.find((p) => p.type === c.type);
    const transition = prev && prev.status === c.status ? prev.lastTransitionTime : now;
    return { ...c, lastHeartbeatTime: now, lastTransitionTime: transition };
  });
}

export function nodeStatus(i: NodeSpecInput, h: Health, now: string, previous: Wire<V1NodeCondition>[] = [], x: NodeExtras = {}): Wire<V1Node>['status'] {
  const f = i.facts;
  return {
    ...resources(i),
    conditions: conditions(h, now, previous, x.pressure),
    ...(x.images ? { images: x.images } : {}),
    addresses: [
      { type: 'InternalIP', address: i.nodeIP },
      { type: 'Hostname', address: i.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: i.kubeletPort } },
    nodeInfo: {
      machineID: f.machineID,
      systemUUID: f.systemUUID,
      bootID: f.bootID,
      kernelVersion: f.kernelVersion,
      osImage: f.osImage,
      containerRuntimeVersion: i.runtimeVersion,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: f.architecture,
    },
  };
}

export function nodeObject(i: NodeSpecInput, h: Health, now: string): Wire<V1Node> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: i.name, labels: baseLabels(i), annotations: { 'node.alpha.kubernetes.io/ttl': '0' } },
    spec: i.taints.length ? { taints: i.taints } : {},
    status: nodeStatus(i, h, now),
  };
}
