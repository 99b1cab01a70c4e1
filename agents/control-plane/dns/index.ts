// Cluster DNS in the control-plane process: the zone (cluster.local) answered from a record index
// that informers keep current, everything else forwarded to the resolvers of a resolv.conf.
import type { ApiClient } from '../../api/client.ts';
import { logger } from '../../api/log.ts';
import { serveDns } from './server.ts';
import { watchIndex } from './source.ts';
import { Forwarder, type ForwardOptions } from './upstream.ts';

export { ensureKubeDnsService } from './kube-dns-service.ts';

export interface ClusterDNSOptions {
  api: ApiClient;
  bindAddress: string;
  port: number;
  clusterDomain: string;
  resolvConf: string;
  /** record TTL in seconds (5 by default) */
  ttl?: number;
  forward?: ForwardOptions;
}

export async function startClusterDNS(o: ClusterDNSOptions): Promise<{ close(): Promise<void>; port: number }> {
  const log = logger('cluster-dns');
  const source = watchIndex(o.api, o.clusterDomain, log, { ttl: o.ttl });
  // listen at once: until the first list, names in the zone get SERVFAIL (retried), never NXDOMAIN
  const self = { bindAddress: o.bindAddress, port: o.port };
  const forwarder = new Forwarder(o.resolvConf, self, log, o.forward);
  const server = await serveDns({
    bindAddress: o.bindAddress,
    port: o.port,
    index: source.current,
    forward: (q, tcp) => forwarder.forward(q, tcp),
    log,
  }).catch((err) => {
    source.stop();
    throw err;
  });
  // a random port is only known now: the self-loop check must see the real one
  self.port = server.port;
  forwarder.upstreams();
  if (!(await source.synced)) log.warn('cluster DNS serving before its informers synced: cluster names get SERVFAIL until they do');
  log.info({ address: o.bindAddress, port: server.port, zone: o.clusterDomain }, 'cluster DNS ready');
  return {
    port: server.port,
    async close() {
      source.stop();
      await server.close();
    },
  };
}
