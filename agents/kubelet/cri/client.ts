// A typed CRI v1 client over gRPC on a unix socket: one promise-returning method per RPC, a deadline
// on every call, and errors that carry the gRPC status code and the runtime's message.
import * as grpc from '@grpc/grpc-js';
import { resolve } from 'node:path';
import { loadCriServices } from './proto.ts';
import type * as T from './types.ts';

export interface CriClientOptions {
  /** Deadline of quick calls (status, list, exec setup). Default 10 s; a local socket answers in ms. */
  timeoutMs?: number;
  /**
   * Deadline of calls that do real work in the runtime (run/stop/remove sandbox, create/start/remove
   * container: mounts, CNI, shims). Default max(timeoutMs, 2 min), upstream kubelet's runtime timeout.
   */
  slowTimeoutMs?: number;
  /** Deadline of PullImage, which downloads. Default 5 min. */
  pullTimeoutMs?: number;
}

/** A failed CRI call: `code` is the gRPC status (grpc.status.NOT_FOUND, ...). */
export class CriError extends Error {
  constructor(
    readonly rpc: string,
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(`CRI ${rpc} failed: ${grpc.status[code] ?? 'UNKNOWN'} (${code}): ${details}`);
    this.name = 'CriError';
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof CriError && e.code === grpc.status.NOT_FOUND;

// ExecSync may return up to 16 MiB of stdout plus 16 MiB of stderr (CRI caps each).
const MAX_MESSAGE = 40 * 1024 * 1024;

type Unary = (req: object, meta: grpc.Metadata, opts: grpc.CallOptions, cb: grpc.requestCallback<unknown>) => void;

export class CriClient {
  private readonly channel: grpc.Channel;
  private readonly runtime: grpc.Client;
  private readonly images: grpc.Client;
  private readonly timeoutMs: number;
  private readonly pullTimeoutMs: number;
  private readonly slowTimeoutMs: number;

  constructor(socketPath: string, opts: CriClientOptions = {}) {
    const { RuntimeService, ImageService } = loadCriServices();
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.pullTimeoutMs = opts.pullTimeoutMs ?? 300_000;
    this.slowTimeoutMs = opts.slowTimeoutMs ?? Math.max(this.timeoutMs, 120_000);
    const target = `unix://${resolve(socketPath)}`;
    const options = { 'grpc.max_receive_message_length': MAX_MESSAGE, 'grpc.max_send_message_length': MAX_MESSAGE };
    const creds = grpc.credentials.createInsecure();
    // one connection for both services
    this.channel = new grpc.Channel(target, creds, options);
    this.runtime = new RuntimeService(target, creds, { ...options, channelOverride: this.channel });
    this.images = new ImageService(target, creds, { ...options, channelOverride: this.channel });
  }

  close(): void {
    this.runtime.close();
    this.images.close();
    this.channel.close();
  }

  private call<R>(client: grpc.Client, rpc: string, req: object, timeoutMs = this.timeoutMs): Promise<R> {
    const method = (client as unknown as Record<string, Unary>)[rpc];
    if (typeof method !== 'function') return Promise.reject(new Error(`CRI method ${rpc} is not in the loaded schema`));
    return new Promise<R>((resolvePromise, reject) => {
      const deadline = new Date(Date.now() + timeoutMs);
      method.call(client, req, new grpc.Metadata(), { deadline }, (err, res) => {
        if (err) reject(new CriError(rpc, (err as grpc.ServiceError).code ?? grpc.status.UNKNOWN, (err as grpc.ServiceError).details ?? err.message));
        else resolvePromise(res as R);
      });
    });
  }

  private rt<R>(rpc: string, req: object, timeoutMs?: number): Promise<R> {
    return this.call<R>(this.runtime, rpc, req, timeoutMs);
  }

  private img<R>(rpc: string, req: object, timeoutMs?: number): Promise<R> {
    return this.call<R>(this.images, rpc, req, timeoutMs);
  }

  // ---- runtime ----
  version(): Promise<T.VersionResponse> {
    return this.rt('Version', { version: 'v1' });
  }

  status(verbose = false): Promise<T.StatusResponse> {
    return this.rt('Status', { verbose });
  }

  async updateRuntimeConfig(podCidr: string): Promise<void> {
    await this.rt('UpdateRuntimeConfig', { runtimeConfig: { networkConfig: { podCidr } } });
  }

  // ---- sandboxes ----
  async runPodSandbox(config: T.PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    // image pull of the sandbox image and CNI ADD happen inside this call
    const res = await this.rt<{ podSandboxId: string }>('RunPodSandbox', { config, runtimeHandler }, this.slowTimeoutMs);
    return res.podSandboxId;
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    await this.rt('StopPodSandbox', { podSandboxId }, this.slowTimeoutMs);
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    await this.rt('RemovePodSandbox', { podSandboxId }, this.slowTimeoutMs);
  }

  podSandboxStatus(podSandboxId: string, verbose = false): Promise<T.PodSandboxStatusResponse> {
    return this.rt('PodSandboxStatus', { podSandboxId, verbose });
  }

  async listPodSandbox(filter?: T.PodSandboxFilter): Promise<T.PodSandbox[]> {
    const res = await this.rt<{ items: T.PodSandbox[] }>('ListPodSandbox', { filter: filter ?? null });
    return res.items;
  }

  // ---- containers ----
  async createContainer(podSandboxId: string, config: T.ContainerConfig, sandboxConfig: T.PodSandboxConfig): Promise<string> {
    const res = await this.rt<{ containerId: string }>('CreateContainer', { podSandboxId, config, sandboxConfig }, this.slowTimeoutMs);
    return res.containerId;
  }

  async startContainer(containerId: string): Promise<void> {
    await this.rt('StartContainer', { containerId }, this.slowTimeoutMs);
  }

  /** timeoutSec is the grace period before the runtime kills; the call waits for it. */
  async stopContainer(containerId: string, timeoutSec: number): Promise<void> {
    await this.rt('StopContainer', { containerId, timeout: timeoutSec }, timeoutSec * 1000 + this.timeoutMs);
  }

  async removeContainer(containerId: string): Promise<void> {
    await this.rt('RemoveContainer', { containerId }, this.slowTimeoutMs);
  }

  async listContainers(filter?: T.ContainerFilter): Promise<T.Container[]> {
    const res = await this.rt<{ containers: T.Container[] }>('ListContainers', { filter: filter ?? null });
    return res.containers;
  }

  containerStatus(containerId: string, verbose = false): Promise<T.ContainerStatusResponse> {
    return this.rt('ContainerStatus', { containerId, verbose });
  }

  async updateContainerResources(containerId: string, linux: T.LinuxContainerResources): Promise<void> {
    await this.rt('UpdateContainerResources', { containerId, linux });
  }

  async reopenContainerLog(containerId: string): Promise<void> {
    await this.rt('ReopenContainerLog', { containerId });
  }

  /** timeoutSec 0 means the runtime sets no limit; the call's own deadline still applies. */
  execSync(containerId: string, cmd: string[], timeoutSec: number): Promise<T.ExecSyncResponse> {
    return this.rt('ExecSync', { containerId, cmd, timeout: timeoutSec }, timeoutSec * 1000 + this.timeoutMs);
  }

  // ---- streaming: these return a URL on the runtime's streaming server ----
  async exec(req: T.ExecRequest): Promise<string> {
    return (await this.rt<{ url: string }>('Exec', req)).url;
  }

  async attach(req: T.AttachRequest): Promise<string> {
    return (await this.rt<{ url: string }>('Attach', req)).url;
  }

  async portForward(podSandboxId: string, ports: number[]): Promise<string> {
    return (await this.rt<{ url: string }>('PortForward', { podSandboxId, port: ports })).url;
  }

  // ---- stats ----
  async containerStats(containerId: string): Promise<T.ContainerStats | null> {
    return (await this.rt<{ stats: T.ContainerStats | null }>('ContainerStats', { containerId })).stats;
  }

  async listContainerStats(filter?: T.ContainerStatsFilter): Promise<T.ContainerStats[]> {
    return (await this.rt<{ stats: T.ContainerStats[] }>('ListContainerStats', { filter: filter ?? null })).stats;
  }

  // ---- images ----
  async pullImage(image: string, auth?: T.AuthConfig, sandboxConfig?: T.PodSandboxConfig): Promise<string> {
    const req = { image: { image }, auth: auth ?? null, sandboxConfig: sandboxConfig ?? null };
    return (await this.img<{ imageRef: string }>('PullImage', req, this.pullTimeoutMs)).imageRef;
  }

  /** `image` is null when the runtime does not have it (not an error, as in CRI). */
  imageStatus(image: string, verbose = false): Promise<T.ImageStatusResponse> {
    return this.img('ImageStatus', { image: { image }, verbose });
  }

  async listImages(filter?: { image?: string }): Promise<T.Image[]> {
    const req = { filter: filter?.image ? { image: { image: filter.image } } : null };
    return (await this.img<{ images: T.Image[] }>('ListImages', req)).images;
  }

  async removeImage(image: string): Promise<void> {
    await this.img('RemoveImage', { image: { image } });
  }

  imageFsInfo(): Promise<T.ImageFsInfoResponse> {
    return this.img('ImageFsInfo', {});
  }
}
