// PodRuntime over CRI v1: the only file where the pod logic meets gRPC messages.
import * as grpc from '@grpc/grpc-js';
import { CriClient, CriError } from '../cri/client.ts';
import { runtimeCgroupDriver } from '../cri/cgroup-driver.ts';
import type { Image__Output as Image } from '../cri/api-types.ts';
import type { ContainerDetail, ContainerInfo, ImageInfo, PodRuntime, RuntimeHealth, SandboxInfo } from './runtime.ts';
import * as L from './labels.ts';
import { nsToDate, rfc3339 } from './runtime-values.ts';

const managed = { [L.MANAGED_BY]: 'true' };
/** the kubelet's objects, or one pod's (as upstream's GetPodStatus lists by the pod UID label) */
const selector = (uid?: string) => ({ labelSelector: uid === undefined ? managed : { ...managed, [L.POD_UID]: uid } });
const iso = (ns: unknown) => rfc3339(nsToDate(ns));
const ms = (ns: unknown) => nsToDate(ns)?.getTime() ?? 0;

const imageInfo = (i: Image): ImageInfo => ({
  id: i.id,
  size: Number(i.size ?? 0),
  pinned: !!i.pinned,
  tags: i.repoTags ?? [],
  digests: i.repoDigests ?? [],
  ...(i.uid ? { uid: Number(i.uid.value) } : {}),
  ...(i.username ? { username: i.username } : {}),
});

/**
 * At most `n` of the given calls at once; the rest wait their turn, urgent ones first (finishing a
 * pod that has its sandbox beats starting another pod's sandbox).
 */
export function gate(n: number) {
  let active = 0;
  const urgent: (() => void)[] = [];
  const normal: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>, isUrgent = false): Promise<T> => {
    if (active >= n) await new Promise<void>((r) => (isUrgent ? urgent : normal).push(r));
    else active++;
    try {
      return await fn();
    } finally {
      const next = urgent.shift() ?? normal.shift();
      if (next) next();
      else active--;
    }
  };
}

/**
 * `heavy` bounds the calls that make the runtime fork shims, runc and CNI plugins (run/stop/remove
 * sandbox, create/start container): on a small node, dozens at once only make each slower (and
 * containerd 1.6 starts failing shim starts), while a few at a time finish the first pods sooner.
 */
export function criRuntime(socket: string, o: { heavy?: number; onCall?: (what: string, phase: 'queued' | 'rpc' | 'done') => void } = {}): PodRuntime {
  const cri = new CriClient(socket, { timeoutMs: 120_000 });
  const limit = gate(o.heavy ?? 4);
  const mark = o.onCall ?? (() => undefined);
  // `what` names the call in the pod's start-up timeline: asked for, its turn came, returned
  const heavy = <T>(what: string, fn: () => Promise<T>, urgent = false) => {
    mark(what, 'queued');
    return limit(async () => {
      mark(what, 'rpc');
      const r = await fn();
      mark(what, 'done');
      return r;
    }, urgent);
  };
  // containerd 1.6 does not flag its sandbox (pause) image as pinned; its verbose status names it
  let sandboxImage: Promise<string | undefined> | undefined;
  const pause = () =>
    (sandboxImage ??= cri
      .status(true)
      .then((st) => (JSON.parse(st.info.config ?? '{}') as { sandboxImage?: string }).sandboxImage)
      .catch(() => {
        sandboxImage = undefined;
        return undefined;
      }));
  return {
    async version() {
      const v = await cri.version();
      return `${v.runtimeName}://${v.runtimeVersion}`;
    },
    async cgroupDriver() {
      return runtimeCgroupDriver((await cri.status(true)).info);
    },
    async health(): Promise<RuntimeHealth> {
      const s = await cri.status();
      const cond = (t: string) => s.status?.conditions.find((c) => c.type === t);
      const rt = cond('RuntimeReady');
      const net = cond('NetworkReady');
      const bad = [rt, net].filter((c) => !c?.status).map((c) => `${c?.type ?? 'runtime'}=false reason:${c?.reason ?? ''} message:${c?.message ?? ''}`);
      return { runtimeReady: !!rt?.status, networkReady: !!net?.status, message: bad.join('; ') || 'ok' };
    },
    async listSandboxes(uid): Promise<SandboxInfo[]> {
      const items = await cri.listPodSandbox(selector(uid));
      return items.map((s) => ({
        id: s.id,
        uid: s.labels[L.POD_UID] ?? s.metadata?.uid ?? '',
        namespace: s.metadata?.namespace ?? '',
        name: s.metadata?.name ?? '',
        attempt: s.metadata?.attempt ?? 0,
        ready: s.state === 'SANDBOX_READY',
        createdAt: ms(s.createdAt),
      }));
    },
    async listContainers(uid): Promise<ContainerInfo[]> {
      const items = await cri.listContainers(selector(uid));
      return items.map((c) => ({
        id: c.id,
        sandboxId: c.podSandboxId,
        uid: c.labels[L.POD_UID] ?? '',
        name: c.labels[L.CONTAINER_NAME] ?? c.metadata?.name ?? '',
        attempt: c.metadata?.attempt ?? 0,
        state: c.state,
        createdAt: ms(c.createdAt),
        hash: c.annotations[L.CONTAINER_HASH] ?? '',
        imageRef: c.imageRef || c.image?.image || '',
      }));
    },
    async sandboxIP(id) {
      const r = await cri.podSandboxStatus(id);
      return r.status?.network?.ip || undefined;
    },
    async containerDetail(id): Promise<ContainerDetail> {
      const r = await cri.containerStatus(id);
      const s = r.status!;
      return {
        id: s.id,
        state: s.state,
        attempt: s.metadata?.attempt ?? 0,
        exitCode: s.exitCode,
        reason: s.reason,
        message: s.message,
        createdAt: iso(s.createdAt),
        startedAt: iso(s.startedAt),
        finishedAt: iso(s.finishedAt),
        startedAtMs: ms(s.startedAt),
        finishedAtMs: ms(s.finishedAt),
        image: s.image?.image ?? '',
        imageRef: s.imageRef,
        logPath: s.logPath,
        mounts: (s.mounts ?? []).map((m) => ({ containerPath: m.containerPath, hostPath: m.hostPath ?? '' })),
        annotations: s.annotations ?? {},
      };
    },
    async runSandbox(config) {
      return heavy('sandbox', () => cri.runPodSandbox(config));
    },
    async stopSandbox(id) {
      await heavy('stopSandbox', () => cri.stopPodSandbox(id));
    },
    async removeSandbox(id) {
      await heavy('removeSandbox', () => cri.removePodSandbox(id));
    },
    async createContainer(sandboxId, config, sandboxConfig) {
      return heavy('create', () => cri.createContainer(sandboxId, config, sandboxConfig), true);
    },
    async startContainer(id) {
      await heavy('start', () => cri.startContainer(id), true);
    },
    async stopContainer(id, timeoutSec) {
      await cri.stopContainer(id, timeoutSec);
    },
    async removeContainer(id) {
      await cri.removeContainer(id);
    },
    async exec(id, cmd, timeoutSec) {
      try {
        const r = await cri.execSync(id, cmd, timeoutSec);
        return { exitCode: r.exitCode, output: Buffer.concat([r.stdout, r.stderr]).toString('utf8') };
      } catch (err) {
        if (err instanceof CriError && err.code === grpc.status.DEADLINE_EXCEEDED)
          return { exitCode: -1, output: `command ${JSON.stringify(cmd.join(' '))} timed out` };
        if (err instanceof CriError && /timeout .* exceeded|deadline exceeded/i.test(err.details))
          return { exitCode: -1, output: `command ${JSON.stringify(cmd.join(' '))} timed out` };
        throw err;
      }
    },
    async imageStatus(image) {
      const r = await cri.imageStatus(image);
      return r.image ? imageInfo(r.image) : undefined;
    },
    async pullImage(image, auth, sandboxConfig) {
      return cri.pullImage(image, auth, sandboxConfig);
    },
    async listImages() {
      const p = await pause();
      return (await cri.listImages()).map(imageInfo).map((i) => (p && i.tags.includes(p) ? { ...i, pinned: true } : i));
    },
    async removeImage(id) {
      await cri.removeImage(id);
    },
    async imageFs() {
      const r = await cri.imageFsInfo();
      const f = r.imageFilesystems[0];
      return f ? { usedBytes: Number(f.usedBytes?.value ?? 0), mountpoint: f.fsId?.mountpoint ?? '' } : undefined;
    },
  };
}
