// Measurements behind the node's pressure conditions: available memory (MemAvailable), the kubelet
// root's filesystem (bytes and inodes), the image filesystem, and free process IDs.
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import type { NodeStats } from './pressure.ts';

function meminfo(): { total: number; available: number } {
  const text = readFileSync('/proc/meminfo', 'utf8');
  const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { total: kib('MemTotal'), available: kib('MemAvailable') };
}

export function readNodeStats(rootDir: string, imagefsMount?: string): NodeStats {
  const mem = meminfo();
  const fs = statfsSync(rootDir);
  const img = imagefsMount
    ? (() => {
        try {
          return statfsSync(imagefsMount);
        } catch {
          return undefined;
        }
      })()
    : undefined;
  let pidMax = 32768;
  try {
    pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim()) || pidMax;
  } catch {
    /* default */
  }
  const pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).length;
  return {
    memoryAvailable: mem.available,
    memoryCapacity: mem.total,
    nodefsAvailable: fs.bavail * fs.bsize,
    nodefsCapacity: fs.blocks * fs.bsize,
    inodesFree: fs.ffree,
    inodes: fs.files,
    ...(img ? { imagefsAvailable: img.bavail * img.bsize, imagefsCapacity: img.blocks * img.bsize } : {}),
    pidsAvailable: pidMax - pids,
    pidMax,
  };
}
