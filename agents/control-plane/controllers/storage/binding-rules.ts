// The PV controller's decisions (upstream pkg/controller/volume/persistentvolume), pure: which
// volume a claim binds to (the smallest Available one of its class that fits its size, access
// modes, selector, volume mode and, once a node is selected, node affinity; a volume pre-bound to
// the claim wins), what phase a volume is in (Available, Bound, Released, Failed), and what a
// claim waits for, with upstream's event wording.
import type { Obj } from '../../apiserver/strategies/types.ts';
import { fromLabelSelector, matchLabels } from '../../apiserver/selectors.ts';
import { getOwn } from '../../apiserver/safe-keys.ts';
import { nodeSelectorMatches } from '../../scheduler/filters.ts';
import { parseQuantity } from '../../../api/pod-defaults.ts';

export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';

export interface Event {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

const size = (r: Record<string, unknown> | undefined) => parseQuantity(r ? getOwn(r, 'storage') : undefined) ?? 0;
export const claimSize = (c: Obj) => size(c.spec?.resources?.requests);
export const volumeSize = (v: Obj) => size(v.spec?.capacity);
export const classOfClaim = (c: Obj): string => c.spec?.storageClassName ?? c.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '';
export const classOfVolume = (v: Obj): string => v.spec?.storageClassName ?? v.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '';

/** upstream IsVolumeBoundToClaim: the claimRef names this claim (and its uid, once set). */
export function boundToClaim(v: Obj, c: Obj): boolean {
  const ref = v.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== c.metadata.name || ref.namespace !== c.metadata.namespace) return false;
  return !ref.uid || ref.uid === c.metadata.uid;
}

function modesCovered(c: Obj, v: Obj): boolean {
  const have: string[] = v.spec?.accessModes ?? [];
  return ((c.spec?.accessModes ?? []) as string[]).every((m) => have.includes(m));
}

/** The node's fit for a volume's nodeAffinity (a volume without one fits every node). */
export function volumeFitsNode(v: Obj, node: Obj | undefined): boolean {
  const terms = v.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms?.length || !node) return true;
  return nodeSelectorMatches(terms, node.metadata.labels ?? {}, node.metadata.name!);
}

/**
 * upstream FindMatchingVolume. `node` is the node selected for a WaitForFirstConsumer claim;
 * with `delayBinding` and no node, only a volume pre-bound to the claim matches.
 */
export function findMatchingVolume(c: Obj, volumes: Iterable<Obj>, o: { delayBinding: boolean; node?: Obj }): Obj | undefined {
  const want = claimSize(c);
  const cls = classOfClaim(c);
  const sel = c.spec?.selector ? fromLabelSelector(c.spec.selector) : undefined;
  let best: Obj | undefined;
  for (const v of volumes) {
    if (v.spec?.claimRef && !boundToClaim(v, c)) continue;
    if (volumeSize(v) < want) continue;
    if ((v.spec?.volumeMode ?? 'Filesystem') !== (c.spec?.volumeMode ?? 'Filesystem')) continue;
    if (v.metadata.deletionTimestamp) continue;
    const fits = volumeFitsNode(v, o.node);
    if (boundToClaim(v, c)) return fits ? v : undefined;
    if (!o.node && o.delayBinding) continue;
    if (v.status?.phase !== 'Available') continue;
    if (sel && !matchLabels(sel, v.metadata.labels)) continue;
    if (classOfVolume(v) !== cls) continue;
    if (!fits || !modesCovered(c, v)) continue;
    if (!best || volumeSize(best) > volumeSize(v)) best = v;
  }
  return best;
}

export type ClaimPlan =
  | { action: 'none' }
  | { action: 'bind'; volume: Obj }
  | { action: 'provision'; provisioner: string; node?: string }
  | { action: 'pending'; event?: Event }
  | { action: 'lost'; event: Event };

export interface ClaimWorld {
  volumes: Map<string, Obj>;
  classes: Map<string, Obj>;
  nodes: Map<string, Obj>;
}

/** What the claim needs next (upstream syncClaim / syncUnboundClaim / syncBoundClaim). */
export function planClaim(c: Obj, w: ClaimWorld): ClaimPlan {
  if (c.metadata.deletionTimestamp) return { action: 'none' };
  const name = c.spec?.volumeName;
  if (name) {
    const v = w.volumes.get(name);
    if (!v) {
      if (c.status?.phase === 'Bound' || c.metadata.annotations?.[ANN_BIND_COMPLETED])
        return {
          action: 'lost',
          event: { type: 'Warning', reason: 'ClaimLost', message: 'Bound claim has lost its PersistentVolume. Data on the volume is lost!' },
        };
      return { action: 'pending' };
    }
    if (!v.spec?.claimRef || boundToClaim(v, c)) return { action: 'bind', volume: v };
    return { action: 'pending', event: { type: 'Warning', reason: 'FailedBinding', message: 'volume is already bound to a different claim.' } };
  }
  const cls = classOfClaim(c);
  const sc = cls ? w.classes.get(cls) : undefined;
  const delayBinding = sc?.volumeBindingMode === 'WaitForFirstConsumer';
  const selected = c.metadata.annotations?.[ANN_SELECTED_NODE];
  const node = selected ? (w.nodes.get(selected) ?? { metadata: { name: selected, labels: { 'kubernetes.io/hostname': selected } } }) : undefined;
  const v = findMatchingVolume(c, w.volumes.values(), { delayBinding, node });
  if (v) return { action: 'bind', volume: v };
  if (delayBinding && !selected)
    return { action: 'pending', event: { type: 'Normal', reason: 'WaitForFirstConsumer', message: 'waiting for first consumer to be created before binding' } };
  if (!cls)
    return {
      action: 'pending',
      event: { type: 'Normal', reason: 'FailedBinding', message: 'no persistent volumes available for this claim and no storage class is set' },
    };
  if (!sc) return { action: 'pending', event: { type: 'Warning', reason: 'ProvisioningFailed', message: `storageclass.storage.k8s.io "${cls}" not found` } };
  if (sc.provisioner === 'kubernetes.io/no-provisioner')
    return {
      action: 'pending',
      event: { type: 'Warning', reason: 'ProvisioningFailed', message: 'no volume plugin matched name: kubernetes.io/no-provisioner' },
    };
  return { action: 'provision', provisioner: sc.provisioner, node: selected };
}

export type VolumePlan = { phase: 'Available' | 'Bound' | 'Released'; event?: Event; unbind?: boolean } | { phase: 'Failed'; message: string; event: Event };

/** The phase a volume should be in, given its claim (undefined: the claim does not exist). */
export function planVolume(v: Obj, claim: Obj | undefined, builtinDeleters: string[]): VolumePlan {
  const ref = v.spec?.claimRef;
  if (!ref) return { phase: 'Available' };
  // pre-bound by a user to a claim that may not exist yet
  if (!ref.uid) return { phase: 'Available' };
  if (claim && claim.metadata.uid === ref.uid) {
    if (claim.spec?.volumeName === v.metadata.name || !claim.spec?.volumeName) return { phase: 'Bound' };
    // the claim went to another volume: one the controller bound is freed again
    if (v.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER]) return { phase: 'Available', unbind: true };
    return { phase: 'Bound' };
  }
  if (v.status?.phase === 'Failed')
    return { phase: 'Failed', message: v.status.message ?? '', event: { type: 'Warning', reason: 'VolumeFailedDelete', message: v.status.message ?? '' } };
  const policy = v.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
  if (policy === 'Retain')
    return {
      phase: 'Released',
      event: { type: 'Normal', reason: 'VolumeReleased', message: 'Volume is released; it stays until an administrator reclaims it' },
    };
  if (policy === 'Delete' && builtinDeleters.includes(v.metadata.annotations?.[ANN_PROVISIONED_BY] ?? '')) return { phase: 'Released' };
  const message =
    policy === 'Recycle'
      ? 'No recycler plugin found for the volume!'
      : `error getting deleter volume plugin for volume "${v.metadata.name}": no deletable volume plugin matched`;
  return { phase: 'Failed', message, event: { type: 'Warning', reason: policy === 'Recycle' ? 'VolumeFailedRecycle' : 'VolumeFailedDelete', message } };
}
