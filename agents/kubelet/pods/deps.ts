// What the pod worker's parts share: the runtime, the API, the managers, the node facts, and how
// a pod's Secrets, ConfigMaps and Services are read (from the kubelet's informer caches).
import type { V1ConfigMap, V1Pod, V1PodStatus, V1Secret, V1Service } from '@kubernetes/client-node';
import type { ApiClient } from '../../api/client.ts';
import type { Wire } from '../../api/wire.ts';
import type { Logger } from '../../api/log.ts';
import type { ImageManager } from '../images/image-manager.ts';
import type { ProbeManager } from '../probes/probe-manager.ts';
import type { VolumeManager } from '../volumes/volume-manager.ts';
import type { SandboxContext } from './cri-config.ts';
import type { NodeAllocatable } from './env.ts';
import type { EventRecorder } from './events.ts';
import type { PodCgroups } from './pod-cgroups.ts';
import type { PodRuntime } from './runtime.ts';

export interface SyncContext extends SandboxContext {
  nodeName: string;
  nodeIP: string;
  rootDir: string;
  clusterDomain?: string;
  memoryCapacity: number;
  allocatable(): NodeAllocatable;
  /** the node's /etc/hosts, for hostNetwork pods */
  nodeHostsFile(): string;
}

export interface ObjectSource {
  configMap(namespace: string, name: string): V1ConfigMap | undefined;
  secret(namespace: string, name: string): V1Secret | undefined;
  services(): V1Service[];
}

export interface PodDeps {
  rt: PodRuntime;
  api: ApiClient;
  events: EventRecorder;
  images: ImageManager;
  volumes: VolumeManager;
  probes: ProbeManager;
  cgroups: PodCgroups;
  objects: ObjectSource;
  ctx: SyncContext;
  log: Logger;
  /** writes the status where the pod's status lives (the mirror pod of a static pod); false: nowhere yet */
  writeStatus(pod: V1Pod, status: Wire<V1PodStatus>): Promise<boolean>;
}

/** Secret data decoded to strings, as env vars see it. */
export function decodedSecret(s: V1Secret | undefined): Record<string, string> | undefined {
  if (!s) return undefined;
  return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}
