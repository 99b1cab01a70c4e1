// A typed CRI v1 client over gRPC on a unix socket: one promise-returning method per RPC, a deadline
// on every call, and errors that carry the gRPC status code and the runtime's message.
import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import { resolve } from 'node:path';
import type * as T from './api-types.ts';
import { loadCriServices } from './proto.ts';

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

/**
 * The runtime has no such container, sandbox or image: gRPC NOT_FOUND (5), which every CRI runtime
 * returns for a missing object, whatever its message says. The one test for "gone" in the kubelet.
 */
export const isNotFound = (e: unknown): boolean => e instanceof CriError && e.code === grpc.status.NOT_FOUND;

// ExecSync may return up to 16 MiB of stdout plus 16 MiB of stderr (CRI caps each).
const MAX_MESSAGE = 40 * 1024 * 1024;

type Unary<Req, Res> = (req: Req, meta: grpc.Metadata, opts: grpc.CallOptions, cb: grpc.requestCallback<Res>) => void;
/** The RPC names of a generated service definition (without grpc.ServiceDefinition's index signature). */
type Rpc<D> = keyof { [K in keyof D as string extends K ? never : K]: D[K] } & string;
/** What an RPC takes (names or numbers for enums) and what it returns (every field present, enums as names). */
type In<M> = M extends MethodDefinition<infer I, infer _O, infer _I2, infer _O2> ? I : never;
type Out<M> = M extends MethodDefinition<infer _I, infer _O, infer _I2, infer O2> ? O2 : never;
type Runtime = T.RuntimeServiceDefinition;
type Images = T.ImageServiceDefinition;

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

  private call<D, K extends Rpc<D>>(client: grpc.Client, rpc: K, req: In<D[K]>, timeoutMs = this.timeoutMs): Promise<Out<D[K]>> {
    // the one dynamic step: grpc-js adds a method per RPC of the loaded schema to the client
    const method = (client as unknown as Record<string, Unary<In<D[K]>, Out<D[K]>> | undefined>)[rpc];
    if (typeof method !== 'function') return Promise.reject(new Error(`CRI method ${rpc} is not in the loaded schema`));
    return new Promise<Out<D[K]>>((resolvePromise, reject) => {
      const deadline = new Date(Date.now() + timeoutMs);
      method.call(client, req, new grpc.Metadata(), { deadline }, (err, res) => {
        if (err) reject(new CriError(rpc, err.code ?? grpc.status.UNKNOWN, err.details ?? err.message));
        else resolvePromise(res!);
      });
    });
  }

  private rt<K extends Rpc<Runtime>>(rpc: K, req: In<Runtime[K]>, timeoutMs?: number): Promise<Out<Runtime[K]>> {
    return this.call<Runtime, K>(this.runtime, rpc, req, timeoutMs);
  }

  private img<K extends Rpc<Images>>(rpc: K, req: In<Images[K]>, timeoutMs?: number): Promise<Out<Images[K]>> {
    return this.call<Images, K>(this.images, rpc, req, timeoutMs);
  }

  // ---- runtime ----
  version(): Promise<T.VersionResponse__Output> {
    return this.rt('Version', { version: 'v1' });
  }

  status(verbose = false): Promise<T.StatusResponse__Output> {
    return this.rt('Status', { verbose });
  }

  async updateRuntimeConfig(podCidr: string): Promise<void> {
    await this.rt('UpdateRuntimeConfig', { runtimeConfig: { networkConfig: { podCidr } } });
  }

  // ---- sandboxes ----
  async runPodSandbox(config: T.PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    // image pull of the sandbox image and CNI ADD happen inside this call
    const res = await this.rt('RunPodSandbox', { config, runtimeHandler }, this.slowTimeoutMs);
    return res.podSandboxId;
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    await this.rt('StopPodSandbox', { podSandboxId }, this.slowTimeoutMs);
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    await this.rt('RemovePodSandbox', { podSandboxId }, this.slowTimeoutMs);
  }

  podSandboxStatus(podSandboxId: string, verbose = false): Promise<T.PodSandboxStatusResponse__Output> {
    return this.rt('PodSandboxStatus', { podSandboxId, verbose });
  }

  async listPodSandbox(filter?: T.PodSandboxFilter): Promise<T.PodSandbox__Output[]> {
    const res = await this.rt('ListPodSandbox', { filter: filter ?? null });
    return res.items;
  }

  // ---- containers ----
  async createContainer(podSandboxId: string, config: T.ContainerConfig, sandboxConfig: T.PodSandboxConfig): Promise<string> {
    const res = await this.rt('CreateContainer', { podSandboxId, config, sandboxConfig }, this.slowTimeoutMs);
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

  async listContainers(filter?: T.ContainerFilter): Promise<T.Container__Output[]> {
    const res = await this.rt('ListContainers', { filter: filter ?? null });
    return res.containers;
  }

  containerStatus(containerId: string, verbose = false): Promise<T.ContainerStatusResponse__Output> {
    return this.rt('ContainerStatus', { containerId, verbose });
  }

  async updateContainerResources(containerId: string, linux: T.LinuxContainerResources): Promise<void> {
    await this.rt('UpdateContainerResources', { containerId, linux });
  }

  async reopenContainerLog(containerId: string): Promise<void> {
    await this.rt('ReopenContainerLog', { containerId });
  }

  /** timeoutSec 0 means the runtime sets no limit; the call's own deadline still applies. */
  execSync(containerId: string, cmd: string[], timeoutSec: number): Promise<T.ExecSyncResponse__Output> {
    return this.rt('ExecSync', { containerId, cmd, timeout: timeoutSec }, timeoutSec * 1000 + this.timeoutMs);
  }

  // ---- streaming: these return a URL on the runtime's streaming server ----
  async exec(req: T.ExecRequest): Promise<string> {
    return (await this.rt('Exec', req)).url;
  }

  async attach(req: T.AttachRequest): Promise<string> {
    return (await this.rt('Attach', req)).url;
  }

  async portForward(podSandboxId: string, ports: number[]): Promise<string> {
    return (await this.rt('PortForward', { podSandboxId, port: ports })).url;
  }

  // ---- stats ----
  async containerStats(containerId: string): Promise<T.ContainerStats__Output | null> {
    return (await this.rt('ContainerStats', { containerId })).stats;
  }

  async listContainerStats(filter?: T.ContainerStatsFilter): Promise<T.ContainerStats__Output[]> {
    return (await this.rt('ListContainerStats', { filter: filter ?? null })).stats;
  }

  // ---- images ----
  async pullImage(image: string, auth?: T.AuthConfig, sandboxConfig?: T.PodSandboxConfig): Promise<string> {
    const req = { image: { image }, auth: auth ?? null, sandboxConfig: sandboxConfig ?? null };
    return (await this.img('PullImage', req, this.pullTimeoutMs)).imageRef;
  }

  /** `image` is null when the runtime does not have it (not an error, as in CRI). */
  imageStatus(image: string, verbose = false): Promise<T.ImageStatusResponse__Output> {
    return this.img('ImageStatus', { image: { image }, verbose });
  }

  async listImages(filter?: { image?: string }): Promise<T.Image__Output[]> {
    const req = { filter: filter?.image ? { image: { image: filter.image } } : null };
    return (await this.img('ListImages', req)).images;
  }

  async removeImage(image: string): Promise<void> {
    await this.img('RemoveImage', { image: { image } });
  }

  imageFsInfo(): Promise<T.ImageFsInfoResponse__Output> {
    return this.img('ImageFsInfo', {});
  }
}
