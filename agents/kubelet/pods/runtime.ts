// The narrow view of the container runtime that the pod logic needs. cri-runtime.ts implements it
// over CRI; keeping it narrow keeps the sync logic readable and the CRI details in one place.
import type { ContainerView } from './pod-status.ts';

export interface SandboxInfo { id: string; uid: string; namespace: string; name: string; attempt: number; ready: boolean; createdAt: number }
export interface ContainerInfo { id: string; sandboxId: string; uid: string; name: string; attempt: number; state: string; createdAt: number; hash: string }
export interface RuntimeHealth { runtimeReady: boolean; networkReady: boolean; message: string }

export interface PodRuntime {
  version(): Promise<string>;
  health(): Promise<RuntimeHealth>;
  listSandboxes(): Promise<SandboxInfo[]>;
  listContainers(): Promise<ContainerInfo[]>;
  sandboxIP(id: string): Promise<string | undefined>;
  containerDetail(id: string): Promise<ContainerView>;
  runSandbox(config: object): Promise<string>;
  stopSandbox(id: string): Promise<void>;
  removeSandbox(id: string): Promise<void>;
  /** Pulls per policy; rejects with an Error whose `reason` is ErrImagePull or ErrImageNeverPull. */
  ensureImage(image: string, policy: string, sandboxConfig: object): Promise<void>;
  createContainer(sandboxId: string, config: object, sandboxConfig: object): Promise<string>;
  startContainer(id: string): Promise<void>;
  stopContainer(id: string, timeoutSec: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
}
