// One timer-driven worker per probe of each running container, as upstream's prober manager keeps
// them. Workers hold the ProbeState (probe-state.ts decides), record Unhealthy events for failed
// probes, and tell the pod worker when a result in effect changes, so that readiness flips and
// liveness kills happen within a probe period.
import type { V1Container, V1Pod, V1Probe } from '@kubernetes/client-node';
import { freshState, notRunning, observe, shouldProbe, timing, type ProbeKind, type ProbeResult, type ProbeState } from './probe-state.ts';
import { runProbe, type ProbeTarget } from './probers.ts';

export interface ContainerRun {
  id: string;
  running: boolean;
  startedAtMs: number;
}

export interface ProbeDeps {
  exec: ProbeTarget['exec'];
  /** a result in effect changed for this pod: sync it */
  onChange(uid: string): void;
  event(pod: V1Pod, container: V1Container, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

interface Worker {
  kind: ProbeKind;
  probe: V1Probe;
  pod: V1Pod;
  spec: V1Container;
  run: ContainerRun;
  podIP: string;
  state: ProbeState;
  timer?: NodeJS.Timeout;
  busy: boolean;
  lastRunMs: number;
}

const KINDS: ProbeKind[] = ['startup', 'liveness', 'readiness'];
const probeOf = (c: V1Container, k: ProbeKind): V1Probe | undefined =>
  k === 'startup' ? c.startupProbe : k === 'liveness' ? c.livenessProbe : c.readinessProbe;
const title = (k: ProbeKind) => k[0].toUpperCase() + k.slice(1);

export class ProbeManager {
  private workers = new Map<string, Worker>();
  private stopped = false;

  constructor(private deps: ProbeDeps) {}

  private key(uid: string, name: string, kind: ProbeKind) {
    return `${uid}/${name}/${kind}`;
  }

  /**
   * The pod's current containers (latest instance per name). `inherited` carries the ready/started
   * flags the pod status showed for an instance, so a kubelet restart does not flap readiness.
   */
  update(
    pod: V1Pod,
    runs: Map<string, ContainerRun>,
    podIP: string,
    inherited: Map<string, { id: string; ready: boolean; started: boolean }> = new Map(),
  ): void {
    const uid = pod.metadata!.uid!;
    const wanted = new Set<string>();
    for (const c of pod.spec?.containers ?? []) {
      const run = runs.get(c.name);
      if (!run) continue;
      for (const kind of KINDS) {
        const probe = probeOf(c, kind);
        if (!probe) continue;
        const key = this.key(uid, c.name, kind);
        wanted.add(key);
        const w = this.workers.get(key);
        if (w) {
          const restarted = w.run.id !== run.id || (!w.run.running && run.running);
          Object.assign(w, { pod, spec: c, run, podIP, probe });
          if (w.state.containerId !== run.id) w.state = freshState(kind, run.id);
          if (restarted) this.schedule(key, 0);
          continue;
        }
        const prior = inherited.get(c.name);
        const carried: ProbeResult | undefined =
          prior?.id === run.id
            ? kind === 'readiness'
              ? prior.ready
                ? 'success'
                : undefined
              : kind === 'startup'
                ? prior.started
                  ? 'success'
                  : undefined
                : undefined
            : undefined;
        this.workers.set(key, { kind, probe, pod, spec: c, run, podIP, state: freshState(kind, run.id, carried), busy: false, lastRunMs: 0 });
        this.schedule(key, 0);
      }
    }
    for (const [key, w] of this.workers)
      if (key.startsWith(`${uid}/`) && !wanted.has(key)) {
        clearTimeout(w.timer);
        this.workers.delete(key);
      }
  }

  removePod(uid: string): void {
    for (const [key, w] of this.workers)
      if (key.startsWith(`${uid}/`)) {
        clearTimeout(w.timer);
        this.workers.delete(key);
      }
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.workers.values()) clearTimeout(w.timer);
    this.workers.clear();
  }

  private result(uid: string, name: string, kind: ProbeKind, id: string): ProbeResult | undefined {
    const w = this.workers.get(this.key(uid, name, kind));
    return w && w.state.containerId === id ? w.state.result : undefined;
  }

  /** Started: no startup probe, or it succeeded for this instance. */
  started(uid: string, c: V1Container, id: string): boolean {
    return !c.startupProbe || this.result(uid, c.name, 'startup', id) === 'success';
  }

  /** Ready: started, and no readiness probe or it succeeds for this instance. */
  ready(uid: string, c: V1Container, id: string): boolean {
    if (!this.started(uid, c, id)) return false;
    return !c.readinessProbe || this.result(uid, c.name, 'readiness', id) === 'success';
  }

  /** Which probe (if any) says this instance must be killed. */
  failed(uid: string, c: V1Container, id: string): 'liveness' | 'startup' | undefined {
    if (c.startupProbe && this.result(uid, c.name, 'startup', id) === 'failure') return 'startup';
    if (c.livenessProbe && this.result(uid, c.name, 'liveness', id) === 'failure') return 'liveness';
    return undefined;
  }

  private schedule(key: string, delayMs: number): void {
    const w = this.workers.get(key);
    if (!w || this.stopped) return;
    clearTimeout(w.timer);
    w.timer = setTimeout(() => void this.tick(key), Math.max(0, delayMs));
  }

  private async tick(key: string): Promise<void> {
    const w = this.workers.get(key);
    if (!w || w.busy) return;
    const uid = w.pod.metadata!.uid!;
    const t = timing(w.probe, w.kind);
    const now = Date.now();
    const startupDone = !w.spec.startupProbe || this.result(uid, w.spec.name, 'startup', w.run.id) === 'success';
    const skip = shouldProbe(w.kind, w.state, {
      running: w.run.running,
      startedAtMs: w.run.startedAtMs,
      now,
      t,
      startupDone,
      hasStartupProbe: !!w.spec.startupProbe,
    });
    if (skip === 'not-running') {
      const next = notRunning(w.kind, w.state);
      const changed = next.result !== w.state.result;
      w.state = next;
      if (changed) this.deps.onChange(uid);
      return; // the next update() with a running instance reschedules
    }
    if (skip === 'initial-delay') return this.schedule(key, w.run.startedAtMs + t.initialDelayMs - now);
    if (skip) return this.schedule(key, t.periodMs);
    const sinceLast = now - w.lastRunMs;
    if (sinceLast < t.periodMs && w.lastRunMs > 0 && w.state.containerId === w.run.id && w.state.last !== undefined) {
      return this.schedule(key, t.periodMs - sinceLast);
    }
    w.busy = true;
    w.lastRunMs = now;
    const id = w.run.id;
    try {
      const out = await runProbe(w.probe, { containerId: id, podIP: w.podIP, ports: w.spec.ports ?? [], exec: this.deps.exec });
      const cur = this.workers.get(key);
      if (!cur || cur.state.containerId !== id) return;
      if (!out.ok) this.deps.event(cur.pod, cur.spec, 'Warning', 'Unhealthy', `${title(cur.kind)} probe failed: ${out.output}`);
      const r = observe(cur.kind, cur.state, out.ok ? 'success' : 'failure', t);
      cur.state = r.state;
      if (r.changed || r.act) {
        this.deps.onChange(uid);
        // a startup success lets liveness and readiness start at once
        if (cur.kind === 'startup' && r.state.result === 'success') {
          for (const k of ['liveness', 'readiness'] as const) this.schedule(this.key(uid, cur.spec.name, k), 0);
        }
      }
    } finally {
      w.busy = false;
      if (this.workers.get(key) === w) this.schedule(key, t.periodMs);
    }
  }
}
