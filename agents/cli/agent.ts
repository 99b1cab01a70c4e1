// `hawser agent`: podnet, the kubelet and kube-proxy in one Node.js process, as k3s runs its
// agent. One runtime instead of three saves the per-process baseline (V8 heap, code, TLS and
// gRPC stacks): about 75 MiB per component measured idle in the lab. The components keep their
// own API clients, informers and credentials (their own identities), so each behaves exactly as when run alone.
// podnet starts first: it writes the CNI config the kubelet's first sandbox needs.
import { logger } from '../api/log.ts';
import { agentOptions } from './node-flags.ts';
import type { AgentSettings } from './flags/node.ts';

export async function startAgent(flags: AgentSettings, status: (text: string) => void = () => {}): Promise<{ ready: Promise<void>; stop(): Promise<void> }> {
  const log = logger('agent');
  // parse every component's options before starting any, so a bad flag starts nothing
  const opts = agentOptions(flags);
  const [{ startPodnet }, { startKubelet }, { startKubeProxy }] = await Promise.all([
    import('../podnet/podnet.ts'),
    import('../kubelet/kubelet.ts'),
    import('../kube-proxy/index.ts'),
  ]);
  const stops: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) {
      try {
        await s();
      } catch (e) {
        log.warn({ err: e }, 'stopping a component failed');
      }
    }
  };
  // ready (systemd's READY=1) once every part is: podnet reconciled, the kubelet registered and
  // its runtime listed, kube-proxy's first sync in the kernel
  const ready: Promise<void>[] = [];
  try {
    status('starting the pod network');
    const podnet = await startPodnet(opts.podnet);
    stops.push(() => podnet.stop());
    ready.push(podnet.ready);
    status(`registering node ${opts.kubelet.nodeName}`);
    const kubelet = await startKubelet(opts.kubelet);
    stops.push(() => kubelet.stop());
    ready.push(kubelet.ready);
    status(`node ${opts.kubelet.nodeName} registered; starting kube-proxy`);
    const proxy = await startKubeProxy(opts.proxy);
    stops.push(() => proxy.stop());
    ready.push(proxy.ready);
    status('waiting for the first pod network reconcile, runtime relist and Service rules sync');
  } catch (e) {
    await stop();
    throw e;
  }
  log.info({ node: opts.kubelet.nodeName }, 'podnet, kubelet and kube-proxy running');
  return { ready: Promise.all(ready).then(() => undefined), stop };
}
