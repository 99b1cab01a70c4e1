// One reconcile pass for one pod: make the runtime match the pod's spec (sandbox, then its
// containers, restarting per restartPolicy with back-off), or tear it down when the pod is being
// deleted or is gone; then report what the runtime shows as the pod's status.
import type { V1Pod } from '@kubernetes/client-node';
import { ApiClient, isNotFound, ApiError } from '../../api/client.ts';
import { core } from '../../api/paths.ts';
import type { Logger } from '../../api/log.ts';
import { Backoff } from './backoff.ts';
import { containerConfig, sandboxConfig, type SandboxContext } from './cri-config.ts';
import { podStatus, type ContainerView, type RuntimeView } from './pod-status.ts';
import type { ContainerInfo, PodRuntime, SandboxInfo } from './runtime.ts';
import { rfc3339 } from './runtime-values.ts';

export interface SyncContext extends SandboxContext { nodeName: string; nodeIP: string }

const byAttemptDesc = <T extends { attempt: number; createdAt: number }>(a: T, b: T) => b.attempt - a.attempt || b.createdAt - a.createdAt;

export class PodSync {
  private backoff = new Backoff();
  private pullBackoff = new Backoff(10_000, 300_000);
  private lastSent = new Map<string, string>();

  constructor(private rt: PodRuntime, private api: ApiClient, private ctx: SyncContext, private log: Logger) {}

  /** Returns milliseconds after which the pod wants another pass (a back-off expiring), if any. */
  async sync(uid: string, pod: V1Pod | undefined): Promise<number | undefined> {
    const sandboxes = (await this.rt.listSandboxes()).filter((s) => s.uid === uid).sort(byAttemptDesc);
    const containers = (await this.rt.listContainers()).filter((c) => c.uid === uid);
    if (!pod) {
      await this.teardown(sandboxes, containers, 2);
      this.forget(uid);
      return undefined;
    }
    if (pod.metadata?.deletionTimestamp) {
      await this.teardown(sandboxes, containers, pod.metadata.deletionGracePeriodSeconds ?? 30);
      await this.finishDeletion(pod);
      this.forget(uid);
      return undefined;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      // terminal pods keep their containers for logs, but their sandbox's network is released
      for (const s of sandboxes.filter((x) => x.ready)) await this.rt.stopSandbox(s.id);
      return undefined;
    }
    const waiting = new Map<string, { reason: string; message?: string }>();
    let requeue: number | undefined;
    const sb = await this.ensureSandbox(pod, sandboxes, containers);
    const sbCfg = sandboxConfig(pod, sb.attempt, this.ctx);
    const mine = containers.filter((c) => c.sandboxId === sb.id);
    for (const c of pod.spec!.containers) {
      const history = containers.filter((x) => x.name === c.name).sort(byAttemptDesc);
      const latest = mine.filter((x) => x.name === c.name).sort(byAttemptDesc)[0];
      const wait = await this.ensureContainer(pod, c.name, sb, sbCfg, latest, history);
      if (wait) {
        waiting.set(c.name, wait.state);
        if (wait.retryMs) requeue = Math.min(requeue ?? Infinity, wait.retryMs);
      }
    }
    await this.report(pod, sb, waiting);
    return requeue;
  }

  private async ensureSandbox(pod: V1Pod, sandboxes: SandboxInfo[], containers: ContainerInfo[]): Promise<SandboxInfo> {
    const ready = sandboxes.find((s) => s.ready);
    if (ready) return ready;
    // none ready: the old ones (if any) are dead; clear them out and start a fresh attempt
    await this.teardown(sandboxes, containers, 0);
    const attempt = sandboxes.length ? sandboxes[0].attempt + 1 : 0;
    const id = await this.rt.runSandbox(sandboxConfig(pod, attempt, this.ctx));
    this.log.info({ pod: `${pod.metadata!.namespace}/${pod.metadata!.name}`, sandbox: id.slice(0, 12), attempt }, 'sandbox started');
    const m = pod.metadata!;
    return { id, uid: m.uid!, namespace: m.namespace!, name: m.name!, attempt, ready: true, createdAt: Date.now() };
  }

  private async ensureContainer(pod: V1Pod, name: string, sb: SandboxInfo, sbCfg: object, latest: ContainerInfo | undefined,
    history: ContainerInfo[]): Promise<{ state: { reason: string; message?: string }; retryMs?: number } | undefined> {
    const spec = pod.spec!.containers.find((c) => c.name === name)!;
    const key = `${pod.metadata!.uid}/${name}`;
    if (latest?.state === 'CONTAINER_RUNNING') return undefined;
    if (latest?.state === 'CONTAINER_CREATED') { await this.rt.startContainer(latest.id); return undefined; }
    let attempt = history.length ? history[0].attempt + 1 : 0;
    if (latest?.state === 'CONTAINER_EXITED' || latest?.state === 'CONTAINER_UNKNOWN') {
      const detail = await this.rt.containerDetail(latest.id);
      const policy = pod.spec!.restartPolicy ?? 'Always';
      if (policy === 'Never' || (policy === 'OnFailure' && detail.exitCode === 0)) return undefined;
      const left = this.backoff.remaining(key);
      if (left > 0) {
        return {
          state: { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(this.backoff.current(key) / 1000)}s restarting failed container=${name} pod=${pod.metadata!.name}_${pod.metadata!.namespace}(${pod.metadata!.uid})` },
          retryMs: left,
        };
      }
      this.backoff.next(key);
      attempt = latest.attempt + 1;
      // keep only the latest exited attempt (for `logs --previous`); older ones go
      for (const old of history.filter((h) => h.id !== latest.id && h.state !== 'CONTAINER_RUNNING')) {
        await this.rt.removeContainer(old.id).catch(() => undefined);
      }
    }
    const pullKey = `${key}/pull`;
    const pullLeft = this.pullBackoff.remaining(pullKey);
    if (pullLeft > 0) {
      return { state: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${spec.image}"` }, retryMs: pullLeft };
    }
    try {
      await this.rt.ensureImage(spec.image!, spec.imagePullPolicy ?? 'IfNotPresent', sbCfg);
      this.pullBackoff.forget(pullKey);
    } catch (err) {
      this.pullBackoff.next(pullKey);
      const reason = (err as { reason?: string }).reason ?? 'ErrImagePull';
      return { state: { reason, message: (err as Error).message }, retryMs: this.pullBackoff.remaining(pullKey) };
    }
    let id: string;
    try {
      id = await this.rt.createContainer(sb.id, containerConfig(pod, spec, attempt), sbCfg);
    } catch (err) {
      return { state: { reason: 'CreateContainerError', message: (err as Error).message }, retryMs: 10_000 };
    }
    await this.rt.startContainer(id);
    this.log.info({ pod: `${pod.metadata!.namespace}/${pod.metadata!.name}`, container: name, id: id.slice(0, 12), attempt }, 'container started');
    return undefined;
  }

  private async report(pod: V1Pod, sb: SandboxInfo, waiting: Map<string, { reason: string; message?: string }>): Promise<void> {
    const all = (await this.rt.listContainers()).filter((c) => c.uid === pod.metadata!.uid);
    const view: RuntimeView = { sandboxReady: true, podIP: await this.rt.sandboxIP(sb.id), containers: new Map(), previous: new Map(), waiting };
    for (const c of pod.spec!.containers) {
      const [latest, prev] = all.filter((x) => x.name === c.name).sort(byAttemptDesc);
      if (latest) view.containers.set(c.name, await this.detail(latest));
      if (prev) view.previous.set(c.name, await this.detail(prev));
    }
    const status = podStatus(pod, view, this.ctx.nodeIP, rfc3339(new Date())!);
    await this.sendStatus(pod, status);
  }

  private async detail(c: ContainerInfo): Promise<ContainerView> {
    return { ...(await this.rt.containerDetail(c.id)), attempt: c.attempt };
  }

  private async sendStatus(pod: V1Pod, status: object): Promise<void> {
    const uid = pod.metadata!.uid!;
    const fingerprint = JSON.stringify(status, (k, v) => (k === 'lastTransitionTime' || k === 'startTime' ? undefined : v));
    if (this.lastSent.get(uid) === fingerprint) return;
    try {
      await this.api.patch(core('pods', pod.metadata!.namespace, pod.metadata!.name, 'status'), { status }, 'merge');
      this.lastSent.set(uid, fingerprint);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async teardown(sandboxes: SandboxInfo[], containers: ContainerInfo[], graceSec: number): Promise<void> {
    await Promise.all(containers.filter((c) => c.state === 'CONTAINER_RUNNING').map((c) => this.rt.stopContainer(c.id, graceSec)));
    for (const s of sandboxes) {
      await this.rt.stopSandbox(s.id);
      await this.rt.removeSandbox(s.id);
    }
  }

  private async finishDeletion(pod: V1Pod): Promise<void> {
    try {
      await this.api.delete(core('pods', pod.metadata!.namespace, pod.metadata!.name), {
        apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: pod.metadata!.uid },
      });
      this.log.info({ pod: `${pod.metadata!.namespace}/${pod.metadata!.name}` }, 'pod terminated and deleted');
    } catch (err) {
      if (!isNotFound(err) && !(err instanceof ApiError && err.code === 409)) throw err;
    }
  }

  private forget(uid: string): void {
    this.lastSent.delete(uid);
    this.backoff.forget(`${uid}/`);
    this.pullBackoff.forget(`${uid}/`);
  }
}
