// The kubelet: registers the node, keeps its status and Lease fresh, and runs the pods bound to it
// (from the API, and static pods from its manifest directory) through the container runtime.
// Pods are reconciled one worker per pod key from a queue fed by the API watches, the probes and a
// runtime relist (PLEG), so a container that dies is noticed within a second.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1ConfigMap, V1Pod, V1PodStatus, V1Secret, V1Service } from '@kubernetes/client-node';
import { ApiClient, isNotFound } from '../api/client.ts';
import { Informer } from '../api/informer.ts';
import { loadKubeconfig } from '../api/kubeconfig.ts';
import type { Wire } from '../api/wire.ts';
import { logger } from '../api/log.ts';
import { core } from '../api/paths.ts';
import { WorkQueue } from '../api/queue.ts';
import { CriClient } from './cri/client.ts';
import { EVICTED } from './eviction/emptydir-limit.ts';
import { EvictionManager } from './eviction/eviction-manager.ts';
import { ImageGC } from './images/image-gc.ts';
import { ImageManager } from './images/image-manager.ts';
import { sourceAddressFor } from './node/address.ts';
import { readHostFacts } from './node/facts.ts';
import { NodeLoop } from './node/node-loop.ts';
import { nodeImages } from './node/node-object.ts';
import { DEFAULT_EVICTION_HARD, parseThresholds, pressure, reserveOf } from './node/pressure.ts';
import { readNodeStats } from './node/stats.ts';
import { parseDuration, parsePercent, parseReserved } from './options.ts';
import { Pleg } from './pleg.ts';
import { RuntimeEchoes } from './runtime-echo.ts';
import { PodSources, type SourceChange, statusEcho } from './pod-sources.ts';
import { criRuntime } from './pods/cri-runtime.ts';
import type { PodDeps } from './pods/deps.ts';
import { EventRecorder } from './pods/events.ts';
import { cgroupDriverMismatch } from './cri/cgroup-driver.ts';
import type { CgroupDriver } from './pods/cgroup-plan.ts';
import { PodCgroups } from './pods/pod-cgroups.ts';
import { PodSync } from './pods/pod-sync.ts';
import { podReferences } from './pods/references.ts';
import { hostDnsConfig } from './pods/resolv.ts';
import type { PodRuntime } from './pods/runtime.ts';
import { StartupTrace } from './pods/startup-trace.ts';
import { ProbeManager } from './probes/probe-manager.ts';
import { startKubeletServer } from './server/server.ts';
import { startHealthzServer, syncLoopCheck } from './server/healthz-server.ts';
import { StatsProvider } from './stats/provider.ts';
import { servingCertIssuer } from './server/serving-cert-request.ts';
import { ManifestSource } from './static/manifest-source.ts';
import { MirrorPods } from './static/mirror-pods.ts';
import { isMirrorPod } from './static/static-pods.ts';
import { ClaimSource } from './volumes/claim-source.ts';
import { VolumeManager } from './volumes/volume-manager.ts';
import { type TokenRequestAnswer, TokenManager } from './volumes/token-manager.ts';

export interface KubeletOptions {
  nodeName: string;
  kubeconfig: string;
  runtimeEndpoint: string; // unix socket path of the CRI runtime
  rootDir: string; // /var/lib/hawser/kubelet
  podLogDir: string; // /var/log/pods
  cgroupRoot: string; // parent cgroup of the pods
  /** --cgroup-driver: who makes the pod cgroups, the kubelet (cgroupfs) or systemd (slices); default cgroupfs */
  cgroupDriver?: CgroupDriver;
  /** --pod-max-pids: pids.max of each pod; unset or -1 = no limit */
  podPidsLimit?: number;
  nodeIP?: string;
  nodeLabels: Record<string, string>;
  registerWithTaints: { key: string; value?: string; effect: string }[];
  maxPods: number;
  port: number;
  /** --healthz-port: the unauthenticated 127.0.0.1:<port>/healthz (upstream 10248); 0 or unset: none */
  healthzPort?: number;
  resolvConf: string;
  relistMs: number;
  /** cluster DNS server IPs; empty: pods get the node's resolvers */
  clusterDNS?: string[];
  clusterDomain?: string;
  /** static pod manifests; default <rootDir>/pod-manifests */
  podManifestPath?: string;
  systemReserved?: string;
  kubeReserved?: string;
  evictionHard?: string;
  imageGCHighThreshold?: number;
  imageGCLowThreshold?: number;
  /** Go duration, e.g. 2m */
  imageMinimumGCAge?: string;
  podWorkers?: number;
  /** runtime calls that fork processes (sandbox and container start/stop) allowed at once */
  runtimeConcurrency?: number;
}

/** The status shows every container of the pod started (the pod startup SLI's end). */
export function allStarted(pod: V1Pod, status: Wire<V1PodStatus>): boolean {
  const cs = status.containerStatuses ?? [];
  return status.phase === 'Running' && cs.length === (pod.spec?.containers ?? []).length && cs.every((c) => !!c.state?.running);
}

const IMAGE_GC_PERIOD_MS = 5 * 60_000;
export async function startKubelet(o: KubeletOptions): Promise<{ ready: Promise<void>; stop(): Promise<void> }> {
  const log = logger('kubelet');
  const api = new ApiClient(loadKubeconfig(o.kubeconfig), `hawser-kubelet/${o.nodeName}`);
  const trace = new StartupTrace();
  const rt: PodRuntime = criRuntime(o.runtimeEndpoint, {
    heavy: o.runtimeConcurrency ?? Number(process.env.HAWSER_RUNTIME_CONCURRENCY ?? 4),
    onCall: (what, phase) => trace.mark(`${what}.${phase}`),
  });
  const runtimeVersion = await rt.version();
  const cgroupDriver = o.cgroupDriver ?? 'cgroupfs';
  const mismatch = cgroupDriverMismatch(cgroupDriver, await rt.cgroupDriver?.());
  if (mismatch) throw new Error(mismatch);
  const nodeIP = o.nodeIP ?? (await sourceAddressFor(api.auth.server));
  const facts = await readHostFacts(o.rootDir);
  const reserved = parseReserved(o.systemReserved, o.kubeReserved);
  const evictionHard = parseThresholds(o.evictionHard ?? DEFAULT_EVICTION_HARD);
  const gc = {
    highPercent: parsePercent('image-gc-high-threshold', o.imageGCHighThreshold, 85),
    lowPercent: parsePercent('image-gc-low-threshold', o.imageGCLowThreshold, 80),
    minAgeMs: parseDuration(o.imageMinimumGCAge ?? '2m'),
  };
  if (gc.lowPercent > gc.highPercent) throw new Error('--image-gc-low-threshold must not exceed --image-gc-high-threshold');
  const allocatable = () => ({
    cpuMillis: Math.max(0, facts.cpus * 1000 - reserved.cpuMillis),
    memoryBytes: Math.max(0, facts.memoryBytes - reserved.memoryBytes - reserveOf(evictionHard['memory.available'], facts.memoryBytes)),
    ephemeralStorageBytes: Math.max(
      0,
      facts.ephemeralStorageBytes - reserved.ephemeralStorageBytes - reserveOf(evictionHard['nodefs.available'], facts.ephemeralStorageBytes),
    ),
  });
  const events = new EventRecorder(api, o.nodeName, log);

  let imagefsMount: string | undefined;
  const nodeLoop = new NodeLoop(
    api,
    {
      name: o.nodeName,
      nodeIP,
      labels: o.nodeLabels,
      taints: o.registerWithTaints,
      facts,
      runtimeVersion,
      maxPods: o.maxPods,
      reserved,
      evictionHard,
      kubeletPort: o.port,
    },
    () => rt.health(),
    log,
    10_000,
    async () => {
      imagefsMount ??= (await rt.imageFs().catch(() => undefined))?.mountpoint;
      return {
        pressure: pressure(readNodeStats(o.rootDir, imagefsMount), evictionHard),
        images: nodeImages(await rt.listImages()),
      };
    },
    (uid, type, reason, message) => events.nodeEvent(uid, type, reason, message),
  );
  await nodeLoop.register();
  nodeLoop.start();
  log.info({ node: o.nodeName, nodeIP, runtimeVersion }, 'kubelet started');

  // what pods read: ConfigMaps, Secrets and Services, cluster-wide (one watch each; per-object
  // watches would each hold a connection on HTTP/1.1)
  const configMaps = new Informer<V1ConfigMap>(api, core('configmaps'), {}, log);
  const secrets = new Informer<V1Secret>(api, core('secrets'), {}, log);
  const services = new Informer<V1Service>(api, core('services'), {}, log);
  const pods = new Informer<V1Pod>(api, core('pods'), { fieldSelector: `spec.nodeName=${o.nodeName}` }, log);

  let sync: PodSync | undefined;
  const queue = new WorkQueue();
  // relists that only show what a pod's own sync made requeue nothing (runtime-echo.ts)
  const echoes = new RuntimeEchoes();
  const manifests = new ManifestSource(o.podManifestPath ?? join(o.rootDir, 'pod-manifests'), o.nodeName, log, (changed) => {
    for (const uid of changed) queue.add(uid);
    syncMirrors();
  });
  const sources = new PodSources(() => manifests.pods);
  const podFor = (uid: string): V1Pod | undefined => sources.podFor(uid);
  const allPods = (): V1Pod[] => sources.all();
  const mirrorPods = new MirrorPods(api, () => ({ name: o.nodeName, uid: nodeLoop.uid() }), log);
  const syncMirrors = () =>
    void mirrorPods.sync(
      () => sources.statics(),
      () => sources.mirrors(),
    );
  const apply = (c: SourceChange) => {
    if (c.statusStale) sync?.statusStale(c.statusStale);
    if (c.requeue) queue.add(c.requeue);
    if (c.mirrorsChanged) syncMirrors();
  };
  pods.on({
    add: (p) => {
      // a pod new to this node (not one adopted after a restart) gets a start-up timeline
      if (!isMirrorPod(p) && !p.metadata?.deletionTimestamp && !p.status?.containerStatuses?.length) {
        trace.begin(p.metadata!.uid!, `${p.metadata!.namespace}/${p.metadata!.name}`);
      }
      apply(sources.track(p));
    },
    // our own status writes come back as updates: they need no new sync; one that moved the
    // phase (Running) is kept, as the pod's IP and phase are read from it
    update: (p, old) => {
      if (statusEcho(p, old)) return;
      const change = sources.track(p);
      if (!statusEcho(p, old, !!sync?.ownStatus(p))) apply(change);
    },
    delete: (p) => {
      if (!isMirrorPod(p)) trace.forget(p.metadata!.uid!);
      echoes.forget(p.metadata!.uid!);
      apply(sources.forget(p));
    },
  });
  // a changed ConfigMap or Secret resyncs the pods reading it (volumes follow, waiting starts retry)
  const touched = (kind: 'configMaps' | 'secrets') => (obj: V1ConfigMap | V1Secret) => {
    for (const p of allPods()) {
      if (p.metadata?.namespace === obj.metadata?.namespace && podReferences(p)[kind].has(obj.metadata!.name!)) queue.add(p.metadata!.uid!);
    }
  };
  configMaps.on({ add: touched('configMaps'), update: touched('configMaps'), delete: touched('configMaps') });
  secrets.on({ add: touched('secrets'), update: touched('secrets'), delete: touched('secrets') });
  for (const i of [configMaps, secrets, services, pods]) i.start();
  await Promise.all([configMaps, secrets, services, pods].map((i) => i.waitForSync()));

  const probes = new ProbeManager({
    exec: (id, cmd, t) => rt.exec(id, cmd, t),
    onChange: (uid) => queue.add(uid),
    event: (pod, c, type, reason, message) => events.pod(pod, c, type, reason, message),
  });
  const cgroups = new PodCgroups({ cgroupRoot: o.cgroupRoot, driver: cgroupDriver, podPidsLimit: o.podPidsLimit }, log);
  await cgroups.ensureQosRoots();
  // bound service-account tokens for projected volumes, fetched before a pod's volumes are written
  const tokens = new TokenManager(
    (ns, sa, body) => api.create<TokenRequestAnswer>(core('serviceaccounts', ns, sa, 'token'), body),
    (uid) => queue.add(uid),
  );
  const objects = {
    serviceAccountToken: tokens.token.bind(tokens),
    configMap: (ns: string, name: string) => configMaps.get(`${ns}/${name}`),
    secret: (ns: string, name: string) => secrets.get(`${ns}/${name}`),
    services: () => services.list(),
  };
  const claims = new ClaimSource(api, o.nodeName, log, allPods, (uid) => queue.add(uid));
  await claims.start();
  const volumes = new VolumeManager({ rootDir: o.rootDir, lookups: objects, allocatable, claims });
  const deps: PodDeps = {
    rt,
    api,
    events,
    images: new ImageManager(rt, events),
    volumes,
    probes,
    cgroups,
    objects,
    log,
    ctx: {
      nodeName: o.nodeName,
      nodeIP,
      rootDir: o.rootDir,
      podLogRoot: o.podLogDir,
      cgroupRoot: o.cgroupRoot,
      cgroupDriver,
      dns: hostDnsConfig(o.resolvConf),
      clusterDNS: o.clusterDNS,
      clusterDomain: o.clusterDomain ?? 'cluster.local',
      memoryCapacity: facts.memoryBytes,
      allocatable,
      nodeHostsFile: () => (existsSync('/etc/hosts') ? readFileSync('/etc/hosts', 'utf8') : ''),
    },
    writeStatus: (pod, status) => writeStatus(pod, status),
  };
  async function writeStatus(pod: V1Pod, status: Wire<V1PodStatus>): Promise<boolean> {
    const m = pod.metadata!;
    if (!sources.statusWritable(pod)) return false;
    const running = trace.tracing(m.uid!) && allStarted(pod, status);
    if (running) trace.mark('running.sent', m.uid);
    try {
      await api.patch(core('pods', m.namespace, m.name, 'status'), { status }, 'merge');
      if (running) {
        trace.mark('running.acked', m.uid);
        const t = trace.finish(m.uid!);
        if (t) log.info({ pod: t.name, marks: t.marks }, 'pod startup timeline');
      }
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  sync = new PodSync(deps);
  manifests.start();
  syncMirrors();
  queue.run(
    o.podWorkers ?? 16,
    async (uid) => {
      trace.mark('sync', uid);
      const synced = podFor(uid);
      if (synced) await tokens.prepare(synced);
      else tokens.forget(uid);
      const again = await echoes.around(
        uid,
        () => trace.run(uid, () => sync!.sync(uid, podFor(uid))),
        () => sync!.runtimeLeft(uid),
        (u) => pleg.recheck(u),
      );
      if (again !== undefined) queue.addAfter(uid, again);
    },
    (uid, err) => log.warn({ uid, err: String(err) }, 'pod sync failed; will retry'),
  );

  // local-storage eviction: the pod worker kills an evicted pod and reports it Failed/Evicted
  const evictions = new EvictionManager({
    rootDir: o.rootDir,
    pods: allPods,
    log,
    evicting: (uid) => sync!.evicting(uid),
    evict: async (pod, e) => {
      events.pod(pod, undefined, 'Warning', EVICTED, e.message);
      sync!.evict(pod.metadata!.uid!, e.message);
      queue.add(pod.metadata!.uid!);
    },
  });
  evictions.start();

  // PLEG: relist the runtime and requeue pods whose containers changed state, plus runtime
  // leftovers whose pod is gone from the API (deleted while the kubelet was down).
  const pleg = new Pleg({
    rt,
    periodMs: o.relistMs,
    log,
    hasPod: (uid) => !!podFor(uid),
    onEvent: (e) => {
      if (e.reason !== 'changed' || echoes.changed(e.uid, e.signature)) queue.add(e.uid);
    },
    onFirstRelist: (runtimeUids) => {
      // pod directories of pods gone while the kubelet was away
      const known = new Set([...allPods().map((p) => p.metadata!.uid!), ...runtimeUids]);
      for (const uid of volumes.leftovers(known)) queue.add(uid);
    },
    afterRelist: () => nodeLoop.poke(),
  });
  pleg.start();

  const imageGC = new ImageGC(rt, gc, log, (wanted, found) =>
    events.nodeEvent(
      nodeLoop.uid(),
      'Warning',
      'FreeDiskSpaceFailed',
      `Failed to garbage collect required amount of images. Attempted to free ${wanted} bytes, but only found ${found} bytes eligible to free.`,
    ),
  );
  const runGC = () =>
    imageGC.collect().catch((err) => {
      log.warn({ err: String(err) }, 'image garbage collection failed');
      events.nodeEvent(nodeLoop.uid(), 'Warning', 'ImageGCFailed', String((err as Error).message ?? err));
    });
  void runGC();
  const gcTimer = setInterval(runGC, IMAGE_GC_PERIOD_MS);

  const serverCri = new CriClient(o.runtimeEndpoint);
  const server = await startKubeletServer({
    bindAddress: '0.0.0.0',
    port: o.port,
    tlsDir: join(o.rootDir, 'pki'),
    clientCA: api.auth.ca ?? Buffer.alloc(0),
    nodeName: o.nodeName,
    nodeIP,
    cri: serverCri,
    podLogDir: o.podLogDir,
    pods: allPods,
    servingCertIssuer: servingCertIssuer(api.auth),
    stats: new StatsProvider({
      nodeName: o.nodeName,
      cri: serverCri,
      cgroupRoot: o.cgroupRoot,
      cgroupDriver,
      rootDir: o.rootDir,
      podLogDir: o.podLogDir,
      pods: allPods,
    }),
  });
  log.info({ port: server.port }, 'kubelet server listening');
  const healthz = await startHealthzServer(o.healthzPort ?? 0, [syncLoopCheck(() => pleg.lastRelist())], log);

  return {
    ready: pleg.ready,
    async stop() {
      await server.close();
      await healthz?.close();
      pleg.stop();
      clearInterval(gcTimer);
      evictions.stop();
      manifests.stop();
      mirrorPods.stop();
      probes.stop();
      tokens.stop();
      for (const i of [configMaps, secrets, services, pods]) i.stop();
      claims.stop();
      queue.stop();
      nodeLoop.stop();
      await events.flush(2000);
    },
  };
}
