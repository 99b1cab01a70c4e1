// Leader election on a Lease so that several control-plane processes sharing one store run one
// active controller set: candidates retry every retryPeriod; the leader renews every retryPeriod
// and steps down (stop()) when it could not renew for renewDeadline; a stopped leader releases
// the lease so another candidate takes over at once instead of after leaseSeconds.
import type { Logger } from '../../../api/log.ts';
import { logger } from '../../../api/log.ts';
import { ApiError } from '../../apiserver/errors.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { decide, type LeaseSpec, nextSpec, releasedSpec } from './lease-rules.ts';

export type LeaseClient = Pick<LoopbackClient, 'get' | 'create' | 'update'>;

export interface ElectionOptions {
  name: string;
  identity: string;
  /** how long a lease stays valid without renewal (upstream default 15 s) */
  leaseSeconds?: number;
  namespace?: string;
  /** a leader that cannot renew for this long stops leading (default 2/3 of the lease) */
  renewDeadlineSeconds?: number;
  /** how often candidates try and leaders renew (default 2 s, at most a quarter of the lease) */
  retryPeriodSeconds?: number;
  log?: Logger;
  now?: () => number;
}

export interface Election {
  isLeader(): boolean;
  /** Stops contending; a leader calls its stop() and releases the lease. */
  stop(): Promise<void>;
}

const errCode = (e: unknown) => (e instanceof ApiError ? e.code : 0);

export function runWhenLeader(client: LeaseClient, o: ElectionOptions, start: () => Promise<void> | void, stop: () => Promise<void> | void): Election {
  const ns = o.namespace ?? 'kube-system';
  const leaseSeconds = o.leaseSeconds ?? 15;
  const retryMs = (o.retryPeriodSeconds ?? Math.min(2, leaseSeconds / 4)) * 1000;
  const deadlineMs = (o.renewDeadlineSeconds ?? (leaseSeconds * 2) / 3) * 1000;
  const log = o.log ?? logger('leader-election');
  const now = o.now ?? Date.now;
  const base = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;
  const abort = new AbortController();
  let leading = false;
  let lastRaw = '';
  let observedAt = 0;
  let current: Obj | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      if (abort.signal.aborted) return r();
      const wake = () => {
        clearTimeout(t);
        abort.signal.removeEventListener('abort', wake);
        r();
      };
      const t = setTimeout(wake, ms);
      abort.signal.addEventListener('abort', wake, { once: true });
    });

  function observe(lease: Obj | undefined): void {
    current = lease;
    const raw = JSON.stringify(lease?.spec ?? null);
    if (raw !== lastRaw) {
      lastRaw = raw;
      observedAt = now();
    }
  }

  /** One attempt to take or keep the lease; true when we hold it afterwards. */
  async function attempt(): Promise<boolean> {
    let lease: Obj | undefined;
    try {
      lease = await client.get(`${base}/${o.name}`);
    } catch (e) {
      if (errCode(e) !== 404) throw e;
    }
    observe(lease);
    const action = decide(lease?.spec as LeaseSpec | undefined, o.identity, observedAt, now());
    if (action === 'wait') return false;
    const spec = nextSpec(lease?.spec, action, o.identity, leaseSeconds, now());
    try {
      const out = lease
        ? await client.update(`${base}/${o.name}`, { ...lease, spec })
        : await client.create(base, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: o.name, namespace: ns }, spec });
      observe(out);
      return true;
    } catch (e) {
      if (errCode(e) === 409) return false; // another candidate won this round
      throw e;
    }
  }

  async function tryOnce(): Promise<boolean> {
    try {
      return await attempt();
    } catch (e) {
      log.warn({ err: e, lease: `${ns}/${o.name}` }, 'lease request failed');
      return false;
    }
  }

  async function lead(): Promise<void> {
    leading = true;
    log.info({ lease: `${ns}/${o.name}`, identity: o.identity }, 'became leader');
    // renewals start at once: a start() that hangs (an informer that cannot list) must not let
    // the lease lapse while this process still believes it leads
    void Promise.resolve()
      .then(start)
      .catch((e) => log.error({ err: e }, 'start after election failed'));
    let renewed = now();
    while (!abort.signal.aborted) {
      await sleep(retryMs);
      if (abort.signal.aborted) break;
      if (await tryOnce()) renewed = now();
      else if (now() - renewed > deadlineMs || (current?.spec?.holderIdentity && current.spec.holderIdentity !== o.identity)) break;
    }
    leading = false;
    if (!abort.signal.aborted) log.warn({ lease: `${ns}/${o.name}`, identity: o.identity }, 'lost the lease; stopping');
    try {
      await stop();
    } catch (e) {
      log.error({ err: e }, 'stop after losing the lease failed');
    }
  }

  const loop = (async () => {
    while (!abort.signal.aborted) {
      if (await tryOnce()) await lead();
      else await sleep(retryMs);
    }
  })();

  return {
    isLeader: () => leading,
    async stop() {
      const was = leading || current?.spec?.holderIdentity === o.identity;
      abort.abort();
      await loop;
      if (!was || !current) return;
      try {
        await client.update(`${base}/${o.name}`, { ...current, spec: releasedSpec(current.spec, now()) });
      } catch (e) {
        log.warn({ err: e }, 'could not release the lease');
      }
    },
  };
}
