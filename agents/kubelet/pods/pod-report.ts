// Gathers what the runtime and the probes say about a pod into the RuntimeView that pod-status.ts
// turns into a status, and sends that status when it changed. Details of exited containers never
// change, so they (and their termination messages) are read once.
// An exited container's OOM kill: containerd reports reason OOMKilled when it saw the cgroup's OOM
// event, but containerd 1.6 under the systemd cgroup driver (cgroup v2) misses it and says Error,
// exit code 137 (seen in the QEMU VM test). Then the pod cgroup's own oom_kill counter decides: a
// kill counted there that no container of the pod has been given yet makes this one OOMKilled.
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Wire } from '../../api/wire.ts';
import type { PodDeps } from './deps.ts';
import { podStatus, type RuntimeView, type Waiting } from './pod-status.ts';
import type { ContainerDetail, ContainerInfo } from './runtime.ts';
import { rfc3339 } from './runtime-values.ts';
import { StatusWriter } from './status-writer.ts';
import { terminationMessage } from './termination-message.ts';

export const newestFirst = <T extends { attempt: number; createdAt: number }>(a: T, b: T) => b.attempt - a.attempt || b.createdAt - a.createdAt;

export class PodReporter {
  private exited = new Map<string, ContainerDetail>();
  /** per pod uid, the pod cgroup's oom_kill count already accounted for by its containers' reasons */
  private oomAccounted = new Map<string, number>();
  readonly writer: StatusWriter;

  constructor(private d: PodDeps) {
    this.writer = new StatusWriter((pod, status) => d.writeStatus(pod, status), d.log);
  }

  /** Container details, cached once a container has exited; a vanished container is undefined. */
  async detail(c: ContainerInfo): Promise<ContainerDetail | undefined> {
    const cached = this.exited.get(c.id);
    if (cached) return cached;
    try {
      const det = await this.d.rt.containerDetail(c.id);
      det.attempt = c.attempt;
      if (det.state === 'CONTAINER_EXITED') {
        const msg = terminationMessage(det);
        if (msg) det.message = msg;
        this.accountOom(c.uid, det);
        this.exited.set(c.id, det);
      }
      return det;
    } catch {
      return undefined;
    }
  }

  /** Reads the pod's OOM kill count for a newly exited container: OOMKilled if a new kill is there (SIGKILL's 137 is its exit). */
  private accountOom(uid: string, det: ContainerDetail): void {
    if (det.reason !== 'OOMKilled' && det.exitCode !== 137) return;
    const kills = this.d.cgroups.oomKills(uid);
    if (kills === undefined) return;
    if (det.reason !== 'OOMKilled' && kills > (this.oomAccounted.get(uid) ?? 0)) det.reason = 'OOMKilled';
    this.oomAccounted.set(uid, kills);
  }

  async view(pod: V1Pod, containers: ContainerInfo[], sandboxReady: boolean, podIP: string | undefined, waiting: Map<string, Waiting>): Promise<RuntimeView> {
    const uid = pod.metadata!.uid!;
    const view: RuntimeView = { sandboxReady, podIP, containers: new Map(), previous: new Map(), waiting, probes: new Map() };
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])]) {
      const [latest, prev] = containers.filter((x) => x.name === c.name).sort(newestFirst);
      const det = latest && (await this.detail(latest));
      if (det) {
        view.containers.set(c.name, det);
        view.probes!.set(c.name, { ready: this.d.probes.ready(uid, c, det.id), started: this.d.probes.started(uid, c, det.id) });
      }
      const pdet = prev && (await this.detail(prev));
      if (pdet) view.previous.set(c.name, pdet);
    }
    return view;
  }

  /** Computes and sends the pod's status; `phase` forces a terminal phase (a deleted or evicted pod), `why` its reason and message. */
  async report(
    pod: V1Pod,
    containers: ContainerInfo[],
    sandboxReady: boolean,
    podIP: string | undefined,
    waiting: Map<string, Waiting>,
    phase?: string,
    why?: { reason: string; message: string },
  ): Promise<Wire<V1PodStatus>> {
    const view = await this.view(pod, containers, sandboxReady, podIP, waiting);
    const status = podStatus(pod, view, this.d.ctx.nodeIP, rfc3339(new Date())!);
    if (phase) {
      status.phase = phase;
      for (const cond of status.conditions ?? []) {
        if (cond.type === 'Ready' || cond.type === 'ContainersReady')
          Object.assign(cond, { status: 'False', reason: phase === 'Failed' ? 'PodFailed' : 'PodCompleted' });
        if (cond.type === 'PodReadyToStartContainers') cond.status = 'False';
      }
      for (const s of status.containerStatuses ?? []) {
        s.ready = false;
        s.started = false;
      }
    }
    if (why) Object.assign(status, why);
    this.writer.submit(pod, status);
    return status;
  }

  forget(uid: string, containerIds: string[] = []): void {
    this.writer.forget(uid);
    this.oomAccounted.delete(uid);
    for (const id of containerIds) this.exited.delete(id);
  }

  forgetContainer(id: string): void {
    this.exited.delete(id);
  }
}
