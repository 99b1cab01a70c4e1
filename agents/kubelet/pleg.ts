// The pod lifecycle event generator (upstream's GenericPLEG): every relist period it lists the
// runtime's sandboxes and containers, compares each pod's state with the previous relist, and
// reports the pods to sync again. The comparison is pure (relistEvents), the timer and the runtime
// calls are the Pleg class, so startKubelet only wires it to the work queue.
import { Latch } from '../api/latch.ts';
import type { Logger } from '../api/log.ts';
import type { ContainerInfo, PodRuntime, SandboxInfo } from './pods/runtime.ts';

/** Why a pod is synced again after a relist. */
export type PlegReason = 'changed' | 'unknown-pod' | 'gone';
export interface PlegEvent {
  uid: string;
  reason: PlegReason;
  /** the pod's runtime state now (its podSignatures entry); none when gone */
  signature?: string;
}

/**
 * One string per pod uid that changes whenever any of its sandboxes or containers changes state,
 * whatever order the runtime lists them in (a pod sync computes the same string for what it made).
 */
export function podSignatures(sandboxes: SandboxInfo[], containers: ContainerInfo[]): Map<string, string> {
  const parts = new Map<string, string[]>();
  const add = (uid: string, part: string) => parts.set(uid, [...(parts.get(uid) ?? []), part]);
  for (const s of sandboxes) add(s.uid, `s${s.id}:${s.ready};`);
  for (const c of containers) add(c.uid, `c${c.id}:${c.state};`);
  return new Map([...parts].map(([uid, p]) => [uid, p.sort().join('')]));
}

/**
 * The pods a relist must requeue: those whose runtime state changed since the previous relist,
 * those the runtime has but no source knows (leftovers of a pod deleted while the kubelet was
 * down), and those whose last sandbox and container are gone from the runtime.
 */
export function relistEvents(previous: ReadonlyMap<string, string>, current: ReadonlyMap<string, string>, hasPod: (uid: string) => boolean): PlegEvent[] {
  const events: PlegEvent[] = [];
  for (const [uid, s] of current) {
    if (previous.get(uid) !== s) events.push({ uid, reason: 'changed', signature: s });
    else if (!hasPod(uid)) events.push({ uid, reason: 'unknown-pod' });
  }
  for (const uid of previous.keys()) if (!current.has(uid)) events.push({ uid, reason: 'gone' });
  return events;
}

export interface PlegDeps {
  rt: Pick<PodRuntime, 'listSandboxes' | 'listContainers'>;
  periodMs: number;
  hasPod(uid: string): boolean;
  onEvent(e: PlegEvent): void;
  /** once, after the first successful relist, with every uid the runtime has */
  onFirstRelist(runtimeUids: ReadonlySet<string>): void;
  /** after every successful relist (the node status loop's poke) */
  afterRelist(): Promise<void>;
  log: Logger;
}

export class Pleg {
  private seen = new Map<string, string>();
  private relisting = false;
  private first = true;
  private last = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private readonly relisted = new Latch();
  /** pods the next relist reports as changed even if their state did not change since the last one */
  private recheckNext = new Set<string>();

  constructor(private readonly d: PlegDeps) {}

  /** Settles after the first successful relist. */
  get ready(): Promise<void> {
    return this.relisted.promise;
  }
  /** When the last relist succeeded (the healthz syncloop check). */
  lastRelist(): number {
    return this.last;
  }

  start(): void {
    this.timer = setInterval(() => void this.relist(), this.d.periodMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The next relist that lists after this call reports the pod as changed (runtime-echo.ts). */
  recheck(uid: string): void {
    this.recheckNext.add(uid);
  }

  private async relist(): Promise<void> {
    if (this.relisting) return;
    this.relisting = true;
    // taken before listing: a recheck asked for while this relist lists waits for the next one
    const recheck = this.recheckNext;
    this.recheckNext = new Set();
    try {
      const [sbs, cs] = await Promise.all([this.d.rt.listSandboxes(), this.d.rt.listContainers()]);
      const sig = podSignatures(sbs, cs);
      const events = relistEvents(this.seen, sig, this.d.hasPod);
      for (const uid of recheck) {
        const signature = sig.get(uid);
        if (signature !== undefined && !events.some((e) => e.uid === uid)) events.push({ uid, reason: 'changed', signature });
      }
      for (const e of events) this.d.onEvent(e);
      this.seen = sig;
      if (this.first) {
        this.first = false;
        this.d.onFirstRelist(new Set(sig.keys()));
        this.relisted.open();
      }
      await this.d.afterRelist();
      this.last = Date.now();
    } catch (err) {
      for (const uid of recheck) this.recheckNext.add(uid);
      this.d.log.warn({ err: String(err) }, 'runtime relist failed');
    } finally {
      this.relisting = false;
    }
  }
}
