// One reconcile pass for one pod (the pod worker): make the node match the pod's spec (pod cgroup,
// volumes, sandbox, /etc/hosts, then its containers as container-actions.ts decides), terminate it
// gracefully when it is being deleted, tear down what is left of a pod the API no longer has, and
// report the pod's status. Idempotent: every pass starts from what the runtime shows.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { ApiError, isNotFound } from '../../api/client.ts';
import { core } from '../../api/paths.ts';
import { EVICTED, EVICTION_GRACE_SEC } from '../eviction/emptydir-limit.ts';
import { podSignatures } from '../pleg.ts';
import { etcHostsPath } from '../volumes/paths.ts';
import { VolumeError } from '../volumes/payload.ts';
import type { MountedVolume } from '../volumes/volume-manager.ts';
import { Backoff } from './backoff.ts';
import { computeActions, ephemeralSpecs, type Instance } from './container-actions.ts';
import { killContainer, restoreFromAnnotations } from './container-kill.ts';
import { startContainer, type PodRun } from './container-start.ts';
import { containerHash, podLogDir, sandboxConfig, sandboxDns } from './cri-config.ts';
import type { PodDeps } from './deps.ts';
import { hostsFile } from './hosts-file.ts';
import { newestFirst, PodReporter } from './pod-report.ts';
import type { Waiting } from './pod-status.ts';
import type { ContainerInfo, SandboxInfo } from './runtime.ts';
import { rpcText } from './runtime-values.ts';
import { podRef } from './security.ts';

export type { SyncContext } from './deps.ts';

const VOLUME_RETRY_MS = 2000;
/** dead instances kept per container: the newest one and the one before it (`logs --previous`) */
const KEEP_PER_CONTAINER = 2;

const specs = (pod: V1Pod): V1Container[] => [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...ephemeralSpecs(pod)];
const isStatic = (pod: V1Pod) => pod.metadata?.annotations?.['kubernetes.io/config.source'] === 'file';

export class PodSync {
  private backoff = new Backoff();
  private sandboxBackoff = new Backoff(1000, 60_000);
  private reporter: PodReporter;
  private reasons = new Map<string, Map<string, Waiting>>();
  /** pods the eviction manager evicted (uid -> message), until the API shows them Failed */
  private evictions = new Map<string, string>();
  /** the runtime state (the PLEG's signature) each pod's last pass left, when the pass knew it */
  private left = new Map<string, string>();

  constructor(private d: PodDeps) {
    this.reporter = new PodReporter(d);
  }

  /** The status must be sent again even if unchanged (e.g. a static pod got a new mirror pod). */
  statusStale(uid: string): void {
    this.reporter.forget(uid);
  }

  /** The next pass kills the pod and reports it Failed with reason Evicted and `message` (upstream's killPodFunc of an eviction). */
  evict(uid: string, message: string): void {
    this.evictions.set(uid, message);
  }

  evicting(uid: string): boolean {
    return this.evictions.has(uid);
  }

  /** Whether the pod's status (from the API) is the one this kubelet wrote last (or is writing). */
  ownStatus(pod: V1Pod): boolean {
    return this.reporter.writer.wrote(pod.metadata!.uid!, pod.status);
  }

  /** The runtime state the pod's last pass left (its PLEG signature), if it ran the pod and knew it. */
  runtimeLeft(uid: string): string | undefined {
    return this.left.get(uid);
  }

  /** Returns milliseconds after which the pod wants another pass (a back-off expiring), if any. */
  async sync(uid: string, pod: V1Pod | undefined): Promise<number | undefined> {
    this.left.delete(uid);
    const [ownSb, containers] = await Promise.all([this.d.rt.listSandboxes(uid), this.d.rt.listContainers(uid)]);
    const sandboxes = ownSb.sort(newestFirst);
    if (!pod) {
      await this.removeOrphan(uid, sandboxes, containers);
      return undefined;
    }
    if (pod.metadata?.deletionTimestamp) {
      await this.terminate(pod, sandboxes, containers);
      if (!isStatic(pod)) await this.finishDeletion(pod);
      return undefined;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      this.evictions.delete(uid);
      // terminal pods keep their containers for logs; their network, volumes and probes go
      for (const s of sandboxes.filter((x) => x.ready)) await this.d.rt.stopSandbox(s.id);
      this.d.probes.removePod(uid);
      await this.d.volumes.teardown(uid);
      return undefined;
    }
    const eviction = this.evictions.get(uid);
    if (eviction !== undefined) {
      await this.stopPod(pod, sandboxes, containers, EVICTION_GRACE_SEC, { reason: EVICTED, message: eviction });
      return undefined;
    }
    return this.run(pod, sandboxes, containers);
  }

  private async run(pod: V1Pod, sandboxes: SandboxInfo[], containers: ContainerInfo[]): Promise<number | undefined> {
    const uid = pod.metadata!.uid!;
    const policy = pod.spec?.restartPolicy ?? 'Always';
    // the last start failure of each container stays its waiting reason until it starts (upstream's
    // reasonCache): a status computed between two attempts must not flip back to ContainerCreating
    const reasons = this.reasons.get(uid) ?? new Map<string, Waiting>();
    this.reasons.set(uid, reasons);
    const waiting = new Map<string, Waiting>(reasons);
    const t0 = performance.now();
    await this.d.cgroups.ensure(pod);

    let volumes: Map<string, MountedVolume>;
    try {
      volumes = await this.d.volumes.setup(pod, pod.status?.podIP ? [pod.status.podIP] : [], [this.d.ctx.nodeIP]);
    } catch (err) {
      if (!(err instanceof VolumeError)) throw err;
      this.d.events.pod(pod, undefined, 'Warning', 'FailedMount', err.message);
      await this.reporter.report(
        pod,
        containers,
        sandboxes.some((s) => s.ready),
        undefined,
        waiting,
      );
      return VOLUME_RETRY_MS;
    }

    let sb = sandboxes.find((s) => s.ready);
    if (!sb) {
      const apps = new Set((pod.spec?.containers ?? []).map((c) => c.name));
      const ran = containers.filter((c) => apps.has(c.name));
      // a pod that must not restart is not brought back when its sandbox dies
      if (ran.length && policy === 'Never') {
        await this.reporter.report(pod, containers, false, undefined, waiting);
        return undefined;
      }
      const created = await this.createSandbox(pod, sandboxes, containers);
      if (typeof created === 'number') {
        await this.reporter.report(pod, containers, false, undefined, waiting);
        return created;
      }
      sb = created;
    }
    const tSandbox = performance.now();
    const sbConfig = sandboxConfig(pod, sb.attempt, this.d.ctx);
    const podIP = pod.spec?.hostNetwork ? this.d.ctx.nodeIP : ((await this.d.rt.sandboxIP(sb.id)) ?? '');
    const podIPs = podIP ? [podIP] : [];
    this.writeHosts(pod, podIPs);

    const mine = containers.filter((c) => c.sandboxId === sb!.id);
    const current = new Map<string, Instance[]>();
    for (const c of mine.sort(newestFirst)) {
      const det = c.state === 'CONTAINER_EXITED' ? await this.reporter.detail(c) : undefined;
      const list = current.get(c.name) ?? [];
      list.push({ id: c.id, name: c.name, attempt: c.attempt, state: c.state, hash: c.hash, exitCode: det?.exitCode, finishedAtMs: det?.finishedAtMs });
      current.set(c.name, list);
    }
    const key = (name: string) => `${uid}/${name}`;
    const actions = computeActions({
      pod,
      current,
      hash: containerHash,
      probeFailed: (c, id) => this.d.probes.failed(uid, c, id),
      started: (c, id) => this.d.probes.started(uid, c, id),
      backoff: (name, finishedAt) => ({ remainingMs: this.backoff.remainingSince(key(name), finishedAt), currentMs: this.backoff.current(key(name)) }),
    });
    for (const [name, w] of actions.waiting) waiting.set(name, w);
    for (const name of actions.backingOff) {
      this.d.events.pod(pod, name, 'Warning', 'BackOff', `Back-off restarting failed container ${name} in pod ${podRef(pod)}`);
    }
    const byName = new Map(specs(pod).map((c) => [c.name, c]));
    await Promise.all(
      actions.kill.map((k) =>
        killContainer(this.d, {
          pod,
          container: byName.get(k.name)!,
          id: k.id,
          podIP,
          message: k.message,
          graceSec: this.killGrace(pod, byName.get(k.name)!, k.message),
        }),
      ),
    );

    // as upstream, the status is posted before the containers start: slow pulls show ContainerCreating
    if (actions.start.length) await this.reporter.report(pod, containers, true, podIP || undefined, waiting);

    const tStart = performance.now();
    let requeue = actions.requeueMs;
    const run: PodRun = {
      pod,
      sandboxId: sb.id,
      sandboxConfig: sbConfig,
      podIPs,
      volumes,
      pullSecrets: this.pullSecrets(pod),
      hostsFile: podIPs.length > 0,
      runningIds: new Map([...current].filter(([, l]) => l[0]?.state === 'CONTAINER_RUNNING').map(([name, l]) => [name, l[0].id])),
    };
    const made: ContainerInfo[] = [];
    for (const s of actions.start) {
      const name = s.container.name;
      const history = containers.filter((c) => c.name === name).sort(newestFirst);
      if (!s.afterKill && s.finishedAtMs !== undefined) this.backoff.next(key(name), s.finishedAtMs);
      const attempt = history.length ? history[0].attempt + 1 : 0;
      const r = await startContainer(this.d, run, s.container, attempt);
      if (r.id)
        made.push({
          id: r.id,
          sandboxId: sb.id,
          uid,
          name,
          attempt,
          state: r.ok ? 'CONTAINER_RUNNING' : 'CONTAINER_UNKNOWN',
          createdAt: Date.now(),
          hash: '',
          imageRef: '',
        });
      if (r.ok) {
        reasons.delete(name);
        waiting.delete(name);
      } else {
        reasons.set(name, r.waiting);
        waiting.set(name, r.waiting);
        requeue = Math.min(requeue ?? Infinity, r.retryMs);
        if (s.init) break;
      }
    }

    // without kills, what changed is known: the containers just made (the status reads each one's
    // state from the runtime anyway), so the status goes out one runtime round trip sooner
    const after = actions.kill.length ? await this.d.rt.listContainers(uid) : [...containers, ...made];
    await this.updateProbes(
      pod,
      after.filter((c) => c.sandboxId === sb!.id),
      podIP,
    );
    await this.reporter.report(pod, after, true, podIP || undefined, waiting);
    const removed = await this.collectDead(after);
    // what this pass left in the runtime: the relists that show just that need no pass (runtime-echo.ts)
    const leftSandboxes = sandboxes.some((s) => s.id === sb.id) ? sandboxes : [...sandboxes, sb];
    const sig = podSignatures(
      leftSandboxes,
      after.filter((c) => !removed.has(c.id)),
    ).get(uid);
    if (sig !== undefined) this.left.set(uid, sig);
    if (actions.start.length || actions.kill.length) {
      const ms = (a: number, b: number) => Math.round(b - a);
      this.d.log.debug(
        {
          pod: `${pod.metadata!.namespace}/${pod.metadata!.name}`,
          sandboxMs: ms(t0, tSandbox),
          prepareMs: ms(tSandbox, tStart),
          startMs: ms(tStart, performance.now()),
          started: actions.start.length,
          killed: actions.kill.length,
        },
        'pod synced',
      );
    }
    return requeue === Infinity ? undefined : requeue;
  }

  private async createSandbox(pod: V1Pod, sandboxes: SandboxInfo[], containers: ContainerInfo[]): Promise<SandboxInfo | number> {
    const uid = pod.metadata!.uid!;
    const key = `${uid}/sandbox`;
    if (this.sandboxBackoff.inBackoffSinceUpdate(key)) return this.sandboxBackoff.remainingSinceUpdate(key);
    if (sandboxes.length) {
      this.d.events.pod(pod, undefined, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      await this.killRunning(pod, containers, 0);
      for (const s of sandboxes) await this.d.rt.stopSandbox(s.id).catch(() => undefined);
    }
    const attempt = sandboxes.length ? sandboxes[0].attempt + 1 : 0;
    const config = sandboxConfig(pod, attempt, this.d.ctx);
    const dns = sandboxDns(pod, this.d.ctx);
    for (const w of dns.warnings) {
      this.d.events.pod(pod, undefined, 'Warning', /ClusterDNS/.test(w) ? 'MissingClusterDNS' : 'DNSConfigForming', w);
    }
    try {
      const id = await this.d.rt.runSandbox(config);
      this.sandboxBackoff.reset(key);
      this.d.log.info({ pod: `${pod.metadata!.namespace}/${pod.metadata!.name}`, sandbox: id.slice(0, 12), attempt }, 'sandbox started');
      const m = pod.metadata!;
      return { id, uid, namespace: m.namespace!, name: m.name!, attempt, ready: true, createdAt: Date.now() };
    } catch (err) {
      this.d.events.pod(pod, undefined, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${rpcText(err)}`);
      this.sandboxBackoff.next(key);
      return this.sandboxBackoff.remainingSinceUpdate(key);
    }
  }

  /** Grace for a kill during a sync: a failed probe's own terminationGracePeriodSeconds wins. */
  private killGrace(pod: V1Pod, c: V1Container, message: string): number {
    const pod30 = pod.spec?.terminationGracePeriodSeconds ?? 30;
    if (/failed liveness probe/.test(message)) return c.livenessProbe?.terminationGracePeriodSeconds ?? pod30;
    if (/failed startup probe/.test(message)) return c.startupProbe?.terminationGracePeriodSeconds ?? pod30;
    return pod30;
  }

  private writeHosts(pod: V1Pod, podIPs: string[]): void {
    if (!podIPs.length) return;
    const path = etcHostsPath(this.d.ctx.rootDir, pod.metadata!.uid!);
    const text = hostsFile(pod, podIPs, this.d.ctx.clusterDomain ?? 'cluster.local', this.d.ctx.nodeHostsFile());
    if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text, { mode: 0o644 });
  }

  private pullSecrets(pod: V1Pod) {
    const ns = pod.metadata!.namespace!;
    return (pod.spec?.imagePullSecrets ?? []).flatMap((r) => {
      const s = r.name ? this.d.objects.secret(ns, r.name) : undefined;
      return s ? [s] : [];
    });
  }

  private async updateProbes(pod: V1Pod, mine: ContainerInfo[], podIP: string): Promise<void> {
    const runs = new Map<string, { id: string; running: boolean; startedAtMs: number }>();
    for (const c of pod.spec?.containers ?? []) {
      const latest = mine.filter((x) => x.name === c.name).sort(newestFirst)[0];
      if (!latest) continue;
      const det =
        latest.state === 'CONTAINER_RUNNING' && (c.livenessProbe || c.readinessProbe || c.startupProbe) ? await this.reporter.detail(latest) : undefined;
      runs.set(c.name, { id: latest.id, running: latest.state === 'CONTAINER_RUNNING', startedAtMs: det?.startedAtMs ?? Date.now() });
    }
    const inherited = new Map(
      (pod.status?.containerStatuses ?? []).map((s) => [
        s.name,
        {
          id: (s.containerID ?? '').replace(/^[a-z]+:\/\//, ''),
          ready: s.ready,
          started: !!s.started,
        },
      ]),
    );
    this.d.probes.update(pod, runs, podIP, inherited);
  }

  /** Keeps the newest instances of each container (current and previous); older dead ones go, logs too. */
  /** Removes dead instances beyond KEEP_PER_CONTAINER; returns the ids the runtime removed. */
  private async collectDead(cs: ContainerInfo[]): Promise<Set<string>> {
    const removed = new Set<string>();
    const byName = new Map<string, ContainerInfo[]>();
    for (const c of cs) byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
    for (const list of byName.values()) {
      for (const old of list.sort(newestFirst).slice(KEEP_PER_CONTAINER)) {
        if (old.state === 'CONTAINER_RUNNING') continue;
        const det = await this.reporter.detail(old);
        if (
          await this.d.rt.removeContainer(old.id).then(
            () => true,
            () => false,
          )
        )
          removed.add(old.id);
        if (det?.logPath) rmSync(det.logPath, { force: true });
        this.reporter.forgetContainer(old.id);
      }
    }
    return removed;
  }

  private async killRunning(pod: V1Pod, containers: ContainerInfo[], graceSec: number, podIP = ''): Promise<void> {
    const byName = new Map(specs(pod).map((c) => [c.name, c]));
    await Promise.all(
      containers
        .filter((c) => c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_CREATED')
        .map((c) => killContainer(this.d, { pod, container: byName.get(c.name) ?? { name: c.name }, id: c.id, podIP, graceSec })),
    );
  }

  /** Graceful deletion: preStop hooks and SIGTERM within the grace period, a final status, then cleanup. */
  private async terminate(pod: V1Pod, sandboxes: SandboxInfo[], containers: ContainerInfo[]): Promise<void> {
    const grace = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    const eviction = this.evictions.get(pod.metadata!.uid!);
    const after = await this.stopPod(pod, sandboxes, containers, grace, eviction === undefined ? undefined : { reason: EVICTED, message: eviction });
    await this.cleanup(pod.metadata!.uid!, sandboxes, after, podLogDir(this.d.ctx.podLogRoot, pod));
  }

  /** Kills the pod's containers within `grace` and stops its sandboxes, then sends its terminal status; the containers left. */
  private async stopPod(
    pod: V1Pod,
    sandboxes: SandboxInfo[],
    containers: ContainerInfo[],
    grace: number,
    why?: { reason: string; message: string },
  ): Promise<ContainerInfo[]> {
    const uid = pod.metadata!.uid!;
    this.d.probes.removePod(uid);
    const ready = sandboxes.find((s) => s.ready);
    const podIP = ready ? (pod.spec?.hostNetwork ? this.d.ctx.nodeIP : ((await this.d.rt.sandboxIP(ready.id).catch(() => undefined)) ?? '')) : '';
    await this.killRunning(pod, containers, grace, podIP);
    for (const s of sandboxes) await this.d.rt.stopSandbox(s.id).catch(() => undefined);
    const after = await this.d.rt.listContainers(uid);
    const details = await Promise.all(after.map((c) => this.reporter.detail(c)));
    const allZero = !why && details.length > 0 && details.every((x) => !x || x.exitCode === 0);
    await this.reporter.report(pod, after, false, pod.status?.podIP, new Map(), allZero ? 'Succeeded' : 'Failed', why);
    await this.reporter.writer.flush(uid);
    return after;
  }

  /** A pod the API no longer has (deleted while the kubelet was away, or a removed static pod). */
  private async removeOrphan(uid: string, sandboxes: SandboxInfo[], containers: ContainerInfo[]): Promise<void> {
    this.d.probes.removePod(uid);
    const sb = sandboxes[0];
    await Promise.all(
      containers
        .filter((c) => c.state === 'CONTAINER_RUNNING')
        .map(async (c) => {
          const det = await this.reporter.detail(c);
          const r = restoreFromAnnotations(uid, sb?.namespace ?? '', sb?.name ?? '', c.name, det?.annotations ?? {});
          await killContainer(this.d, { pod: r.pod, container: r.container, id: c.id, podIP: '', graceSec: r.graceSec });
        }),
    );
    for (const s of sandboxes) await this.d.rt.stopSandbox(s.id).catch(() => undefined);
    await this.cleanup(uid, sandboxes, containers, sb ? `${this.d.ctx.podLogRoot}/${sb.namespace}_${sb.name}_${uid}` : undefined);
  }

  private async cleanup(uid: string, sandboxes: SandboxInfo[], containers: ContainerInfo[], logDir: string | undefined): Promise<void> {
    for (const s of sandboxes) await this.d.rt.removeSandbox(s.id).catch(() => undefined);
    if (logDir) rmSync(logDir, { recursive: true, force: true });
    await this.d.volumes.teardown(uid);
    await this.d.cgroups.remove(uid);
    this.backoff.forget(`${uid}/`);
    this.sandboxBackoff.forget(`${uid}/`);
    this.d.images.forgetPod(uid);
    this.reporter.forget(
      uid,
      containers.map((c) => c.id),
    );
    this.reasons.delete(uid);
    this.evictions.delete(uid);
  }

  private async finishDeletion(pod: V1Pod): Promise<void> {
    try {
      await this.d.api.delete(core('pods', pod.metadata!.namespace, pod.metadata!.name), {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        gracePeriodSeconds: 0,
        preconditions: { uid: pod.metadata!.uid },
      });
      this.d.log.info({ pod: `${pod.metadata!.namespace}/${pod.metadata!.name}` }, 'pod terminated and deleted');
    } catch (err) {
      if (!isNotFound(err) && !(err instanceof ApiError && err.code === 409)) throw err;
    }
  }
}
