// `hawser kube-proxy`: watches Services and EndpointSlices, feeds the change tracker, and lets the
// backend of the chosen mode keep the kernel in step; serves /healthz, /metrics and the
// health-check node ports.
import os from 'node:os';
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { ApiClient } from '../api/client.ts';
import { Informer, keyOf } from '../api/informer.ts';
import { loadKubeconfig } from '../api/kubeconfig.ts';
import { logger } from '../api/log.ts';
import { core, resourcePath } from '../api/paths.ts';
import { makeExec, type Exec } from '../api/exec.ts';
import { ProxyHealth, ServiceHealthServers, startServers } from './health.ts';
import { detectIptables, type IptablesCommand } from './iptables/detect.ts';
import { IptablesBackend } from './iptables/syncer.ts';
import { IpvsBackend } from './ipvs/syncer.ts';
import { SCHEDULERS, type Scheduler } from './ipvs/render.ts';
import { ProxyMetrics } from './metrics.ts';
import { NftablesBackend } from './nftables/syncer.ts';
import { cidrContains } from '../api/ip.ts';
import { Proxier, type Backend } from './proxier.ts';
import { ChangeTracker } from './tracker.ts';
import { type IngressOptions, startIngress } from '../ingress/controller.ts';
import type { ProxyMode } from './modes.ts';

export interface KubeProxyOptions {
  nodeName: string;
  kubeconfig: string;
  mode: ProxyMode;
  clusterCIDR: string;
  nodeIP?: string;
  healthzBindAddress: string;
  metricsBindAddress: string;
  minSyncPeriodMs: number;
  syncPeriodMs: number;
  masqueradeAll?: boolean;
  nodePortAddresses?: string[];
  /** ipvs mode: rr (default), lc, dh, sh, sed or nq */
  ipvsScheduler?: string;
  /** remove every rule of the mode on stop (upstream's --cleanup) */
  cleanupOnStop?: boolean;
  /** run iptables/nft/ipset/conntrack in this network namespace instead of our own (tests) */
  netns?: string;
  /** the built-in ingress controller (agents/ingress), with its own credentials; absent: not run */
  ingress?: Omit<IngressOptions, 'nodeName'>;
}

/** This host's IPv4 addresses inside the given CIDRs ([] when none are given: NodePorts on every address). */
export function nodePortIPs(cidrs: string[] | undefined, exclude: Set<string> = new Set()): string[] {
  if (!cidrs?.length) return [];
  const addrs = Object.values(os.networkInterfaces())
    .flat()
    .filter((a): a is os.NetworkInterfaceInfo => !!a && a.family === 'IPv4' && !exclude.has(a.address))
    .map((a) => a.address);
  return [...new Set(addrs.filter((a) => cidrs.some((c) => cidrContains(c, a))))];
}

export interface BackendInput {
  mode: KubeProxyOptions['mode'];
  tracker: ChangeTracker;
  exec: Exec;
  clusterCIDR: string;
  masqueradeAll: boolean;
  nodeIP?: string;
  nodePortIPs: string[];
  ipvsScheduler?: string;
  /** iptables mode: which iptables to run (detectIptables); the host's default when absent */
  iptablesCommand?: IptablesCommand;
  log?: ReturnType<typeof logger>;
}

export function makeBackend(i: BackendInput): Backend {
  const ctx = { clusterCIDR: i.clusterCIDR, masqueradeAll: i.masqueradeAll, nodeIP: i.nodeIP, nodePortIPs: i.nodePortIPs };
  if (i.mode === 'iptables') return new IptablesBackend(i.tracker, i.exec, { ...ctx, command: i.iptablesCommand }, i.log);
  if (i.mode === 'nftables') return new NftablesBackend(i.tracker, i.exec, ctx, i.log);
  const scheduler = (i.ipvsScheduler ?? 'rr') as Scheduler;
  if (!SCHEDULERS.includes(scheduler)) throw new Error(`ipvs scheduler must be one of ${SCHEDULERS.join(', ')}`);
  const nodeIPs = i.nodePortIPs.length ? i.nodePortIPs : i.nodeIP ? [i.nodeIP] : [];
  return new IpvsBackend(i.tracker, i.exec, { ...ctx, nodeIPs, scheduler }, i.log);
}

export async function startKubeProxy(o: KubeProxyOptions): Promise<{ ready: Promise<void>; stop(): Promise<void> }> {
  const log = logger('kube-proxy');
  const api = new ApiClient(loadKubeconfig(o.kubeconfig), `hawser-kube-proxy/${o.nodeName}`);
  const exec = makeExec(o.netns);
  let nodeIP = o.nodeIP;
  if (!nodeIP) {
    const node = await api.get<V1Node>(core('nodes', undefined, o.nodeName)).catch(() => undefined);
    nodeIP = node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  }
  const tracker = new ChangeTracker(o.nodeName);
  const metrics = new ProxyMetrics();
  const health = new ProxyHealth(2 * o.syncPeriodMs);
  const iptablesCommand = o.mode === 'iptables' ? await detectIptables(exec) : undefined;
  if (iptablesCommand) log.info({ iptablesCommand }, 'iptables backend chosen');
  const backend = makeBackend({
    mode: o.mode,
    tracker,
    exec,
    clusterCIDR: o.clusterCIDR,
    masqueradeAll: !!o.masqueradeAll,
    nodeIP,
    nodePortIPs: nodePortIPs(o.nodePortAddresses),
    ipvsScheduler: o.ipvsScheduler,
    iptablesCommand,
    log,
  });
  if (backend instanceof IptablesBackend) {
    backend.onRules = (c) => {
      metrics.rulesTotal.set({ table: 'nat' }, c.nat);
      metrics.rulesTotal.set({ table: 'filter' }, c.filter);
    };
  }
  const hcServers = new ServiceHealthServers('0.0.0.0', log);
  const proxier = new Proxier(tracker, backend, exec, metrics, health, hcServers, { minSyncPeriodMs: o.minSyncPeriodMs, syncPeriodMs: o.syncPeriodMs }, log);
  const servers = await startServers({ healthz: o.healthzBindAddress, metrics: o.metricsBindAddress, health, metricsRegistry: metrics, mode: o.mode });

  let started = false;
  const changed = (ok: boolean) => {
    if (ok && started) proxier.changed();
  };
  const services = new Informer<V1Service>(api, core('services'), { labelSelector: '!service.kubernetes.io/service-proxy-name' }, log).on({
    add: (s) => {
      metrics.serviceChanges.inc();
      changed(tracker.setService(keyOf(s), s));
    },
    update: (s) => {
      metrics.serviceChanges.inc();
      changed(tracker.setService(keyOf(s), s));
    },
    delete: (s) => {
      metrics.serviceChanges.inc();
      changed(tracker.setService(keyOf(s), undefined));
    },
  });
  const slices = new Informer<V1EndpointSlice>(
    api,
    resourcePath({ group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' }),
    { labelSelector: '!service.kubernetes.io/headless,!service.kubernetes.io/service-proxy-name' },
    log,
  ).on({
    add: (s) => {
      metrics.endpointChanges.inc();
      changed(tracker.setSlice(s));
    },
    update: (s) => {
      metrics.endpointChanges.inc();
      changed(tracker.setSlice(s));
    },
    delete: (s) => {
      metrics.endpointChanges.inc();
      changed(tracker.setSlice(s, true));
    },
  });
  services.start();
  slices.start();
  await Promise.all([services.waitForSync(), slices.waitForSync()]);
  started = true;
  proxier.start();
  log.info({ node: o.nodeName, mode: o.mode, nodeIP, healthz: servers.healthzPort, metrics: servers.metricsPort }, 'kube-proxy started');
  // a port the ingress controller cannot have (80/443 taken) must not take Services down with it
  const ingress = o.ingress
    ? await startIngress({ ...o.ingress, nodeName: o.nodeName }).catch((err) => {
        log.error({ err: String(err) }, 'ingress controller not started');
        return undefined;
      })
    : undefined;

  return {
    ready: proxier.firstSync.promise,
    async stop() {
      services.stop();
      slices.stop();
      await ingress?.stop();
      proxier.stop();
      await proxier.runner.whenIdle();
      await hcServers.close();
      await servers.close();
      if (o.cleanupOnStop) await backend.cleanup();
    },
  };
}
