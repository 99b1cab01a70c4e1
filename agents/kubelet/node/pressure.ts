// Node pressure from measured resources against the hard eviction thresholds (--eviction-hard,
// upstream's defaults memory.available<100Mi, nodefs.available<10%, imagefs.available<15%,
// nodefs.inodesFree<5%); these drive MemoryPressure, DiskPressure and PIDPressure. Pure.
import { parseQuantity } from '../../api/quantity.ts';

export type Threshold = { bytes: number } | { percent: number };
export type Thresholds = Partial<Record<'memory.available' | 'nodefs.available' | 'nodefs.inodesFree' | 'imagefs.available' | 'pid.available', Threshold>>;

export const DEFAULT_EVICTION_HARD = 'memory.available<100Mi,nodefs.available<10%,imagefs.available<15%,nodefs.inodesFree<5%';

export function parseThresholds(s: string): Thresholds {
  const out: Thresholds = {};
  for (const part of s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^([a-zA-Z.]+)<(.+)$/.exec(part);
    if (!m) throw new Error(`bad eviction threshold "${part}": want signal<quantity or signal<percent%`);
    const signal = m[1] as keyof Thresholds;
    if (!['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'pid.available'].includes(signal)) {
      throw new Error(`unknown eviction signal "${signal}"`);
    }
    if (m[2].endsWith('%')) out[signal] = { percent: Number(m[2].slice(0, -1)) };
    else {
      const b = parseQuantity(m[2]);
      if (b === undefined) throw new Error(`bad quantity in eviction threshold "${part}"`);
      out[signal] = { bytes: b };
    }
  }
  return out;
}

/** How much of `capacity` a threshold keeps back (a percentage or an absolute amount). */
export const reserveOf = (t: Threshold | undefined, capacity: number): number => (!t ? 0 : 'bytes' in t ? t.bytes : Math.floor((capacity * t.percent) / 100));

export interface NodeStats {
  memoryAvailable: number;
  memoryCapacity: number;
  nodefsAvailable: number;
  nodefsCapacity: number;
  inodesFree: number;
  inodes: number;
  imagefsAvailable?: number;
  imagefsCapacity?: number;
  pidsAvailable: number;
  pidMax: number;
}

const below = (available: number, capacity: number, t: Threshold | undefined) => !!t && capacity > 0 && available < reserveOf(t, capacity);

export function pressure(s: NodeStats, t: Thresholds): { memory: boolean; disk: boolean; pid: boolean } {
  return {
    memory: below(s.memoryAvailable, s.memoryCapacity, t['memory.available']),
    disk:
      below(s.nodefsAvailable, s.nodefsCapacity, t['nodefs.available']) ||
      below(s.inodesFree, s.inodes, t['nodefs.inodesFree']) ||
      (s.imagefsCapacity !== undefined && below(s.imagefsAvailable ?? 0, s.imagefsCapacity, t['imagefs.available'])),
    pid: below(s.pidsAvailable, s.pidMax, t['pid.available']),
  };
}
