// Deployment revisions (pure): which ReplicaSet is the new one, the ReplicaSet a new template
// gets, revision numbers and the annotations copied from the Deployment, and which old sets the
// revision history limit lets go. `kubectl rollout undo` relies on all of these.
import type { Obj } from '../../apiserver/strategies/types.ts';
import { type Any, byCreation, controllerRefTo, sameTemplate, templateHash } from './meta.ts';
import { replicaAnnotations } from './deployment-rules.ts';

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const HASH_LABEL = 'pod-template-hash';
/** Deployment annotations that are not copied to its ReplicaSets (upstream annotationsToSkip). */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  REVISION_HISTORY,
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

/** A set's revision: an int64 in upstream (adopted sets carry any value), so a bigint here; 0 when absent or not a number. */
export function revisionOf(rs: Obj): bigint {
  const text = rs.metadata.annotations?.[REVISION];
  return typeof text === 'string' && /^[0-9]{1,19}$/.test(text) ? BigInt(text) : 0n;
}

const byRevision = (a: Obj, b: Obj): number => {
  const x = revisionOf(a),
    y = revisionOf(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

/** The oldest set whose template is the Deployment's (the pod-template-hash label aside). */
export function findNewSet(d: Obj, rss: Obj[]): Obj | undefined {
  return [...rss].sort(byCreation).find((rs) => sameTemplate(rs.spec?.template, d.spec?.template, HASH_LABEL));
}

export function nextRevision(oldRSs: Obj[]): bigint {
  return oldRSs.map(revisionOf).reduce((a, b) => (b > a ? b : a), 0n) + 1n;
}

function copiedAnnotations(d: Obj): Record<string, string> {
  return Object.fromEntries(Object.entries((d.metadata.annotations ?? {}) as Record<string, string>).filter(([k]) => !NOT_COPIED.has(k)));
}

/** The ReplicaSet for the Deployment's current template. */
export function newSetFor(d: Obj, revision: bigint, replicas: number): Obj {
  const hash = templateHash(d.spec?.template, d.status?.collisionCount);
  const template: Any = structuredClone(d.spec?.template ?? {});
  template.metadata ??= {};
  template.metadata.labels = { ...(template.metadata.labels ?? {}), [HASH_LABEL]: hash };
  const selector: Any = structuredClone(d.spec?.selector ?? {});
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [HASH_LABEL]: hash };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name}-${hash}`,
      namespace: d.metadata.namespace,
      labels: template.metadata.labels,
      annotations: { ...copiedAnnotations(d), ...replicaAnnotations(d), [REVISION]: String(revision) },
      ownerReferences: [controllerRefTo(d, 'apps/v1', 'Deployment')],
    },
    spec: { replicas, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
  };
}

/**
 * The annotations an existing new set should carry (the Deployment's, and the new revision with
 * the one it replaces appended to revision-history, as after a rollback); undefined when unchanged.
 */
export function syncedAnnotations(d: Obj, rs: Obj, revision: bigint): Record<string, string> | undefined {
  const have: Record<string, string> = rs.metadata.annotations ?? {};
  const next: Record<string, string> = { ...have, ...copiedAnnotations(d) };
  const old = revisionOf(rs);
  if (old < revision) {
    next[REVISION] = String(revision);
    if (old > 0n) next[REVISION_HISTORY] = [...(have[REVISION_HISTORY] ? have[REVISION_HISTORY].split(',') : []), String(old)].join(',');
  }
  if (!next[REVISION]) next[REVISION] = String(revision);
  if (!have['deployment.kubernetes.io/desired-replicas']) Object.assign(next, replicaAnnotations(d));
  const same = Object.keys(next).length === Object.keys(have).length && Object.entries(next).every(([k, v]) => have[k] === v);
  return same ? undefined : next;
}

/** Old sets beyond revisionHistoryLimit that are empty and settled, oldest revision first. */
export function historyVictims(d: Obj, oldRSs: Obj[]): Obj[] {
  const limit = d.spec?.revisionHistoryLimit;
  if (limit === undefined || limit === null) return [];
  const live = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp).sort((a, b) => byRevision(a, b) || byCreation(a, b));
  const excess = live.length - limit;
  if (excess <= 0) return [];
  return live
    .slice(0, excess)
    .filter(
      (rs) => (rs.status?.replicas ?? 0) === 0 && (rs.spec?.replicas ?? 0) === 0 && (rs.status?.observedGeneration ?? 0) >= (rs.metadata.generation ?? 1),
    );
}
