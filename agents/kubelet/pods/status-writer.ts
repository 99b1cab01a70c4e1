// Sends pod statuses to the API off the pod workers' path, as upstream's status manager does: one
// write in flight per pod, only the newest pending status is sent, unchanged statuses are not sent
// at all, and a failed write is retried (a few times) unless a newer status replaced it.
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Wire } from '../../api/wire.ts';
import type { Logger } from '../../api/log.ts';

const TIMES = new Set(['lastTransitionTime', 'startTime', 'lastProbeTime']);

/**
 * A status without the times that change on every computation, its keys sorted: the API server
 * merges a PATCH into the status it stores, so the watch gives the keys back in the stored order
 * (phase, qosClass, conditions ...), not the order they were sent in. Compared in sent order, the
 * echo of the kubelet's own Running status looked foreign and started a sync of its own: the
 * second sync per pod started (issue #26).
 */
export const statusPrint = (s: V1PodStatus | Wire<V1PodStatus> | undefined): string =>
  JSON.stringify(s ?? null, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v)
            .filter(([k]) => !TIMES.has(k))
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );

const RETRY_MS = 1000;
const MAX_TRIES = 5;

interface Pending {
  pod: V1Pod;
  status: Wire<V1PodStatus>;
  print: string;
  tries: number;
}

export class StatusWriter {
  private pending = new Map<string, Pending>();
  private busy = new Set<string>();
  private sent = new Map<string, string>();
  /** the status being written now, per pod (its watch echo can arrive before the write returns) */
  private writing = new Map<string, string>();
  private timers = new Map<string, NodeJS.Timeout>();

  /** `write` resolves false when the status has nowhere to go yet (no mirror pod, pod gone). */
  constructor(
    private write: (pod: V1Pod, status: Wire<V1PodStatus>) => Promise<boolean>,
    private log: Logger,
  ) {}

  submit(pod: V1Pod, status: Wire<V1PodStatus>): void {
    const uid = pod.metadata!.uid!;
    const print = statusPrint(status);
    // already there: sent by us before, or by the kubelet before its restart
    if (!this.pending.has(uid) && (this.sent.get(uid) === print || statusPrint(pod.status) === print)) {
      this.sent.set(uid, print);
      return;
    }
    this.pending.set(uid, { pod, status, print, tries: 0 });
    void this.pump(uid);
  }

  private async pump(uid: string): Promise<void> {
    if (this.busy.has(uid)) return;
    this.busy.add(uid);
    try {
      for (let p = this.pending.get(uid); p; p = this.pending.get(uid)) {
        this.pending.delete(uid);
        if (this.sent.get(uid) === p.print) continue;
        this.writing.set(uid, p.print);
        try {
          if (await this.write(p.pod, p.status)) this.sent.set(uid, p.print);
        } catch (err) {
          this.log.warn({ pod: `${p.pod.metadata?.namespace}/${p.pod.metadata?.name}`, err: String(err) }, 'pod status update failed');
          if (p.tries + 1 < MAX_TRIES && !this.pending.has(uid)) {
            clearTimeout(this.timers.get(uid));
            this.timers.set(
              uid,
              setTimeout(() => {
                this.timers.delete(uid);
                if (!this.pending.has(uid)) {
                  this.pending.set(uid, { ...p!, tries: p!.tries + 1 });
                  void this.pump(uid);
                }
              }, RETRY_MS),
            );
          }
        }
      }
    } finally {
      this.writing.delete(uid);
      this.busy.delete(uid);
    }
  }

  /** Whether `status` (a pod's, from the API) is the one this writer last wrote or is writing for the pod. */
  wrote(uid: string, status: V1PodStatus | undefined): boolean {
    const print = statusPrint(status);
    return this.sent.get(uid) === print || this.writing.get(uid) === print;
  }

  /** Waits until nothing is pending or in flight for the pod (bounded). */
  async flush(uid: string, timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while ((this.busy.has(uid) || this.pending.has(uid)) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  }

  /** The next status is sent even if it equals the last one (e.g. a new mirror pod), or the pod is gone. */
  forget(uid: string): void {
    this.sent.delete(uid);
    this.pending.delete(uid);
    clearTimeout(this.timers.get(uid));
    this.timers.delete(uid);
  }
}
