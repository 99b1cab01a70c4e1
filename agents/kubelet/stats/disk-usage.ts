// Filesystem figures for /stats/summary: a mount's capacity from statfs, and the bytes and inodes a
// directory tree uses (upstream's du), walked with a bound so a huge emptyDir cannot stall a scrape.
import { lstatSync, readdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import type { FsStats } from './types.ts';

/** Bound on the entries one tree walk visits. */
const MAX_ENTRIES = 20_000;

/** Capacity, free space and inodes of the filesystem holding `path`; undefined when it is missing. */
export function fsOf(path: string, time: string): FsStats | undefined {
  try {
    const s = statfsSync(path);
    return {
      time,
      availableBytes: s.bavail * s.bsize,
      capacityBytes: s.blocks * s.bsize,
      usedBytes: (s.blocks - s.bfree) * s.bsize,
      inodesFree: s.ffree,
      inodes: s.files,
      inodesUsed: s.files - s.ffree,
    };
  } catch {
    return undefined;
  }
}

/** Bytes (allocated blocks, as du counts) and inodes used under a directory, symlinks not followed, at most `maxEntries` visited; zero when it is missing. */
export function treeUsage(root: string, maxEntries = MAX_ENTRIES): { bytes: number; inodes: number } {
  let bytes = 0;
  let inodes = 0;
  const stack = [root];
  while (stack.length && inodes < maxEntries) {
    const p = stack.pop()!;
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    inodes++;
    bytes += st.blocks * 512;
    if (!st.isDirectory()) continue;
    try {
      for (const e of readdirSync(p)) stack.push(join(p, e));
    } catch {
      /* unreadable */
    }
  }
  return { bytes, inodes };
}

/** A tree's usage on its filesystem, in FsStats form. */
export function treeFs(root: string, time: string): FsStats {
  const used = treeUsage(root);
  const fs = fsOf(root, time);
  return { ...(fs ?? { time }), usedBytes: used.bytes, inodesUsed: used.inodes };
}
