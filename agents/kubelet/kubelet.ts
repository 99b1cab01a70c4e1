// The kubelet: registers the node, keeps its status and Lease fresh, and runs the pods bound to it
// through the container runtime. Pods are reconciled one worker per pod key from a queue fed by the
// API watch and by a runtime relist (PLEG), so a container that dies is noticed within a second.
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { ApiClient } from '../api/client.ts';
import { Informer } from '../api/informer.ts';
import { loadKubeconfig } from '../api/kubeconfig.ts';
import { logger } from '../api/log.ts';
import { core } from '../api/paths.ts';
import { WorkQueue } from '../api/queue.ts';
import { sourceAddressFor } from './node/address.ts';
import { readHostFacts } from './node/facts.ts';
import { NodeLoop } from './node/node-loop.ts';
import { PodSync } from './pods/pod-sync.ts';
import { hostDnsConfig } from './pods/resolv.ts';
import type { PodRuntime } from './pods/runtime.ts';
import { criRuntime } from './pods/cri-runtime.ts';
import { CriClient } from './cri/client.ts';
import { startKubeletServer } from './server/server.ts';

export interface KubeletOptions {
  nodeName: string;
  kubeconfig: string;
  runtimeEndpoint: string;       // unix socket path of the CRI runtime
  rootDir: string;               // /var/lib/hawser/kubelet
  podLogDir: string;             // /var/log/pods
  cgroupRoot: string;            // parent cgroup of the pods
  nodeIP?: string;
  nodeLabels: Record<string, string>;
  registerWithTaints: { key: string; value?: string; effect: string }[];
  maxPods: number;
  port: number;
  resolvConf: string;
  relistMs: number;
}

export async function startKubelet(o: KubeletOptions): Promise<{ stop(): Promise<void> }> {
  const log = logger('kubelet');
  const api = new ApiClient(loadKubeconfig(o.kubeconfig), `hawser-kubelet/${o.nodeName}`);
  const rt: PodRuntime = criRuntime(o.runtimeEndpoint);
  const runtimeVersion = await rt.version();
  const nodeIP = o.nodeIP ?? await sourceAddressFor(api.auth.server);
  const facts = await readHostFacts(o.rootDir);
  const nodeLoop = new NodeLoop(api, {
    name: o.nodeName, nodeIP, labels: o.nodeLabels, taints: o.registerWithTaints, facts, runtimeVersion,
    maxPods: o.maxPods, reserved: { cpuMillis: 0, memoryBytes: 0 }, kubeletPort: o.port,
  }, () => rt.health(), log);
  await nodeLoop.register();
  nodeLoop.start();
  log.info({ node: o.nodeName, nodeIP, runtimeVersion }, 'kubelet started');

  const pods = new Informer<V1Pod>(api, core('pods'), { fieldSelector: `spec.nodeName=${o.nodeName}` }, log);
  const byUid = new Map<string, V1Pod>();
  const queue = new WorkQueue();
  const track = (p: V1Pod) => { byUid.set(p.metadata!.uid!, p); queue.add(p.metadata!.uid!); };
  pods.on({
    add: track,
    update: track,
    delete: (p) => { byUid.delete(p.metadata!.uid!); queue.add(p.metadata!.uid!); },
  }).start();
  await pods.waitForSync();

  const sync = new PodSync(rt, api, {
    nodeName: o.nodeName, nodeIP, podLogRoot: o.podLogDir, cgroupRoot: o.cgroupRoot, dns: hostDnsConfig(o.resolvConf),
  }, log);
  queue.run(4, async (uid) => {
    const again = await sync.sync(uid, byUid.get(uid));
    if (again !== undefined) queue.addAfter(uid, again);
  }, (uid, err) => log.warn({ uid, err: String(err) }, 'pod sync failed; will retry'));

  // PLEG: relist the runtime and requeue pods whose containers changed state, plus runtime
  // leftovers whose pod is gone from the API (deleted while the kubelet was down).
  const seen = new Map<string, string>();
  let relisting = false;
  const relist = setInterval(async () => {
    if (relisting) return;
    relisting = true;
    try {
      const [sbs, cs] = await Promise.all([rt.listSandboxes(), rt.listContainers()]);
      const sig = new Map<string, string>();
      for (const s of sbs) sig.set(s.uid, `${sig.get(s.uid) ?? ''}s${s.id}:${s.ready};`);
      for (const c of cs) sig.set(c.uid, `${sig.get(c.uid) ?? ''}c${c.id}:${c.state};`);
      for (const [uid, s] of sig) if (seen.get(uid) !== s || !byUid.has(uid)) queue.add(uid);
      for (const uid of seen.keys()) if (!sig.has(uid)) queue.add(uid);
      seen.clear();
      for (const [k, v] of sig) seen.set(k, v);
      await nodeLoop.poke();
    } catch (err) {
      log.warn({ err: String(err) }, 'runtime relist failed');
    } finally {
      relisting = false;
    }
  }, o.relistMs);

  const server = await startKubeletServer({
    bindAddress: '0.0.0.0', port: o.port, tlsDir: join(o.rootDir, 'pki'),
    clientCA: api.auth.ca ?? Buffer.alloc(0), nodeName: o.nodeName, nodeIP,
    cri: new CriClient(o.runtimeEndpoint), podLogDir: o.podLogDir, pods: () => [...byUid.values()],
  });
  log.info({ port: server.port }, 'kubelet server listening');

  return {
    async stop() {
      await server.close();
      clearInterval(relist);
      pods.stop();
      queue.stop();
      nodeLoop.stop();
    },
  };
}
