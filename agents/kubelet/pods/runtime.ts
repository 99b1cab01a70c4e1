// The narrow view of the container runtime that the pod logic needs. cri-runtime.ts implements it
// over CRI; keeping it narrow keeps the sync logic readable and the CRI details in one place. The
// configs are CRI's request messages (api-types.ts, generated from api.proto), built in cri-config.ts.
import type { ContainerConfig, PodSandboxConfig } from '../cri/api-types.ts';
import type { CgroupDriver } from './cgroup-plan.ts';
import type { ContainerView } from './pod-status.ts';

export interface SandboxInfo {
  id: string;
  uid: string;
  namespace: string;
  name: string;
  attempt: number;
  ready: boolean;
  createdAt: number;
}
export interface ContainerInfo {
  id: string;
  sandboxId: string;
  uid: string;
  name: string;
  attempt: number;
  state: string;
  createdAt: number;
  hash: string;
  /** the image the container runs (its resolved reference), for image GC */
  imageRef: string;
}
export interface RuntimeHealth {
  runtimeReady: boolean;
  networkReady: boolean;
  message: string;
}

export interface ContainerDetail extends ContainerView {
  startedAtMs: number;
  finishedAtMs: number;
  logPath: string;
  mounts: { containerPath: string; hostPath: string }[];
  annotations: Record<string, string>;
}

export interface ImageInfo {
  id: string;
  size: number;
  pinned: boolean;
  tags: string[];
  digests: string[];
  uid?: number;
  username?: string;
}

export interface PullAuth {
  username?: string;
  password?: string;
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

export interface PodRuntime {
  version(): Promise<string>;
  health(): Promise<RuntimeHealth>;
  /** the runtime's own cgroup driver, when its status says (containerd's SystemdCgroup) */
  cgroupDriver?(): Promise<CgroupDriver | undefined>;
  /** the kubelet's sandboxes; with `uid`, that pod's only (the runtime filters: less to encode and decode) */
  listSandboxes(uid?: string): Promise<SandboxInfo[]>;
  /** the kubelet's containers; with `uid`, that pod's only */
  listContainers(uid?: string): Promise<ContainerInfo[]>;
  sandboxIP(id: string): Promise<string | undefined>;
  containerDetail(id: string): Promise<ContainerDetail>;
  runSandbox(config: PodSandboxConfig): Promise<string>;
  stopSandbox(id: string): Promise<void>;
  removeSandbox(id: string): Promise<void>;
  createContainer(sandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** a container the runtime does not have rejects with an error isNotFound (cri/client.ts) accepts */
  stopContainer(id: string, timeoutSec: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  /** stdout and stderr together; a runtime timeout is a non-zero exit with upstream's message */
  exec(id: string, cmd: string[], timeoutSec: number): Promise<{ exitCode: number; output: string }>;
  /** undefined when the runtime does not have the image */
  imageStatus(image: string): Promise<ImageInfo | undefined>;
  pullImage(image: string, auth: PullAuth | undefined, sandboxConfig: PodSandboxConfig): Promise<string>;
  listImages(): Promise<ImageInfo[]>;
  removeImage(id: string): Promise<void>;
  /** bytes used on the image filesystem and where it is mounted */
  imageFs(): Promise<{ usedBytes: number; mountpoint: string } | undefined>;
}
