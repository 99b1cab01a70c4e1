// The pod network agent: once the control plane gives this node a podCIDR, writes the CNI
// config that containerd reads, and keeps every other node's podCIDR reachable: a route via its
// InternalIP (host-gw, nodes on one L2) or through a VXLAN overlay (vxlan.ts).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Node } from '@kubernetes/client-node';
import { ApiClient } from '../api/client.ts';
import { Informer } from '../api/informer.ts';
import { loadKubeconfig } from '../api/kubeconfig.ts';
import { logger } from '../api/log.ts';
import { Latch } from '../api/latch.ts';
import { core } from '../api/paths.ts';
import { SyncRunner } from '../api/sync-runner.ts';
import { startHealthServer, standardEndpoints } from '../api/health-server.ts';
import { SyncHealth, syncedCheck } from '../api/sync-health.ts';
import { hostExec, run } from '../api/exec.ts';
import type { ProxyMode } from '../kube-proxy/modes.ts';
import { startNetpol } from '../netpol/netpol.ts';
import { startVxlan } from './vxlan.ts';
import { cniConflist, desiredRoutes, masqueradeRules, routeChanges, staleBridgeAddresses, type Route } from './plan.ts';

export interface PodnetOptions {
  nodeName: string;
  kubeconfig: string;
  cniConfDir: string;
  cniBinDir: string;
  ipamDataDir: string;
  bridge: string;
  clusterCIDR: string;
  backend: 'host-gw' | 'vxlan';
  /** credentials that may list and watch pods, namespaces and NetworkPolicies cluster-wide (default: kubeconfig) */
  /** do not enforce NetworkPolicies on this node (k3s' --disable-network-policy) */
  disableNetworkPolicy?: boolean;
  /** --podnet-healthz-port: /livez, /readyz, /healthz on 127.0.0.1 (default 10262; the kubelet has 10248, kube-proxy 10256); 0 or unset: none */
  healthzPort?: number;
  /** kube-proxy's mode on this node: NetworkPolicies are enforced with nftables in nftables mode (default iptables) */
  proxyMode?: ProxyMode;
}

// routes we own carry this protocol number, so that we never touch anyone else's
const RT_PROTO = '66';

const ip = (...args: string[]): Promise<string> => hostExec('ip', args);

async function currentRoutes(): Promise<Route[]> {
  const rows = JSON.parse((await ip('-j', 'route', 'show', 'proto', RT_PROTO)) || '[]') as { dst: string; gateway?: string }[];
  return rows.filter((r) => r.gateway).map((r) => ({ dst: r.dst, via: r.gateway! }));
}

/** The bridge's addresses as "a.b.c.d/nn"; none while the first pod has not made it. */
async function bridgeAddresses(bridge: string): Promise<string[]> {
  const r = await run('ip', ['-j', 'addr', 'show', 'dev', bridge]);
  if (r.code !== 0) return []; // no such device yet
  const rows = JSON.parse(r.stdout || '[]') as { addr_info?: { local: string; prefixlen: number }[] }[];
  return rows.flatMap((r) => r.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`);
}

function writeIfChanged(path: string, text: string): boolean {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return false;
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path); // containerd must never read half a file
  return true;
}

async function ensureMasquerade(clusterCIDR: string): Promise<void> {
  await hostExec('iptables-restore', ['--noflush'], masqueradeRules(clusterCIDR));
  const jump = ['POSTROUTING', '-m', 'comment', '--comment', 'hawser pod masquerade', '-j', 'HAWSER-POD-MASQ'];
  if ((await run('iptables', ['-t', 'nat', '-C', ...jump])).code !== 0) await hostExec('iptables', ['-t', 'nat', '-A', ...jump]);
}

export async function startPodnet(o: PodnetOptions): Promise<{ ready: Promise<void>; stop(): void }> {
  const log = logger('podnet');
  const api = new ApiClient(loadKubeconfig(o.kubeconfig), `hawser-podnet/${o.nodeName}`);
  mkdirSync(o.cniConfDir, { recursive: true });
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
  await ensureMasquerade(o.clusterCIDR);

  const vx = o.backend === 'vxlan' ? startVxlan({ nodeName: o.nodeName, api, log }) : undefined;
  const nodes = new Informer<V1Node>(api, core('nodes'), {}, log);
  // One reconcile at a time, re-run when events came meanwhile: two overlapping runs could finish
  // out of order, and the one that read the older node list would remove a peer's fresh route.
  const reconciled = new Latch(); // ready: the first reconcile went through
  const health = new SyncHealth('reconciled');
  let bridgeFor: string | undefined; // the podCIDR the bridge's addresses were last checked against
  const runner = new SyncRunner(
    async () => {
      try {
        const all = nodes.list();
        const self = all.find((n) => n.metadata?.name === o.nodeName);
        const cidr = self?.spec?.podCIDR;
        if (cidr) {
          const conf = cniConflist({
            podCIDR: cidr,
            bridge: o.bridge,
            ipamDataDir: o.ipamDataDir,
            portmap: existsSync(join(o.cniBinDir, 'portmap')),
            mtu: vx?.mtu(),
          });
          const wrote = writeIfChanged(join(o.cniConfDir, '10-hawser.conflist'), `${JSON.stringify(conf, null, 2)}\n`);
          if (wrote) log.info({ podCIDR: cidr }, 'CNI config written');
          if (wrote || bridgeFor !== cidr) {
            for (const a of staleBridgeAddresses(await bridgeAddresses(o.bridge), cidr)) {
              await ip('addr', 'del', a, 'dev', o.bridge);
              log.warn({ bridge: o.bridge, address: a, podCIDR: cidr }, 'bridge address outside the podCIDR removed');
            }
            bridgeFor = cidr;
          }
        }
        if (vx) {
          await vx.reconcile(all);
        } else {
          const { add, del } = routeChanges(await currentRoutes(), desiredRoutes(all, o.nodeName));
          for (const r of del) {
            await ip('route', 'del', r.dst, 'via', r.via, 'proto', RT_PROTO);
            log.info(r, 'route removed');
          }
          for (const r of add) {
            await ip('route', 'replace', r.dst, 'via', r.via, 'proto', RT_PROTO);
            log.info(r, 'route added');
          }
        }
        reconciled.open();
        health.succeeded();
      } catch (err) {
        health.failed(err);
        log.error({ err: String(err) }, 'reconcile failed; retrying');
        setTimeout(() => runner.run(), 2000);
      }
    },
    0,
    30_000,
  );
  const reconcile = () => {
    setImmediate(() => runner.run());
  }; // a burst of events: one run, then one more
  nodes.on({ add: reconcile, update: reconcile, delete: reconcile }).start();
  const healthz = await startHealthServer(o.healthzPort ?? 0, standardEndpoints([], [syncedCheck('informer-sync', [nodes.waitForSync()]), health]), log);
  await nodes.waitForSync();
  runner.start();
  // not awaited: the CNI config (and so the kubelet) must not wait for the policy informers' first list
  const netpol = o.disableNetworkPolicy
    ? undefined
    : startNetpol({
        nodeName: o.nodeName,
        log: logger('netpol'),
        x: hostExec,
        mode: o.proxyMode,
        api,
      });
  log.info({ node: o.nodeName, backend: o.backend }, 'podnet started');
  return {
    ready: reconciled.promise,
    stop() {
      runner.stop();
      nodes.stop();
      vx?.stop();
      netpol?.stop();
      void healthz?.close();
    },
  };
}
