// Keeps the record index current from Service, EndpointSlice and Pod informers. Changes come in
// bursts (a rollout touches many pods and slices), so a rebuild is batched a short moment after the
// first change. A full rebuild costs about 15 ms per 1,000 Services (bench/dns.ts); spacing
// rebuilds by twice the last one's duration bounds the CPU it takes under constant churn, and
// keeps a change visible well inside the 5 s TTL even at 10,000 Services.
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import type { ApiClient } from '../../api/client.ts';
import { Informer } from '../../api/informer.ts';
import type { Logger } from '../../api/log.ts';
import { podDnsFingerprint } from './endpoints.ts';
import { buildIndex, emptyIndex, type DnsIndex } from './records.ts';

export interface IndexSource {
  current(): DnsIndex;
  /** resolves once every informer has listed and the first index is built (false on timeout) */
  synced: Promise<boolean>;
  stop(): void;
}

const REBUILD_DELAY_MS = 20;
/** rebuilds are spaced by this many times the last one's duration: at most a third of a core */
const REBUILD_SPACING = 2;

export function watchIndex(api: ApiClient, zone: string, log: Logger, o: { syncTimeoutMs?: number; ttl?: number } = {}): IndexSource {
  const services = new Informer<V1Service>(api, '/api/v1/services', {}, log);
  const slices = new Informer<V1EndpointSlice>(api, '/apis/discovery.k8s.io/v1/endpointslices', {}, log);
  const pods = new Informer<V1Pod>(api, '/api/v1/pods', {}, log);
  let index = emptyIndex(zone, o.ttl);
  let ready = false;
  let timer: NodeJS.Timeout | undefined;
  let serial = 0;
  let lastMs = 0;

  const rebuild = () => {
    timer = undefined;
    const t0 = performance.now();
    // the SOA serial moves forward on every change, and stays readable as a time
    serial = Math.max(serial + 1, Math.floor(Date.now() / 1000));
    index = buildIndex({ zone, ttl: o.ttl, serial, services: services.list(), slices: slices.list(), pods: pods.list() });
    lastMs = performance.now() - t0;
    log.debug({ names: index.records.size, ms: +lastMs.toFixed(2) }, 'dns index rebuilt');
  };
  const changed = () => {
    if (ready && !timer) timer = setTimeout(rebuild, Math.max(REBUILD_DELAY_MS, REBUILD_SPACING * lastMs));
  };
  const handlers = { add: changed, update: changed, delete: changed };
  services.on(handlers).start();
  slices.on(handlers).start();
  pods
    .on({
      add: changed,
      delete: changed,
      update: (pod, old) => {
        if (podDnsFingerprint(pod) !== podDnsFingerprint(old)) changed();
      },
    })
    .start();

  const all = Promise.all([services.waitForSync(), slices.waitForSync(), pods.waitForSync()]).then(() => {
    ready = true;
    rebuild();
    return true;
  });
  let limit: NodeJS.Timeout | undefined;
  const synced = Promise.race([
    all,
    new Promise<boolean>((r) => {
      limit = setTimeout(() => r(false), o.syncTimeoutMs ?? 30_000);
    }),
  ]).finally(() => clearTimeout(limit));

  return {
    current: () => index,
    synced,
    stop() {
      if (timer) clearTimeout(timer);
      services.stop();
      slices.stop();
      pods.stop();
    },
  };
}
