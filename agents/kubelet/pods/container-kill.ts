// Stopping one container the way upstream's killContainer does: a Killing event, the preStop hook
// (bounded by the grace period), then CRI StopContainer with what is left of the grace period, never
// less than 2 s. A container whose pod is gone is stopped with the grace period and preStop handler
// the kubelet recorded in its annotations.
import type { V1Container, V1LifecycleHandler, V1Pod } from '@kubernetes/client-node';
import { isNotFound } from '../cri/client.ts';
import { runHandler } from '../probes/handlers.ts';
import type { PodDeps } from './deps.ts';
import * as L from './labels.ts';

export const MIN_GRACE_SEC = 2;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface KillTarget {
  pod: V1Pod;
  container: V1Container;
  id: string;
  podIP: string;
  graceSec: number;
  /** the Killing event's message; default "Stopping container <name>" */
  message?: string;
}

export async function killContainer(d: PodDeps, t: KillTarget): Promise<void> {
  const { pod, container: c } = t;
  d.events.pod(pod, c, 'Normal', 'Killing', t.message || `Stopping container ${c.name}`);
  let grace = t.graceSec;
  const preStop = c.lifecycle?.preStop;
  if (preStop && grace > 0) {
    const began = Date.now();
    const abort = new AbortController();
    const hook = runHandler(pod, c, preStop, { containerId: t.id, podIP: t.podIP, ports: c.ports ?? [], exec: d.rt.exec.bind(d.rt) }, grace, abort.signal).then(
      (r) => {
        if (!r.ok) {
          d.log.warn({ pod: pod.metadata?.name, container: c.name, err: r.output }, 'preStop hook failed');
          d.events.pod(pod, c, 'Warning', 'FailedPreStopHook', 'PreStopHook failed');
        }
      },
    );
    await Promise.race([hook, sleep(grace * 1000)]);
    abort.abort();
    grace -= Math.floor((Date.now() - began) / 1000);
  }
  // gone already: the runtime's NOT_FOUND status, not its wording (which differs between runtimes)
  await d.rt.stopContainer(t.id, Math.max(grace, MIN_GRACE_SEC)).catch((err) => {
    if (!isNotFound(err)) throw err;
  });
}

/** Rebuilds enough of a pod and container from runtime annotations to stop it gracefully. */
export function restoreFromAnnotations(
  uid: string,
  namespace: string,
  podName: string,
  name: string,
  annotations: Record<string, string>,
): { pod: V1Pod; container: V1Container; graceSec: number } {
  let preStop: V1LifecycleHandler | undefined;
  try {
    preStop = annotations[L.PRESTOP_HANDLER] ? JSON.parse(annotations[L.PRESTOP_HANDLER]) : undefined;
  } catch {
    preStop = undefined;
  }
  const graceSec = Number(annotations[L.TERMINATION_GRACE] ?? 30);
  const container: V1Container = { name, ...(preStop ? { lifecycle: { preStop } } : {}) };
  const pod: V1Pod = { metadata: { uid, namespace, name: podName }, spec: { containers: [container], terminationGracePeriodSeconds: graceSec } };
  return { pod, container, graceSec: Number.isFinite(graceSec) ? graceSec : 30 };
}
