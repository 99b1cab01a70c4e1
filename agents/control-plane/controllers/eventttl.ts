// Events expire: upstream keeps them for an hour (--event-ttl). Without this, kubelets' and the
// scheduler's events would pile up in the store for ever.
import type { Logger } from '../../api/log.ts';
import { ApiError } from '../apiserver/errors.ts';
import type { Obj } from '../apiserver/strategies/types.ts';
import type { LoopbackClient } from '../client/loopback.ts';

/** Pure: the last time an event was seen, as its fields tell. */
export function lastSeen(ev: Obj): number {
  const t = ev.lastTimestamp ?? ev.eventTime ?? ev.series?.lastObservedTime ?? ev.firstTimestamp ?? ev.metadata.creationTimestamp;
  return t ? new Date(t).getTime() : 0;
}

export function startEventTTL(
  client: LoopbackClient,
  log: Logger,
  o: { ttlMs?: number; intervalMs?: number } = {},
): { stop(): void; sweep(): Promise<number> } {
  const ttl = o.ttlMs ?? 3600_000;
  let running = false;
  const sweep = async (): Promise<number> => {
    if (running) return 0;
    running = true;
    let removed = 0;
    try {
      const cutoff = Date.now() - ttl;
      const { items } = await client.list('/api/v1/events');
      for (const ev of items) {
        if (lastSeen(ev) >= cutoff) continue;
        try {
          await client.delete(`/api/v1/namespaces/${ev.metadata.namespace}/events/${ev.metadata.name}`);
          removed++;
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 404)) throw e;
        }
      }
      if (removed) log.info({ removed }, 'expired events');
    } catch (e) {
      log.warn({ err: e }, 'event expiry failed');
    } finally {
      running = false;
    }
    return removed;
  };
  const timer = setInterval(() => void sweep(), o.intervalMs ?? 300_000);
  timer.unref();
  return { stop: () => clearInterval(timer), sweep };
}
