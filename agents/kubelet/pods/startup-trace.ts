// A pod's start-up timeline as the kubelet lives it: when its watch event arrived, when a worker
// took it, when each runtime call waited for its turn, ran and returned (RunPodSandbox includes the
// CNI ADD), and when the first status showing every container started was sent and acknowledged.
// One log line per pod ("pod startup timeline") with epoch milliseconds, so a benchmark on the same
// host can put its own create and watch times beside them. Runtime calls find their pod through
// AsyncLocalStorage, so the runtime layer needs no pod argument.
import { AsyncLocalStorage } from 'node:async_hooks';

export type Marks = Record<string, number>;

/** Marks after this long are not a start-up any more (a pod stuck on a pull, a crash loop). */
const MAX_AGE_MS = 5 * 60_000;
const MAX_PODS = 2000;

export class StartupTrace {
  private pods = new Map<string, { name: string; marks: Marks }>();
  private als = new AsyncLocalStorage<string>();

  constructor(private now: () => number = Date.now) {}

  /** Starts a timeline for a pod seen for the first time (not for pods adopted after a restart). */
  begin(uid: string, name: string): void {
    if (this.pods.has(uid)) return;
    if (this.pods.size >= MAX_PODS) this.prune();
    this.pods.set(uid, { name, marks: { seen: this.now() } });
  }

  /** Runs fn with `uid` as the pod that runtime calls made inside it belong to. */
  run<T>(uid: string, fn: () => T): T {
    return this.als.run(uid, fn);
  }

  /** Records the first time `what` happened for the pod (the current one by default). */
  mark(what: string, uid = this.als.getStore()): void {
    const p = uid === undefined ? undefined : this.pods.get(uid);
    if (!p || p.marks[what] !== undefined) return;
    p.marks[what] = this.now();
  }

  tracing(uid: string): boolean {
    return this.pods.has(uid);
  }

  /** Ends the pod's timeline and returns it. */
  finish(uid: string): { name: string; marks: Marks } | undefined {
    const p = this.pods.get(uid);
    this.pods.delete(uid);
    return p;
  }

  forget(uid: string): void {
    this.pods.delete(uid);
  }

  private prune(): void {
    const cut = this.now() - MAX_AGE_MS;
    for (const [uid, p] of this.pods) if (p.marks.seen < cut) this.pods.delete(uid);
    if (this.pods.size >= MAX_PODS) this.pods.delete(this.pods.keys().next().value!);
  }
}

/**
 * Consecutive stages of a start-up, in the order a pod passes them; they add up to the pod's
 * latency. "turn" is the wait for one of the node's runtime call slots (cri-runtime.ts's gate).
 */
export const STAGES: [from: string, to: string, label: string][] = [
  ['created', 'seen', 'create sent -> kubelet watch (API, scheduler, bind)'],
  ['seen', 'sync', 'watch -> pod worker'],
  ['sync', 'sandbox.queued', 'worker -> sandbox wanted (lists, cgroup, volumes)'],
  ['sandbox.queued', 'sandbox.rpc', 'RunPodSandbox turn'],
  ['sandbox.rpc', 'sandbox.done', 'RunPodSandbox (runc, CNI ADD)'],
  ['sandbox.done', 'create.queued', 'sandbox -> container wanted (IP, hosts, image)'],
  ['create.queued', 'create.rpc', 'CreateContainer turn'],
  ['create.rpc', 'create.done', 'CreateContainer'],
  ['create.done', 'start.queued', 'created -> start wanted'],
  ['start.queued', 'start.rpc', 'StartContainer turn'],
  ['start.rpc', 'start.done', 'StartContainer'],
  ['start.done', 'running.sent', 'started -> status PATCH sent (list, status, writer)'],
  ['running.sent', 'observed', 'PATCH -> bench watch'],
];
/** Not part of the sum: the PATCH's own round trip as the kubelet saw it. */
export const EXTRA_STAGES: [from: string, to: string, label: string][] = [['running.sent', 'running.acked', '(status PATCH round trip)']];

/** Each stage's duration in ms for one pod's marks; a stage whose ends are missing is absent. */
export function stageDurations(marks: Marks): Map<string, number> {
  const out = new Map<string, number>();
  for (const [from, to, label] of [...STAGES, ...EXTRA_STAGES]) {
    if (marks[from] !== undefined && marks[to] !== undefined) out.set(label, marks[to] - marks[from]);
  }
  return out;
}

/** Parses the kubelet's "pod startup timeline" log lines (pino JSON), by pod namespace/name. */
export function parseTimelines(logText: string): Map<string, Marks> {
  const out = new Map<string, Marks>();
  for (const line of logText.split('\n')) {
    if (!line.includes('"pod startup timeline"')) continue;
    try {
      const j = JSON.parse(line) as { pod?: string; marks?: Marks };
      if (j.pod && j.marks) out.set(j.pod, j.marks);
    } catch {
      /* a torn line */
    }
  }
  return out;
}
