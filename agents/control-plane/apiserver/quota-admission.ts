// ResourceQuota admission: a create in a namespace with quotas is refused (403 "exceeded quota")
// when it would take any quota's tracked resources past spec.hard. Usage is counted from the
// store at admission time, so quick successive creates cannot slip past a stale status.used.
import type { ResourceStore } from './crud.ts';
import { forbidden } from './errors.ts';
import { addUsage, COUNTED, exceeded, missingCompute, type Usage, usageOf } from './quota.ts';
import type { Obj } from './strategies/types.ts';

export async function admitQuota(stores: (plural: string) => ResourceStore, rs: ResourceStore, ns: string | undefined, body: Obj): Promise<void> {
  const plural = rs.res.plural;
  if (!ns || rs.res.group !== '' || !COUNTED.includes(plural)) return;
  const quotas = (await stores('resourcequotas').list(ns)).items.filter((q) => !q.metadata.deletionTimestamp);
  if (!quotas.length) return;
  const obj = structuredClone(body);
  rs.strategy.defaults?.(obj);
  const delta = usageOf(plural, obj);
  const tracked = quotas.filter((q) => Object.keys(q.spec?.hard ?? {}).some((k) => delta[k]));
  if (!tracked.length) return;
  let used: Usage = {};
  for (const o of (await rs.list(ns)).items) used = addUsage(used, usageOf(plural, o));
  for (const q of tracked) {
    const why = (plural === 'pods' ? missingCompute(q, obj) : undefined) ?? exceeded(q, used, delta);
    if (why) throw forbidden(rs.gr, obj.metadata?.name ?? '', why);
  }
}
