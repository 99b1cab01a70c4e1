// Periodic compaction, whatever the store: history is bounded both by count (keepRevisions) and by
// age (keepMs), so Lease renewals every 10 s per node cannot grow the store without bound.
import type { Store } from './types.ts';

export interface CompactorOptions {
  intervalMs?: number;
  keepRevisions?: number;
  keepMs?: number;
  now?: () => number;
  onError?: (e: unknown) => void;
}

/** Pure: the revision to compact to, given the current one and (time, revision) samples. */
export function compactionTarget(current: number, samples: { at: number; rev: number }[], now: number, keepRevisions: number, keepMs: number): number {
  let target = current - keepRevisions;
  // the newest sample older than the age bound: everything up to it is older than keepMs
  for (const s of samples) if (s.at <= now - keepMs && s.rev > target) target = s.rev;
  return Math.max(0, Math.min(target, current));
}

export function startCompactor(store: Store, o: CompactorOptions = {}): { stop(): void; runOnce(): Promise<void> } {
  const intervalMs = o.intervalMs ?? 30_000;
  const keepRevisions = o.keepRevisions ?? 1000;
  const keepMs = o.keepMs ?? 5 * 60_000;
  const now = o.now ?? Date.now;
  let samples: { at: number; rev: number }[] = [];
  let running = false;

  const runOnce = async () => {
    if (running) return;
    running = true;
    try {
      const current = await store.currentRevision();
      const t = now();
      samples.push({ at: t, rev: current });
      const target = compactionTarget(current, samples, t, keepRevisions, keepMs);
      samples = samples.filter((s) => s.at > t - keepMs - intervalMs * 2);
      if (target > (await store.compactedRevision())) await store.compact(target);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void runOnce().catch((e) => o.onError?.(e)), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), runOnce };
}
