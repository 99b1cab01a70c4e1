// Image garbage collection on disk thresholds, as upstream's image GC manager: when the image
// filesystem is at least --image-gc-high-threshold percent full, remove images no container uses
// (running or exited), least recently used first, skipping pinned images (the sandbox image) and
// images younger than --minimum-image-ttl-duration, until usage is down to the low threshold.
import { statfsSync } from 'node:fs';
import type { Logger } from '../../api/log.ts';
import type { ImageInfo, PodRuntime } from '../pods/runtime.ts';

export interface ImageRecord {
  id: string;
  size: number;
  pinned: boolean;
  firstDetected: number;
  lastUsed: number;
}

export interface GcPolicy {
  highPercent: number;
  lowPercent: number;
  minAgeMs: number;
}

/** Bytes to free to get from `available` of `capacity` down to the low threshold (0 below the high one). */
export function bytesToFree(capacity: number, available: number, p: GcPolicy): number {
  if (capacity <= 0 || p.highPercent >= 100) return 0;
  const usagePercent = 100 - Math.floor((available * 100) / capacity);
  if (usagePercent < p.highPercent) return 0;
  return Math.max(0, Math.floor((capacity * (100 - p.lowPercent)) / 100) - available);
}

/** The images to remove, in order, and how many bytes they free. */
export function imagesToRemove(
  records: ImageRecord[],
  inUse: Set<string>,
  want: number,
  now: number,
  minAgeMs: number,
): { remove: ImageRecord[]; freed: number } {
  const candidates = records
    .filter((r) => !inUse.has(r.id) && !r.pinned && now - r.firstDetected >= minAgeMs)
    .sort((a, b) => a.lastUsed - b.lastUsed || a.firstDetected - b.firstDetected);
  const remove: ImageRecord[] = [];
  let freed = 0;
  for (const r of candidates) {
    if (freed >= want) break;
    remove.push(r);
    freed += r.size;
  }
  return { remove, freed };
}

export interface GcReport {
  wanted: number;
  freed: number;
  removed: string[];
}

export class ImageGC {
  private records = new Map<string, ImageRecord>();

  constructor(
    private rt: PodRuntime,
    private policy: GcPolicy,
    private log: Logger,
    private onShortfall: (wanted: number, found: number) => void,
  ) {}

  /** Refreshes first-detected/last-used times from the runtime's images and containers. */
  async detect(now = Date.now()): Promise<{ images: ImageInfo[]; inUse: Set<string> }> {
    const [images, containers] = await Promise.all([this.rt.listImages(), this.rt.listContainers()]);
    const byRef = new Map<string, string>();
    for (const i of images) for (const name of [i.id, ...i.tags, ...i.digests]) byRef.set(name, i.id);
    const inUse = new Set(containers.map((c) => byRef.get(c.imageRef) ?? c.imageRef));
    const live = new Set(images.map((i) => i.id));
    for (const id of this.records.keys()) if (!live.has(id)) this.records.delete(id);
    for (const i of images) {
      const r = this.records.get(i.id) ?? { id: i.id, size: i.size, pinned: i.pinned, firstDetected: now, lastUsed: 0 };
      r.size = i.size;
      r.pinned = i.pinned;
      if (inUse.has(i.id)) r.lastUsed = now;
      this.records.set(i.id, r);
    }
    return { images, inUse };
  }

  async collect(now = Date.now()): Promise<GcReport> {
    const fs = await this.rt.imageFs();
    const { inUse } = await this.detect(now);
    if (!fs?.mountpoint) return { wanted: 0, freed: 0, removed: [] };
    const st = statfsSync(fs.mountpoint);
    const want = bytesToFree(st.blocks * st.bsize, st.bavail * st.bsize, this.policy);
    if (want <= 0) return { wanted: 0, freed: 0, removed: [] };
    const plan = imagesToRemove([...this.records.values()], inUse, want, now, this.policy.minAgeMs);
    const removed: string[] = [];
    let freed = 0;
    for (const r of plan.remove) {
      try {
        await this.rt.removeImage(r.id);
        this.records.delete(r.id);
        removed.push(r.id);
        freed += r.size;
      } catch (err) {
        this.log.warn({ image: r.id, err: String(err) }, 'image garbage collection could not remove an image');
      }
    }
    this.log.info({ wanted: want, freed, removed: removed.length }, 'image garbage collection');
    if (freed < want) this.onShortfall(want, freed);
    return { wanted: want, freed, removed };
  }
}
