// A pod from a controller's template (upstream GetPodFromTemplate): the template's labels,
// annotations, finalizers and spec, the controller's ownerReference, and either a fixed name
// (StatefulSet) or generateName "<owner>-".
import type { Obj } from '../../apiserver/strategies/types.ts';
import type { Any, OwnerRef } from './meta.ts';

export interface PodFromTemplate {
  namespace: string;
  owner: OwnerRef;
  name?: string;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  /** last-minute spec changes (DaemonSet node affinity, StatefulSet hostname) */
  spec?: (spec: Any) => void;
}

export function podFromTemplate(template: Any | undefined, o: PodFromTemplate): Obj {
  const t = structuredClone(template ?? {});
  const labels = { ...(t.metadata?.labels ?? {}), ...(o.labels ?? {}) };
  const annotations = { ...(t.metadata?.annotations ?? {}), ...(o.annotations ?? {}) };
  const finalizers = [...(t.metadata?.finalizers ?? []), ...(o.finalizers ?? [])];
  const spec = t.spec ?? {};
  o.spec?.(spec);
  const metadata: Any = { namespace: o.namespace, labels, ownerReferences: [o.owner] };
  if (o.name) metadata.name = o.name;
  else metadata.generateName = o.generateName ?? `${o.owner.name}-`;
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  if (finalizers.length) metadata.finalizers = finalizers;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

/** Sizes of upstream's slow-start batches (1, 2, 4, ...) covering `total` creations. */
export function slowStartBatches(total: number, initial = 1): number[] {
  const out: number[] = [];
  let left = total;
  for (let size = Math.min(initial, left); left > 0; size = Math.min(size * 2, left)) {
    out.push(size);
    left -= size;
  }
  return out;
}

/** A turn of the event loop through its I/O phase: the controllers share it with the API server. */
export const yieldToIO = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Runs `total` creations in slow-start batches, stopping after the first batch with a failure
 * (a quota or validation error would fail them all). `skipped` never started. Between batches
 * the event loop serves I/O: an in-process create may never wait on a socket, so without the
 * turn a pass of 500 creations would hold every other request until it ends.
 */
export async function createInBatches(total: number, one: (i: number) => Promise<void>): Promise<{ done: number; skipped: number; error?: unknown }> {
  let done = 0;
  let i = 0;
  for (const size of slowStartBatches(total)) {
    if (i > 0) await yieldToIO();
    const results = await Promise.allSettled(Array.from({ length: size }, () => one(i++)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    done += results.filter((r) => r.status === 'fulfilled').length;
    if (failed) return { done, skipped: total - i, error: failed.reason };
  }
  return { done, skipped: 0 };
}
