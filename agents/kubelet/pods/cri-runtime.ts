// PodRuntime over CRI v1: the only file where the pod logic meets gRPC messages.
import { CriClient } from '../cri/client.ts';
import type { ContainerView } from './pod-status.ts';
import type { ContainerInfo, PodRuntime, RuntimeHealth, SandboxInfo } from './runtime.ts';
import * as L from './labels.ts';
import { nsToDate, rfc3339 } from './runtime-values.ts';

const managed = { [L.MANAGED_BY]: 'true' };
const iso = (ns: unknown) => rfc3339(nsToDate(ns));
const ms = (ns: unknown) => nsToDate(ns)?.getTime() ?? 0;

class ImageError extends Error { constructor(readonly reason: string, msg: string) { super(msg); } }

export function criRuntime(socket: string): PodRuntime {
  const cri = new CriClient(socket, { timeoutMs: 120_000 });
  return {
    async version() {
      const v = await cri.version();
      return `${v.runtimeName}://${v.runtimeVersion}`;
    },
    async health(): Promise<RuntimeHealth> {
      const s = await cri.status();
      const cond = (t: string) => s.status?.conditions.find((c) => c.type === t);
      const rt = cond('RuntimeReady');
      const net = cond('NetworkReady');
      const bad = [rt, net].filter((c) => !c?.status).map((c) => `${c?.type ?? 'runtime'}=false reason:${c?.reason ?? ''} message:${c?.message ?? ''}`);
      return { runtimeReady: !!rt?.status, networkReady: !!net?.status, message: bad.join('; ') || 'ok' };
    },
    async listSandboxes(): Promise<SandboxInfo[]> {
      const items = await cri.listPodSandbox({ labelSelector: managed });
      return items.map((s) => ({
        id: s.id, uid: s.labels[L.POD_UID] ?? s.metadata?.uid ?? '', namespace: s.metadata?.namespace ?? '',
        name: s.metadata?.name ?? '', attempt: s.metadata?.attempt ?? 0, ready: s.state === 'SANDBOX_READY', createdAt: ms(s.createdAt),
      }));
    },
    async listContainers(): Promise<ContainerInfo[]> {
      const items = await cri.listContainers({ labelSelector: managed });
      return items.map((c) => ({
        id: c.id, sandboxId: c.podSandboxId, uid: c.labels[L.POD_UID] ?? '', name: c.labels[L.CONTAINER_NAME] ?? c.metadata?.name ?? '',
        attempt: c.metadata?.attempt ?? 0, state: c.state, createdAt: ms(c.createdAt), hash: c.annotations[L.CONTAINER_HASH] ?? '',
      }));
    },
    async sandboxIP(id) {
      const r = await cri.podSandboxStatus(id);
      return r.status?.network?.ip || undefined;
    },
    async containerDetail(id): Promise<ContainerView> {
      const r = await cri.containerStatus(id);
      const s = r.status!;
      return {
        id: s.id, state: s.state, attempt: s.metadata?.attempt ?? 0, exitCode: s.exitCode, reason: s.reason, message: s.message,
        createdAt: iso(s.createdAt), startedAt: iso(s.startedAt), finishedAt: iso(s.finishedAt),
        image: s.image?.image ?? '', imageRef: s.imageRef,
      };
    },
    async runSandbox(config) { return cri.runPodSandbox(config as never); },
    async stopSandbox(id) { await cri.stopPodSandbox(id); },
    async removeSandbox(id) { await cri.removePodSandbox(id); },
    async ensureImage(image, policy, sandboxConfig) {
      const present = policy === 'Always' ? false : !!(await cri.imageStatus(image)).image;
      if (present) return;
      if (policy === 'Never') throw new ImageError('ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`);
      try {
        await cri.pullImage(image, undefined, sandboxConfig as never);
      } catch (err) {
        throw new ImageError('ErrImagePull', `failed to pull image "${image}": ${(err as Error).message}`);
      }
    },
    async createContainer(sandboxId, config, sandboxConfig) { return cri.createContainer(sandboxId, config as never, sandboxConfig as never); },
    async startContainer(id) { await cri.startContainer(id); },
    async stopContainer(id, timeoutSec) { await cri.stopContainer(id, timeoutSec); },
    async removeContainer(id) { await cri.removeContainer(id); },
  };
}
