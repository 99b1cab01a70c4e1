// Mirror pods: for every static pod, a read-only copy in the API (annotation kubernetes.io/config.mirror)
// so that kubectl shows it and its status. A mirror pod that is deleted, or that no longer matches
// its static pod, is replaced; one whose static pod is gone is removed. The static pod itself keeps
// running whatever happens to its mirror, as upstream's mirror pod manager behaves.
import type { V1Pod } from '@kubernetes/client-node';
import { ApiError, isNotFound, type ApiClient } from '../../api/client.ts';
import type { Logger } from '../../api/log.ts';
import { core } from '../../api/paths.ts';
import { CONFIG_HASH, CONFIG_MIRROR, isMirrorPod, mirrorPod } from './static-pods.ts';

const key = (p: V1Pod) => `${p.metadata!.namespace}/${p.metadata!.name}`;

export interface MirrorPlan {
  create: V1Pod[];
  remove: V1Pod[];
}

/** Which mirror pods to create and delete so that they match the static pods. Pure. */
export function planMirrors(statics: V1Pod[], apiPods: V1Pod[]): MirrorPlan {
  const mirrors = new Map(apiPods.filter(isMirrorPod).map((p) => [key(p), p]));
  const taken = new Map(apiPods.map((p) => [key(p), p]));
  const plan: MirrorPlan = { create: [], remove: [] };
  const wanted = new Set<string>();
  for (const s of statics) {
    wanted.add(key(s));
    const m = mirrors.get(key(s));
    const hash = s.metadata!.annotations![CONFIG_HASH];
    if (m && m.metadata?.annotations?.[CONFIG_MIRROR] === hash && !m.metadata?.deletionTimestamp) continue;
    if (m) plan.remove.push(m);
    else if (taken.has(key(s))) continue; // a regular pod of the same name: leave it alone
    plan.create.push(s);
  }
  for (const m of mirrors.values()) if (!wanted.has(key(m))) plan.remove.push(m);
  return plan;
}

/** A deleted mirror pod is recreated after a pause, so that `kubectl delete` sees it go first. */
const RECREATE_AFTER_MS = 1000;

export class MirrorPods {
  private running = false;
  private again = false;
  private removedAt = new Map<string, number>();
  private retry?: NodeJS.Timeout;

  constructor(
    private api: ApiClient,
    private node: () => { name: string; uid?: string },
    private log: Logger,
  ) {}

  /** Brings the API's mirror pods in line; concurrent calls collapse into one more pass. */
  async sync(statics: () => V1Pod[], apiPods: () => V1Pod[]): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        const plan = planMirrors(statics(), apiPods());
        for (const m of plan.remove) {
          await this.remove(m);
          this.removedAt.set(key(m), Date.now());
        }
        for (const s of plan.create) {
          const wait = (this.removedAt.get(key(s)) ?? 0) + RECREATE_AFTER_MS - Date.now();
          if (wait > 0) {
            clearTimeout(this.retry);
            this.retry = setTimeout(() => void this.sync(statics, apiPods), wait);
            continue;
          }
          this.removedAt.delete(key(s));
          await this.create(s);
        }
      } while (this.again);
    } finally {
      this.running = false;
    }
  }

  stop(): void {
    clearTimeout(this.retry);
  }

  private async remove(m: V1Pod): Promise<void> {
    try {
      await this.api.delete(core('pods', m.metadata!.namespace, m.metadata!.name), {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        gracePeriodSeconds: 0,
        preconditions: { uid: m.metadata!.uid },
      });
      this.log.info({ pod: key(m) }, 'mirror pod deleted');
    } catch (err) {
      if (!isNotFound(err) && !(err instanceof ApiError && err.code === 409)) this.log.warn({ pod: key(m), err: String(err) }, 'could not delete mirror pod');
    }
  }

  private async create(s: V1Pod): Promise<void> {
    try {
      await this.api.create(core('pods', s.metadata!.namespace), mirrorPod(s, this.node()));
      this.log.info({ pod: key(s) }, 'mirror pod created');
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) this.log.warn({ pod: key(s), err: String(err) }, 'could not create mirror pod');
    }
  }
}
