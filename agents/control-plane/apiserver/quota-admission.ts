// ResourceQuota admission: a create in a namespace with quotas is refused (403 "exceeded quota")
// when it would take any quota's tracked resources past spec.hard, and a pod that leaves out a
// compute resource a quota tracks is refused ("failed quota: ... must specify"). Usage is counted
// from the store, and the count and the create happen under a per-namespace lock, so that
// concurrent creates (a ReplicaSet's slow-start batch) cannot all pass on the same count.
import type { ResourceStore } from './crud.ts';
import { forbidden } from './errors.ts';
import { addUsage, COUNTED, exceeded, inScope, missingCompute, quotaScopes, type Usage, usageOf } from './quota.ts';
import type { Obj } from './strategies/types.ts';

const locks = new Map<string, Promise<unknown>>();

/** Runs `fn` after every earlier holder of `key` is done. */
async function serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const before = locks.get(key) ?? Promise.resolve();
  const run = before.then(fn, fn);
  const tail = run.catch(() => undefined);
  locks.set(key, tail);
  try {
    return await run;
  } finally {
    if (locks.get(key) === tail) locks.delete(key);
  }
}

/** Creates through `create` once the namespace's quotas allow it; without quotas, at once. */
export async function createWithQuota<T>(
  stores: (plural: string) => ResourceStore,
  rs: ResourceStore,
  ns: string | undefined,
  body: Obj,
  create: () => Promise<T>,
): Promise<T> {
  const plural = rs.res.plural;
  if (!ns || rs.res.group !== '' || !COUNTED.includes(plural)) return create();
  const quotasOf = async () =>
    (await stores('resourcequotas').list(ns)).items
      .filter((q) => !q.metadata.deletionTimestamp)
      .flatMap((q) => {
        const scopes = quotaScopes(q);
        return scopes ? [{ q, scopes }] : [];
      });
  if (!(await quotasOf()).length) return create();
  return serialised(`${ns}/${plural}`, async () => {
    const obj = structuredClone(body);
    rs.strategy.defaults?.(obj);
    const delta = usageOf(plural, obj);
    const applicable = (await quotasOf()).filter(({ scopes }) => inScope(scopes, plural, obj));
    // a compute quota wants every pod to state what it tracks, whatever else it tracks
    if (plural === 'pods')
      for (const { q } of applicable) {
        const why = missingCompute(q, obj);
        if (why) throw forbidden(rs.gr, obj.metadata?.name ?? '', why);
      }
    const tracked = applicable.filter(({ q }) => Object.keys(q.spec?.hard ?? {}).some((k) => delta[k]));
    if (tracked.length) {
      const existing = (await rs.list(ns)).items;
      for (const { q, scopes } of tracked) {
        let used: Usage = {};
        for (const o of existing) if (inScope(scopes, plural, o)) used = addUsage(used, usageOf(plural, o));
        const why = exceeded(q, used, delta);
        if (why) throw forbidden(rs.gr, obj.metadata?.name ?? '', why);
      }
    }
    return create();
  });
}
