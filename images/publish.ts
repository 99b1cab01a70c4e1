// Build every hawser image and push it to a registry: what `make lab` (and the integration tests)
// run before any node pulls. Returns, per image, the reference pushed and its manifest digest.
import { buildImages } from './build.ts';
import { pushImage } from './registry.ts';

export interface PublishedImage {
  /** e.g. 10.77.0.1:5000/pause:3.10 */
  ref: string;
  manifestDigest: string;
  layoutDir: string;
}

export async function publishImages(o: { outDir: string; registry: string; netnsPath?: string }): Promise<Record<string, PublishedImage>> {
  const out: Record<string, PublishedImage> = {};
  for (const img of Object.values(await buildImages(o.outDir))) {
    const ref = `${o.registry}/${img.name}:${img.tag}`;
    await pushImage(img.dir, ref, { netnsPath: o.netnsPath });
    out[img.name] = { ref, manifestDigest: img.manifestDigest, layoutDir: img.dir };
  }
  return out;
}
