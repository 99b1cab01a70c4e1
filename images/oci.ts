// Writing OCI image layouts (https://github.com/opencontainers/image-spec: image-layout, manifest,
// config): a layer is a tar of a staged root filesystem, gzip-compressed; the config names the
// uncompressed digests (diff_ids); index.json points at the manifest with a ref.name annotation.
// Everything is reproducible: sorted entries, fixed mtimes and owners, no gzip timestamp.
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';

export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export const REF_NAME = 'org.opencontainers.image.ref.name';
/** Fixed instant for every file and for the image's `created`, so rebuilds give the same digests. */
export const EPOCH = new Date('2024-01-01T00:00:00Z');

export const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Relative paths of everything under dir, parents before children, siblings sorted bytewise. */
export function listTree(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  const entries = readdirSync(join(dir, prefix), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    out.push(rel);
    if (e.isDirectory()) out.push(...listTree(dir, rel));
  }
  return out;
}

const BLOCK = 512;

/**
 * A tar of a staged root filesystem, written entry by entry with tar's Header so that every field
 * is ours: modes exactly as staged (tar's portable mode would clear /tmp's group/other write bits),
 * owner root, mtime EPOCH, symlinks kept as links, no pax records (paths stay under 100 bytes).
 */
export function tarTree(dir: string): Buffer {
  const parts: Buffer[] = [];
  for (const rel of listTree(dir)) {
    const st = lstatSync(join(dir, rel));
    const type = st.isDirectory() ? 'Directory' : st.isSymbolicLink() ? 'SymbolicLink' : st.isFile() ? 'File' : undefined;
    if (!type) throw new Error(`tarTree: ${rel} is not a file, directory or symlink`);
    const data = type === 'File' ? readFileSync(join(dir, rel)) : Buffer.alloc(0);
    const header = new tar.Header({
      path: type === 'Directory' ? `${rel}/` : rel,
      mode: st.mode & 0o7777,
      uid: 0,
      gid: 0,
      size: data.length,
      mtime: EPOCH,
      type,
      linkpath: type === 'SymbolicLink' ? readlinkSync(join(dir, rel)) : '',
      uname: 'root',
      gname: 'root',
    });
    const block = Buffer.alloc(BLOCK);
    if (header.encode(block)) throw new Error(`tarTree: ${rel} needs a pax header (path or link too long)`);
    parts.push(block, data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(BLOCK * 2)); // end of archive
  return Buffer.concat(parts);
}

export interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  User?: string;
  Labels?: Record<string, string>;
}

export interface LayoutResult {
  manifestDigest: string;
  configDigest: string;
  layerDigests: string[];
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** Writes an OCI layout for one image made of the given uncompressed layer tars into dir (which must be empty). */
export function writeLayout(dir: string, o: { tag: string; config: ImageConfig; layers: Buffer[] }): LayoutResult {
  const blobDir = join(dir, 'blobs', 'sha256');
  mkdirSync(blobDir, { recursive: true });
  const put = (data: Buffer, mediaType: string): Descriptor => {
    const digest = sha256(data);
    writeFileSync(join(blobDir, digest.slice('sha256:'.length)), data);
    return { mediaType, digest, size: data.length };
  };
  // level 9 and node's zero gzip mtime: same bytes in, same bytes out
  const layers = o.layers.map((l) => put(gzipSync(l, { level: 9 }), MEDIA.layerGzip));
  const config = {
    created: EPOCH.toISOString(),
    architecture: 'amd64',
    os: 'linux',
    config: o.config,
    rootfs: { type: 'layers', diff_ids: o.layers.map((l) => sha256(l)) },
    history: o.layers.map(() => ({ created: EPOCH.toISOString(), created_by: 'hawser images/build.ts' })),
  };
  const configDesc = put(Buffer.from(JSON.stringify(config)), MEDIA.config);
  const manifest = { schemaVersion: 2, mediaType: MEDIA.manifest, config: configDesc, layers };
  const manifestDesc = put(Buffer.from(JSON.stringify(manifest)), MEDIA.manifest);
  const index = { schemaVersion: 2, mediaType: MEDIA.index, manifests: [{ ...manifestDesc, annotations: { [REF_NAME]: o.tag } }] };
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return { manifestDigest: manifestDesc.digest, configDigest: configDesc.digest, layerDigests: layers.map((l) => l.digest) };
}
