// What an image recipe provides to images/build.ts: a cheap fingerprint of its inputs (to skip a
// rebuild when nothing changed), a way to stage its root filesystem, and its runtime config.
import type { ImageConfig } from './oci.ts';

export interface ImageRecipe {
  /** Repository name in the registry, e.g. 'pause'. */
  name: string;
  tag: string;
  config: ImageConfig;
  /** Strings that together determine the image's bytes (sources, tool versions, binary digests). */
  inputs(): string[];
  /** Fills `dir` (empty) with the root filesystem, modes set explicitly. */
  stage(dir: string): Promise<void> | void;
}
