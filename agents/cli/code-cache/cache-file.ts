// The code cache file beside a bundle: one text line naming what the cache was made from (the
// format, Node's version, the CPU architecture and the bundle's SHA-256), then V8's cached data.
// V8 checks its own version and flags and only the source's length, so a rebuilt bundle of the
// same length would get another bundle's bytecode: the hash is ours to check. Pure.
import { createHash } from 'node:crypto';

const MAGIC = 'hawser-code-cache 1';

/** What a cache must have been made from to be used for this bundle under this Node. */
export function cacheKey(bundle: Buffer, nodeVersion = process.version, arch = process.arch): string {
  return `${MAGIC} ${nodeVersion} ${arch} ${createHash('sha256').update(bundle).digest('hex')}`;
}

/** The file's bytes: the key line, then the data. */
export function encodeCache(key: string, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${key}\n`, 'latin1'), data]);
}

/** The cached data when the file was made for this key, else undefined (another build, another Node, garbage). */
export function decodeCache(file: Buffer, key: string): Buffer | undefined {
  const nl = file.indexOf(0x0a);
  if (nl < 0 || file.toString('latin1', 0, nl) !== key || nl + 1 >= file.length) return undefined;
  return file.subarray(nl + 1);
}

/** Where a bundle's cache lives: beside it. */
export const cachePath = (bundlePath: string): string => `${bundlePath}.codecache`;

/** The bundle a loader named <name>.cjs runs: <name>.bundle.cjs beside it. */
export const bundleOf = (loaderPath: string): string => loaderPath.replace(/\.cjs$/, '.bundle.cjs');
