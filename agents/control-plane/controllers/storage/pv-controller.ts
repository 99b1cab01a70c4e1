// The PersistentVolume controller's shell (upstream persistentvolume-binder): claims and volumes
// from shared informers, the decisions in binding-rules.ts, the writes here. Binding writes the
// volume's claimRef first, then its phase, then the claim's volumeName and status, so a restart
// between any two resumes from what the store holds. Claims of the built-in local-path class are
// provisioned here (the object only; the node's kubelet owns the directory).
import type { Logger } from '../../../api/log.ts';
import { ApiError } from '../../apiserver/errors.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import { recordEvent } from '../../client/events.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { type ControllerOptions, QueueController } from '../workloads/controller.ts';
import type { SharedInformer } from '../workloads/shared-informers.ts';
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_STORAGE_PROVISIONER,
  boundToClaim,
  type Event,
  planClaim,
  planVolume,
} from './binding-rules.ts';
import { expansionStatus, planExpansion } from './expansion-rules.ts';
import { LOCAL_PATH_PROVISIONER, localPathVolume } from './local-path-rules.ts';

const COMPONENT = 'persistentvolume-controller';
const VOLUMES = '/api/v1/persistentvolumes';
const claimPath = (c: Obj) => `/api/v1/namespaces/${c.metadata.namespace}/persistentvolumeclaims/${c.metadata.name}`;

export class PersistentVolumeController extends QueueController {
  private readonly claims: SharedInformer;
  private readonly volumes: SharedInformer;
  private readonly classes: SharedInformer;
  private readonly nodes: SharedInformer;
  /** the last event sent per object, so a resync does not repeat it */
  private readonly said = new Map<string, string>();

  constructor(client: LoopbackClient, log: Logger, o: ControllerOptions = {}) {
    super(client, log, o);
    this.claims = this.informers.get('/api/v1/persistentvolumeclaims');
    this.volumes = this.informers.get(VOLUMES);
    this.classes = this.informers.get('/apis/storage.k8s.io/v1/storageclasses');
    this.nodes = this.informers.get('/api/v1/nodes');
    const claim = (c: Obj) => {
      this.enqueue(`claim:${c.metadata.namespace}/${c.metadata.name}`);
      if (c.spec?.volumeName) this.enqueue(`volume:${c.spec.volumeName}`);
    };
    const volume = (v: Obj) => {
      this.enqueue(`volume:${v.metadata.name}`);
      const ref = v.spec?.claimRef;
      if (ref) this.enqueue(`claim:${ref.namespace}/${ref.name}`);
      this.pendingClaims();
    };
    this.claims.addHandlers({
      add: claim,
      update: claim,
      delete: (c) => {
        this.said.delete(`claim:${c.metadata.namespace}/${c.metadata.name}`);
        if (c.spec?.volumeName) this.enqueue(`volume:${c.spec.volumeName}`);
      },
    });
    this.volumes.addHandlers({
      add: volume,
      update: volume,
      delete: (v) => {
        this.said.delete(`volume:${v.metadata.name}`);
        volume(v);
      },
    });
    this.classes.addHandlers({ add: () => this.pendingClaims() });
  }

  /** A new volume or class may satisfy any claim still waiting. */
  private pendingClaims(): void {
    for (const [k, c] of this.claims.cache) if (c.status?.phase !== 'Bound') this.enqueue(`claim:${k}`);
  }

  protected watched(): SharedInformer[] {
    return [this.claims, this.volumes, this.classes, this.nodes];
  }

  protected *initialKeys(): Iterable<string> {
    for (const k of this.volumes.cache.keys()) yield `volume:${k}`;
    for (const k of this.claims.cache.keys()) yield `claim:${k}`;
  }

  private async event(key: string, about: Obj, e: Event | undefined): Promise<void> {
    if (!e || this.said.get(key) === e.message) return;
    this.said.set(key, e.message);
    await recordEvent(this.client, about, e.type, e.reason, e.message, COMPONENT);
  }

  protected async sync(key: string): Promise<void> {
    if (key.startsWith('volume:')) return this.syncVolume(key, key.slice(7));
    return this.syncClaim(key, key.slice(6));
  }

  private async syncVolume(key: string, name: string): Promise<void> {
    const v = this.volumes.cache.get(name);
    if (!v || (v.metadata.deletionTimestamp && !v.metadata.finalizers?.length)) return;
    const ref = v.spec?.claimRef;
    const claim = ref ? this.claims.cache.get(`${ref.namespace}/${ref.name}`) : undefined;
    const plan = planVolume(v, claim, [LOCAL_PATH_PROVISIONER]);
    if (plan.phase === 'Available' && plan.unbind) {
      const { claimRef: _, ...spec } = v.spec;
      const annotations = { ...(v.metadata.annotations ?? {}) };
      delete annotations[ANN_BOUND_BY_CONTROLLER];
      await this.client.update(`${VOLUMES}/${name}`, { ...v, metadata: { ...v.metadata, annotations }, spec });
      return;
    }
    const status: Record<string, unknown> = { ...(v.status ?? {}), phase: plan.phase };
    if (plan.phase === 'Failed') status.message = plan.message;
    else delete status.message;
    if (v.status?.phase !== plan.phase) status.lastPhaseTransitionTime = new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await this.writeStatus(`${VOLUMES}/${name}`, v, status);
    await this.event(key, v, plan.event);
    // a released volume of the built-in provisioner with reclaim Delete goes; its node's kubelet
    // removes the directory before the cleanup finalizer lets the object go
    if (plan.phase === 'Released' && v.spec?.persistentVolumeReclaimPolicy === 'Delete' && !v.metadata.deletionTimestamp) {
      await this.client.delete(`${VOLUMES}/${name}`);
    }
  }

  private async syncClaim(key: string, nsName: string): Promise<void> {
    const c = this.claims.cache.get(nsName);
    if (!c) return;
    const world = { volumes: this.volumes.cache, classes: this.classes.cache, nodes: this.nodes.cache };
    const plan = planClaim(c, world);
    switch (plan.action) {
      case 'none':
        return;
      case 'bind':
        if (await this.expand(key, c, plan.volume)) return;
        return this.bind(c, plan.volume);
      case 'lost':
        await this.writeStatus(claimPath(c), c, { ...(c.status ?? {}), phase: 'Lost' });
        return this.event(key, c, plan.event);
      case 'pending':
        await this.writeStatus(claimPath(c), c, { ...(c.status ?? {}), phase: 'Pending' });
        return this.event(key, c, plan.event);
      case 'provision':
        return this.provision(key, c, plan.provisioner, plan.node);
    }
  }

  private async provision(key: string, c: Obj, provisioner: string, node: string | undefined): Promise<void> {
    const a = c.metadata.annotations ?? {};
    if (a[ANN_STORAGE_PROVISIONER] !== provisioner) {
      await this.client.update(claimPath(c), {
        ...c,
        metadata: { ...c.metadata, annotations: { ...a, [ANN_STORAGE_PROVISIONER]: provisioner, [ANN_BETA_STORAGE_PROVISIONER]: provisioner } },
      });
      return;
    }
    if (provisioner !== LOCAL_PATH_PROVISIONER) {
      return this.event(key, c, {
        type: 'Normal',
        reason: 'ExternalProvisioning',
        message: `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
      });
    }
    const sc = this.classes.cache.get(c.spec.storageClassName);
    const pv = sc && localPathVolume(c, sc, node ?? '');
    if (!pv || 'error' in pv) {
      return this.event(key, c, {
        type: 'Warning',
        reason: 'ProvisioningFailed',
        message: `failed to provision volume with StorageClass "${c.spec.storageClassName}": ${pv?.error ?? 'class not found'}`,
      });
    }
    try {
      await this.client.create(VOLUMES, pv);
    } catch (e) {
      // made before a restart or by a sync racing this one: binding picks it up
      if (!(e instanceof ApiError && e.code === 409)) throw e;
      return;
    }
    await this.event(key, c, { type: 'Normal', reason: 'ProvisioningSucceeded', message: `Successfully provisioned volume ${pv.metadata.name}` });
  }

  /** One step of growing a bound local-path claim (expansion-rules.ts); false when there is none. */
  private async expand(key: string, c: Obj, v: Obj): Promise<boolean> {
    const plan = planExpansion(c, v, this.classes.cache.get(c.spec?.storageClassName ?? ''));
    if (plan.step === 'none') return false;
    if (plan.step === 'volume') {
      await this.client.update(`${VOLUMES}/${v.metadata.name}`, { ...v, spec: { ...v.spec, capacity: { ...v.spec.capacity, storage: plan.size } } });
      return true;
    }
    const now = new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await this.writeStatus(claimPath(c), c, expansionStatus(c, plan.step, plan.size, now));
    // a new resize is a new event, even with the same message as the last one
    this.said.delete(key);
    await this.event(key, c, plan.event);
    return true;
  }

  /** upstream bind(): volume claimRef, volume phase, claim volumeName, claim status, in that order. */
  private async bind(c: Obj, v: Obj): Promise<void> {
    const name = v.metadata.name!;
    if (!boundToClaim(v, c) || !v.spec.claimRef.uid) {
      const claimRef = {
        kind: 'PersistentVolumeClaim',
        apiVersion: 'v1',
        namespace: c.metadata.namespace,
        name: c.metadata.name,
        uid: c.metadata.uid,
        resourceVersion: c.metadata.resourceVersion,
      };
      const annotations = v.spec.claimRef ? v.metadata.annotations : { ...(v.metadata.annotations ?? {}), [ANN_BOUND_BY_CONTROLLER]: 'yes' };
      v = await this.client.update(`${VOLUMES}/${name}`, { ...v, metadata: { ...v.metadata, annotations }, spec: { ...v.spec, claimRef } });
    }
    if (v.status?.phase !== 'Bound') v = await this.writeStatus(`${VOLUMES}/${name}`, v, { ...(v.status ?? {}), phase: 'Bound' });
    const a = c.metadata.annotations ?? {};
    if (c.spec.volumeName !== name || a[ANN_BIND_COMPLETED] !== 'yes') {
      const annotations = { ...a, [ANN_BIND_COMPLETED]: 'yes', ...(c.spec.volumeName ? {} : { [ANN_BOUND_BY_CONTROLLER]: 'yes' }) };
      c = await this.client.update(claimPath(c), { ...c, metadata: { ...c.metadata, annotations }, spec: { ...c.spec, volumeName: name } });
    }
    await this.writeStatus(claimPath(c), c, { ...(c.status ?? {}), phase: 'Bound', accessModes: v.spec.accessModes, capacity: v.spec.capacity });
  }
}
