// A StatefulSet's volumeClaimTemplates, pure (upstream stateful_set_utils.go): each pod ordinal
// gets one claim per template, named <template>-<set>-<ordinal>, which outlives its pod so a
// replacement pod finds the same data. persistentVolumeClaimRetentionPolicy decides what goes:
// whenDeleted=Delete makes the set the claims' owner (the garbage collector removes them with the
// set); whenScaled=Delete removes the claims of ordinals past the replica count once their pods are gone.
import type { Obj } from '../../apiserver/strategies/types.ts';
import { controllerRefTo } from './meta.ts';

type Any = Record<string, any>;

export const claimName = (template: string, set: string, ordinal: number) => `${template}-${set}-${ordinal}`;
const templates = (set: Obj): Any[] => (set.spec?.volumeClaimTemplates ?? []) as Any[];

/** The claims the pod of this ordinal uses, as the controller would create them. */
export function claimsForOrdinal(set: Obj, ordinal: number): Obj[] {
  const whenDeleted = set.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted;
  return templates(set).map((t) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: claimName(t.metadata?.name, set.metadata.name!, ordinal),
      namespace: set.metadata.namespace,
      labels: { ...(t.metadata?.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) },
      ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      ...(whenDeleted === 'Delete' ? { ownerReferences: [{ ...controllerRefTo(set, 'apps/v1', 'StatefulSet'), controller: false }] } : {}),
    },
    spec: structuredClone(t.spec ?? {}),
  }));
}

/** Points the pod's volumes named after a template at its ordinal's claim (upstream updateStorage). */
export function podClaimVolumes(set: Obj, ordinal: number, spec: Any): void {
  const ts = templates(set);
  if (!ts.length) return;
  const names = new Set(ts.map((t) => t.metadata?.name));
  const kept = ((spec.volumes ?? []) as Any[]).filter((v) => !names.has(v.name));
  spec.volumes = [
    ...kept,
    ...ts.map((t) => ({ name: t.metadata?.name, persistentVolumeClaim: { claimName: claimName(t.metadata?.name, set.metadata.name!, ordinal) } })),
  ];
}

/** Claims of ordinals at or past the replica count whose pods are gone, under whenScaled=Delete. */
export function condemnedClaims(set: Obj, claims: Iterable<Obj>, liveOrdinals: Set<number>): Obj[] {
  if (set.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled !== 'Delete') return [];
  const replicas = set.spec?.replicas ?? 1;
  const out: Obj[] = [];
  for (const c of claims) {
    if (c.metadata.namespace !== set.metadata.namespace || c.metadata.deletionTimestamp) continue;
    for (const t of templates(set)) {
      const prefix = `${t.metadata?.name}-${set.metadata.name}-`;
      const rest = c.metadata.name!.startsWith(prefix) ? c.metadata.name!.slice(prefix.length) : '';
      if (!/^(0|[1-9]\d*)$/.test(rest)) continue;
      const n = Number(rest);
      if (n >= replicas && !liveOrdinals.has(n)) out.push(c);
    }
  }
  return out;
}
