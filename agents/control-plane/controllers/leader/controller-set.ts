// The controller manager's set: every workload, endpoints, garbage-collection and
// service-account controller on one set of shared informers, started only for the types the API
// serves, and run under leader election so that one process of several is active.
import type { Logger } from '../../../api/log.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { podPace as newPodPace } from '../workloads/rate-rules.ts';
import type { TokenBucket } from '../../../api/token-bucket.ts';
import { EndpointsController, EndpointSliceController } from '../endpoints/controllers.ts';
import { DisruptionController } from '../disruption/disruption.ts';
import { GarbageCollector } from '../gc/gc.ts';
import { HorizontalPodAutoscalerController } from '../hpa/hpa.ts';
import { ServiceAccountController } from '../serviceaccount/serviceaccount.ts';
import { ServiceLBController } from '../servicelb/servicelb.ts';
import { StorageProtectionController } from '../storage/protection.ts';
import { PersistentVolumeController } from '../storage/pv-controller.ts';
import { CronJobController } from '../workloads/cronjob.ts';
import { DaemonSetController } from '../workloads/daemonset.ts';
import { DeploymentController } from '../workloads/deployment.ts';
import { JobController } from '../workloads/job.ts';
import { ReplicaSetController } from '../workloads/replicaset.ts';
import { replicationControllerController } from '../workloads/replicationcontroller.ts';
import { ResourceQuotaController } from '../workloads/resourcequota.ts';
import { SharedInformers } from '../workloads/shared-informers.ts';
import { StatefulSetController } from '../workloads/statefulset.ts';
import { type Election, runWhenLeader } from './leader.ts';

export interface ControllerSetOptions {
  workers?: number;
  /** Job back-off after a pod failure (upstream 10 s) */
  jobBackoffBaseMs?: number;
  /** controller names to leave out */
  disable?: string[];
  /** the garbage collector's discovery period (upstream 30 s; tests shorten it) */
  gcRediscoverMs?: number;
  /** the HPA controller's sync period (upstream --horizontal-pod-autoscaler-sync-period, 15 s; tests shorten it) */
  hpaSyncPeriodMs?: number;
  /**
   * More controllers to run only while leading (the scheduler, node IPAM, namespace, node
   * lifecycle, pod GC ...): made afresh each time leadership is won, since a stopped controller
   * is not restarted.
   */
  /** controllers made outside the table above; they may read the set's shared informers */
  extra?: ((informers: SharedInformers) => Controller)[];
}

export interface Controller {
  start(): Promise<void>;
  stop(): void;
}

type Factory = (
  client: LoopbackClient,
  log: Logger,
  o: { informers: SharedInformers; workers?: number; podPace: TokenBucket },
  set: ControllerSetOptions,
) => Controller;

/** name -> the resource it needs served (group/version/plural) and how to build it */
const CONTROLLERS: [string, string, Factory][] = [
  ['replicaset', 'apps/v1/replicasets', (c, l, o) => new ReplicaSetController(c, l, o)],
  ['replicationcontroller', 'v1/replicationcontrollers', (c, l, o) => replicationControllerController(c, l, o)],
  ['resourcequota', 'v1/resourcequotas', (c, l, o) => new ResourceQuotaController(c, l, o)],
  ['deployment', 'apps/v1/deployments', (c, l, o) => new DeploymentController(c, l, o)],
  ['daemonset', 'apps/v1/daemonsets', (c, l, o) => new DaemonSetController(c, l, o)],
  ['statefulset', 'apps/v1/statefulsets', (c, l, o) => new StatefulSetController(c, l, o)],
  ['job', 'batch/v1/jobs', (c, l, o, s) => new JobController(c, l, { ...o, backoffBaseMs: s.jobBackoffBaseMs })],
  ['cronjob', 'batch/v1/cronjobs', (c, l, o) => new CronJobController(c, l, o)],
  ['endpoints', 'v1/endpoints', (c, l, o) => new EndpointsController(c, l, o)],
  ['endpointslice', 'discovery.k8s.io/v1/endpointslices', (c, l, o) => new EndpointSliceController(c, l, o)],
  ['garbagecollector', 'v1/pods', (c, l, o, s) => new GarbageCollector(c, l, { ...o, rediscoverMs: s.gcRediscoverMs })],
  ['serviceaccount', 'v1/serviceaccounts', (c, l, o) => new ServiceAccountController(c, l, o)],
  ['persistentvolume-binder', 'v1/persistentvolumes', (c, l, o) => new PersistentVolumeController(c, l, o)],
  ['pvc-protection', 'v1/persistentvolumeclaims', (c, l, o) => new StorageProtectionController(c, l, o)],
  [
    'horizontalpodautoscaling',
    'autoscaling/v2/horizontalpodautoscalers',
    (c, l, o, s) => new HorizontalPodAutoscalerController(c, l, { informers: o.informers, syncPeriodMs: s.hpaSyncPeriodMs }),
  ],
  ['disruption', 'policy/v1/poddisruptionbudgets', (c, l, o) => new DisruptionController(c, l, o)],
  ['servicelb', 'v1/services', (c, l, o) => new ServiceLBController(c, l, o)],
];

export const CONTROLLER_NAMES = CONTROLLERS.map(([n]) => n);

/** "group/version/plural" of every resource the API serves. */
async function servedResources(client: LoopbackClient): Promise<Set<string>> {
  const out = new Set<string>();
  const add = async (gv: string, path: string) => {
    const l = await client.request<{ resources?: { name: string }[] }>('GET', path).catch(() => ({ resources: [] }));
    for (const r of l.resources ?? []) out.add(`${gv}/${r.name}`);
  };
  await add('v1', '/api/v1');
  const groups = await client.request<{ groups?: { versions?: { groupVersion: string }[] }[] }>('GET', '/apis');
  for (const g of groups.groups ?? []) for (const v of g.versions ?? []) await add(v.groupVersion, `/apis/${v.groupVersion}`);
  return out;
}

export class ControllerSet {
  private informers: SharedInformers | undefined;
  private running: Controller[] = [];
  private stopped = false;

  constructor(
    private readonly client: LoopbackClient,
    private readonly log: Logger,
    private readonly o: ControllerSetOptions = {},
  ) {}

  async start(): Promise<void> {
    const served = await servedResources(this.client);
    if (this.stopped) return;
    const informers = new SharedInformers(this.client, this.log);
    this.informers = informers;
    // one pace for every pod the set creates or deletes: they all share the API server's event loop
    const podPace = newPodPace();
    for (const [name, needs, make] of CONTROLLERS) {
      if (this.o.disable?.includes(name)) continue;
      if (!served.has(needs)) {
        this.log.warn({ controller: name, resource: needs }, 'resource not served; controller not started');
        continue;
      }
      this.running.push(make(this.client, this.log.child({ controller: name }), { informers, workers: this.o.workers, podPace }, this.o));
    }
    for (const make of this.o.extra ?? []) this.running.push(make(informers));
    await Promise.all(this.running.map((c) => c.start()));
    this.log.info({ controllers: this.running.length }, 'controllers started');
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.running) c.stop();
    this.running = [];
    this.informers?.stop();
    this.informers = undefined;
  }
}

export interface ManagerOptions extends ControllerSetOptions {
  identity: string;
  leaseName?: string;
  leaseSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
}

/** The controller set, run while this process holds the kube-system/hawser-controller-manager Lease. */
export function runControllerManager(client: LoopbackClient, log: Logger, o: ManagerOptions): Election {
  let set: ControllerSet | undefined;
  return runWhenLeader(
    client,
    {
      name: o.leaseName ?? 'hawser-controller-manager',
      identity: o.identity,
      leaseSeconds: o.leaseSeconds,
      renewDeadlineSeconds: o.renewDeadlineSeconds,
      retryPeriodSeconds: o.retryPeriodSeconds,
      log,
    },
    async () => {
      set = new ControllerSet(client, log, o);
      await set.start();
    },
    () => {
      set?.stop();
      set = undefined;
    },
  );
}
