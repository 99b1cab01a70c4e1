// The pods this kubelet runs, merged from its sources as upstream's config.PodConfig merges them:
// pods bound to the node through the API, static pods from the manifest directory (source "file"),
// and the mirror pods the API holds for those static pods. A static pod wins over an API pod of the
// same uid; a mirror pod is never run itself, it only requeues its static pod and is where that
// pod's status goes. Pure bookkeeping: the caller applies the returned change (queue, mirrors).
import type { V1Pod } from '@kubernetes/client-node';
import { CONFIG_MIRROR, isMirrorPod } from './static/static-pods.ts';

/** What the caller must do after a source event. */
export interface SourceChange {
  /** the pod uid to sync again */
  requeue?: string;
  /** the static pod (uid) whose status must be written again: its mirror object is new */
  statusStale?: string;
  /** the set of mirror pods changed: reconcile mirrors against the static pods */
  mirrorsChanged: boolean;
}

const KUBELET_CONDITIONS = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);

/**
 * An update that changed only what the kubelet itself reports (status other than foreign conditions).
 * A phase change is someone else's (an eviction, a controller) unless `own`: the new status is the
 * one this kubelet wrote, as when its own Running status comes back (a sync per pod started, #26);
 * a terminal phase always gets its pass (it tears the pod's sandbox and volumes down).
 */
export function statusEcho(p: V1Pod, old: V1Pod, own = false): boolean {
  const { resourceVersion: _a, managedFields: _b, ...m1 } = p.metadata ?? {};
  const { resourceVersion: _c, managedFields: _d, ...m2 } = old.metadata ?? {};
  const foreign = (x: V1Pod) => JSON.stringify((x.status?.conditions ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type)).map((c) => [c.type, c.status]));
  return (
    JSON.stringify(m1) === JSON.stringify(m2) &&
    JSON.stringify(p.spec) === JSON.stringify(old.spec) &&
    foreign(p) === foreign(old) &&
    (p.status?.phase === old.status?.phase || (own && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed'))
  );
}

const nsName = (p: V1Pod) => `${p.metadata!.namespace}/${p.metadata!.name}`;

export class PodSources {
  private readonly api = new Map<string, V1Pod>(); // by uid, mirror pods excluded
  private readonly mirrorPods = new Map<string, V1Pod>(); // by namespace/name

  /** @param staticPods the manifest source's pods by uid (read live: it changes on its own) */
  constructor(private readonly staticPods: () => ReadonlyMap<string, V1Pod>) {}

  /** An API pod added or updated. */
  track(p: V1Pod): SourceChange {
    if (isMirrorPod(p)) {
      const k = nsName(p);
      const staticUid = p.metadata!.annotations![CONFIG_MIRROR];
      // a new mirror object needs the static pod's status written again
      const statusStale = this.mirrorPods.get(k)?.metadata?.uid !== p.metadata!.uid ? staticUid : undefined;
      this.mirrorPods.set(k, p);
      return { requeue: staticUid, statusStale, mirrorsChanged: true };
    }
    this.api.set(p.metadata!.uid!, p);
    return { requeue: p.metadata!.uid!, mirrorsChanged: false };
  }

  /** An API pod deleted. */
  forget(p: V1Pod): SourceChange {
    if (isMirrorPod(p)) {
      this.mirrorPods.delete(nsName(p));
      return { mirrorsChanged: true };
    }
    this.api.delete(p.metadata!.uid!);
    return { requeue: p.metadata!.uid!, mirrorsChanged: false };
  }

  /** The pod to run under this uid: the static pod first, then the API's. */
  podFor(uid: string): V1Pod | undefined {
    return this.staticPods().get(uid) ?? this.api.get(uid);
  }

  /** Every pod to run (API pods, then static pods); mirror pods are not among them. */
  all(): V1Pod[] {
    return [...this.api.values(), ...this.staticPods().values()];
  }

  statics(): V1Pod[] {
    return [...this.staticPods().values()];
  }
  mirrors(): V1Pod[] {
    return [...this.mirrorPods.values()];
  }

  /** A status can be written: an API pod always; a static pod only through its live mirror pod. */
  statusWritable(pod: V1Pod): boolean {
    if (!this.staticPods().has(pod.metadata!.uid!)) return true;
    const mirror = this.mirrorPods.get(nsName(pod));
    return !!mirror && !mirror.metadata?.deletionTimestamp;
  }
}
