// Volume expansion of the built-in local-path volumes, pure: a directory has no size, so growing a
// bound claim whose class allows expansion needs no work on the node. The steps follow upstream's
// resizer: the claim is marked Resizing (allocatedResources, ControllerResizeInProgress), the
// volume's spec.capacity grows, then the claim's status.capacity takes the new size and the
// conditions go. No FileSystemResizePending: there is no file system to grow.
import type { Obj } from '../../apiserver/strategies/types.ts';
import { claimSize, type Event, volumeSize } from './binding-rules.ts';
import { localPathNode } from './local-path-rules.ts';
import { parseQuantity } from '../../../api/pod-defaults.ts';

export const RESIZING = 'Resizing';
const RESIZE_CONDITIONS = [RESIZING, 'FileSystemResizePending', 'ControllerResizeError', 'NodeResizeError'];

export type ExpansionPlan = { step: 'none' } | { step: 'start' | 'volume' | 'finish'; size: string; event?: Event };

const claimCapacity = (c: Obj) => parseQuantity(c.status?.capacity?.storage) ?? 0;
const resizing = (c: Obj) => (c.status?.conditions ?? []).some((x: { type?: string }) => x.type === RESIZING);

export function planExpansion(c: Obj, v: Obj, sc: Obj | undefined): ExpansionPlan {
  if (c.status?.phase !== 'Bound' || c.metadata.deletionTimestamp || !localPathNode(v) || sc?.allowVolumeExpansion !== true) return { step: 'none' };
  const want = claimSize(c);
  const size = String(c.spec.resources.requests.storage);
  if (volumeSize(v) < want) {
    if (!resizing(c))
      return { step: 'start', size, event: { type: 'Normal', reason: 'Resizing', message: `External resizer is resizing volume ${v.metadata.name}` } };
    return { step: 'volume', size };
  }
  if (claimCapacity(c) < want || resizing(c) || c.status?.allocatedResourceStatuses)
    return { step: 'finish', size, event: { type: 'Normal', reason: 'VolumeResizeSuccessful', message: 'Resize volume succeeded' } };
  return { step: 'none' };
}

/** The claim's status for a step: Resizing with the allocation asked for, or done at the new size. */
export function expansionStatus(c: Obj, step: 'start' | 'finish', size: string, now: string): Record<string, unknown> {
  const conditions = (c.status?.conditions ?? []).filter((x: { type?: string }) => !RESIZE_CONDITIONS.includes(x.type ?? ''));
  const { allocatedResourceStatuses: _, ...status } = c.status ?? {};
  if (step === 'start') {
    return {
      ...status,
      allocatedResources: { ...(status.allocatedResources ?? {}), storage: size },
      allocatedResourceStatuses: { storage: 'ControllerResizeInProgress' },
      conditions: [...conditions, { type: RESIZING, status: 'True', lastProbeTime: null, lastTransitionTime: now }],
    };
  }
  const done: Record<string, unknown> = {
    ...status,
    capacity: { ...(status.capacity ?? {}), storage: size },
    allocatedResources: { ...(status.allocatedResources ?? {}), storage: size },
  };
  if (conditions.length) done.conditions = conditions;
  else delete done.conditions;
  return done;
}
