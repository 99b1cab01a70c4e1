// Deployment controller: one ReplicaSet per pod template revision, rolled by RollingUpdate
// (maxSurge/maxUnavailable) or Recreate, scaled proportionally mid-rollout, frozen (but
// scalable) while paused, old sets pruned to revisionHistoryLimit, and status/conditions for
// `kubectl rollout status`. `rollout undo` is kubectl's own template patch: the old set then
// matches the template again and becomes the new one under the next revision.
import type { Logger } from '../../../api/log.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import { keyOf } from '../../client/informer.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { recordEvent } from '../../client/events.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { type ControllerOptions, inNamespace, isNotFound, OwnerController } from './controller.ts';
import {
  activeSets,
  isRolling,
  isScalingEvent,
  newSetTarget,
  oldPodsRunning,
  oldSetTargets,
  replicaAnnotations,
  replicasOf,
  scaleTargets,
} from './deployment-rules.ts';
import { findNewSet, historyVictims, HASH_LABEL, newSetFor, nextRevision, REVISION, syncedAnnotations } from './deployment-revisions.ts';
import { calculateStatus, isComplete, newSetCondition, pauseCondition, progressDeadline, rolloutStatus, setCondition } from './deployment-status.ts';
import { controllerOf, isControlledBy, sameTemplate, selectorMatcher } from './meta.ts';
import type { SharedInformer } from './shared-informers.ts';

const COMPONENT = 'deployment-controller';
const RS_PATH = '/apis/apps/v1/replicasets';

export class DeploymentController extends OwnerController {
  private readonly pods: SharedInformer;

  constructor(client: LoopbackClient, log: Logger, o: ControllerOptions = {}) {
    super(client, log, o, { path: '/apis/apps/v1/deployments', kind: 'Deployment', apiVersion: 'apps/v1', childPath: RS_PATH });
    // Recreate waits for old pods to be gone: their deletion must wake the Deployment
    this.pods = this.informers.get('/api/v1/pods');
    this.pods.addHandlers({ delete: (p) => this.wakeFromPod(p), update: (p, old) => p.status?.phase !== old.status?.phase && this.wakeFromPod(p) });
  }

  protected watched(): SharedInformer[] {
    return [...super.watched(), this.pods];
  }

  protected selects(d: Obj, rs: Obj): boolean {
    return selectorMatcher(d.spec?.selector)(rs.metadata.labels);
  }

  private wakeFromPod(p: Obj): void {
    const ref = controllerOf(p);
    if (ref?.kind !== 'ReplicaSet') return;
    const rs = this.children.cache.get(`${p.metadata.namespace}/${ref.name}`);
    const key = rs && this.ownerKeyOf(rs);
    if (key) this.enqueue(key);
  }

  private rsPath(rs: Obj): string {
    return `${inNamespace(RS_PATH, rs.metadata.namespace!)}/${rs.metadata.name}`;
  }

  private dPath(d: Obj): string {
    return `${inNamespace(this.kind.path, d.metadata.namespace!)}/${d.metadata.name}`;
  }

  private event(d: Obj, reason: string, message: string, type: 'Normal' | 'Warning' = 'Normal'): void {
    void recordEvent(this.client, { ...d, kind: 'Deployment', apiVersion: 'apps/v1' }, type, reason, message, COMPONENT);
  }

  protected async sync(key: string): Promise<void> {
    let d = this.owners.cache.get(key);
    if (!d) return;
    const rss = await this.claim(d);
    if (d.metadata.deletionTimestamp) {
      const newRS = findNewSet(d, rss);
      await this.writeStatus(this.dPath(d), d, calculateStatus(d, rss, newRS, this.now()));
      return;
    }
    const pc = pauseCondition(d);
    if (pc) {
      const status = structuredClone(d.status ?? {});
      setCondition(status, pc, this.now());
      d = await this.writeStatus(this.dPath(d), d, status);
    }
    if (d.spec?.paused || isScalingEvent(d, rss)) return this.scaleOnly(d, rss);
    if (isRolling(d)) return this.rolling(d, rss);
    return this.recreate(d, rss);
  }

  /** The new set (made when asked and missing) and the old ones, with the revision synced. */
  private async sets(d: Obj, rss: Obj[], create: boolean): Promise<{ d: Obj; newRS?: Obj; olds: Obj[] }> {
    const existing = findNewSet(d, rss);
    const olds = rss.filter((rs) => rs !== existing);
    const revision = nextRevision(olds);
    if (existing) {
      let newRS = existing;
      const annotations = syncedAnnotations(d, existing, revision);
      const minReady = d.spec?.minReadySeconds ?? 0;
      if (annotations || (existing.spec?.minReadySeconds ?? 0) !== minReady) {
        newRS = await this.client.update(this.rsPath(existing), {
          ...existing,
          metadata: { ...existing.metadata, annotations: annotations ?? existing.metadata.annotations },
          spec: { ...existing.spec, minReadySeconds: minReady },
        });
      }
      d = await this.syncRevision(d, newRS);
      const cond = newSetCondition(d, newRS.metadata.name!, false);
      if (cond) d = await this.withCondition(d, cond);
      return { d, newRS, olds };
    }
    if (!create) return { d, olds };
    const want = newSetFor(d, revision, newSetTarget(d, olds, undefined));
    let newRS: Obj;
    try {
      newRS = await this.client.create(inNamespace(RS_PATH, d.metadata.namespace!), want);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists')) throw e;
      const have = await this.client.get(`${inNamespace(RS_PATH, d.metadata.namespace!)}/${want.metadata.name}`);
      if (isControlledBy(have, d) && sameTemplate(have.spec?.template, d.spec?.template, HASH_LABEL)) return { d, newRS: have, olds };
      // a different template hashed to the same name: bump collisionCount and try again
      const status = { ...(d.status ?? {}), collisionCount: (d.status?.collisionCount ?? 0) + 1 };
      await this.writeStatus(this.dPath(d), d, status);
      throw new Error(`hash collision for ReplicaSet ${want.metadata.name}; collisionCount now ${status.collisionCount}`);
    }
    const n = replicasOf(newRS);
    if (n > 0) this.event(d, 'ScalingReplicaSet', `Scaled up replica set ${newRS.metadata.name} from 0 to ${n}`);
    d = await this.syncRevision(d, newRS);
    d = await this.withCondition(d, newSetCondition(d, newRS.metadata.name!, true)!);
    return { d, newRS, olds };
  }

  /** The Deployment carries its new set's revision annotation, as upstream (kubectl rollout undo patches it). */
  private async syncRevision(d: Obj, newRS: Obj): Promise<Obj> {
    const rev = newRS.metadata.annotations?.[REVISION];
    if (!rev || d.metadata.annotations?.[REVISION] === rev) return d;
    return this.client.update(this.dPath(d), { ...d, metadata: { ...d.metadata, annotations: { ...(d.metadata.annotations ?? {}), [REVISION]: rev } } });
  }

  private async withCondition(d: Obj, cond: NonNullable<ReturnType<typeof newSetCondition>>): Promise<Obj> {
    const status = structuredClone(d.status ?? {});
    setCondition(status, cond, this.now());
    return this.writeStatus(this.dPath(d), d, status);
  }

  /** Sets a set's size and its desired/max annotations; returns the stored set. */
  private async scale(d: Obj, rs: Obj, size: number): Promise<Obj> {
    const annotations = { ...(rs.metadata.annotations ?? {}), ...replicaAnnotations(d) };
    const from = replicasOf(rs);
    const sameAnn = JSON.stringify(annotations) === JSON.stringify(rs.metadata.annotations ?? {});
    if (from === size && sameAnn) return rs;
    const out = await this.client.update(this.rsPath(rs), { ...rs, metadata: { ...rs.metadata, annotations }, spec: { ...rs.spec, replicas: size } });
    if (from !== size) this.event(d, 'ScalingReplicaSet', `Scaled ${size > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${size}`);
    return out;
  }

  private async scaleAll(d: Obj, sets: Obj[], targets: Map<string, number>): Promise<Obj[]> {
    const out: Obj[] = [];
    for (const rs of sets) {
      const t = targets.get(rs.metadata.name!);
      out.push(t === undefined ? rs : await this.scale(d, rs, t));
    }
    return out;
  }

  private async scaleOnly(d0: Obj, rss: Obj[]): Promise<void> {
    const { d, newRS, olds } = await this.sets(d0, rss, false);
    const all = await this.scaleAll(d, [...olds, ...(newRS ? [newRS] : [])], scaleTargets(d, newRS, olds));
    const newNow = newRS && all.find((rs) => rs.metadata.uid === newRS.metadata.uid);
    if (d.spec?.paused)
      await this.pruneHistory(
        d,
        all.filter((rs) => rs !== newNow),
      );
    await this.writeStatus(this.dPath(d), d, calculateStatus(d, all, newNow, this.now()));
  }

  private async rolling(d0: Obj, rss: Obj[]): Promise<void> {
    const { d, newRS, olds } = await this.sets(d0, rss, true);
    let nrs = newRS!;
    const desired = replicasOf(d);
    const cur = replicasOf(nrs);
    if (cur !== desired) {
      const target = cur > desired ? desired : newSetTarget(d, [...olds, nrs], nrs);
      if (target !== cur) {
        nrs = await this.scale(d, nrs, target);
        return this.writeRollout(d, [...olds, nrs], nrs);
      }
    }
    const targets = oldSetTargets(d, [...olds, nrs], activeSets(olds), nrs);
    const all = [...(await this.scaleAll(d, olds, targets)), nrs];
    if (!targets.size && isComplete(d, d.status ?? {})) await this.pruneHistory(d, olds);
    return this.writeRollout(d, all, nrs);
  }

  private async recreate(d0: Obj, rss: Obj[]): Promise<void> {
    let { d, newRS, olds } = await this.sets(d0, rss, false);
    const active = activeSets(olds);
    if (active.length) {
      const zero = new Map(active.map((rs) => [rs.metadata.name!, 0]));
      const all = await this.scaleAll(d, olds, zero);
      return this.writeRollout(d, [...all, ...(newRS ? [newRS] : [])], newRS);
    }
    const podsOf = (rs: Obj) => [...this.pods.cache.values()].filter((p) => isControlledBy(p, rs));
    if (oldPodsRunning(olds, podsOf)) return this.writeRollout(d, [...olds, ...(newRS ? [newRS] : [])], newRS);
    if (!newRS) ({ d, newRS, olds } = await this.sets(d, rss, true));
    let nrs = newRS!;
    if (replicasOf(nrs) !== replicasOf(d)) nrs = await this.scale(d, nrs, replicasOf(d));
    if (isComplete(d, d.status ?? {})) await this.pruneHistory(d, olds);
    return this.writeRollout(d, [...olds, nrs], nrs);
  }

  private async pruneHistory(d: Obj, olds: Obj[]): Promise<void> {
    for (const rs of historyVictims(d, olds)) {
      try {
        await this.client.request('DELETE', this.rsPath(rs), { body: { propagationPolicy: 'Background', preconditions: { uid: rs.metadata.uid } } });
        this.log.info({ deployment: keyOf(d), rs: rs.metadata.name }, 'pruned old ReplicaSet beyond revisionHistoryLimit');
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  private async writeRollout(d: Obj, all: Obj[], newRS: Obj | undefined): Promise<void> {
    const now = this.now();
    const status = rolloutStatus(d, all, newRS, now);
    await this.writeStatus(this.dPath(d), d, status);
    const deadline = progressDeadline(d, status);
    if (deadline !== undefined && !isComplete(d, status)) this.enqueueAfter(keyOf(d), deadline - now + 1000);
  }
}
