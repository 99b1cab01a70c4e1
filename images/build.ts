// Builds hawser's images as OCI layouts: <outDir>/<name> for each recipe (pause, testapp).
// Reproducible (same inputs, same digests) and incremental: a recipe whose inputs' fingerprint
// matches <outDir>/<name>.inputs is not rebuilt. Run: node --import=tsx images/build.ts <outDir>
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256, tarTree, writeLayout } from './oci.ts';
import { pause } from './pause/recipe.ts';
import type { ImageRecipe } from './recipe.ts';
import { testapp } from './testapp/recipe.ts';

// bump when the way layouts are written changes, so old outputs are rebuilt
const BUILDER_VERSION = '1';

export const RECIPES: ImageRecipe[] = [pause, testapp];

export interface BuiltImage {
  name: string;
  tag: string;
  /** the OCI layout directory, usable as skopeo's oci:<dir> */
  dir: string;
  manifestDigest: string;
  /** false when the existing output was current */
  built: boolean;
}

interface Stamp {
  fingerprint: string;
  manifestDigest: string;
}

export function fingerprint(r: ImageRecipe): string {
  return sha256(JSON.stringify([BUILDER_VERSION, r.name, r.tag, r.config, ...r.inputs()]));
}

function readStamp(path: string): Stamp | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

export async function buildImage(outDir: string, r: ImageRecipe): Promise<BuiltImage> {
  const dir = join(outDir, r.name);
  const stampPath = join(outDir, `${r.name}.inputs`);
  const fp = fingerprint(r);
  const stamp = readStamp(stampPath);
  if (stamp?.fingerprint === fp && existsSync(join(dir, 'index.json'))) {
    return { name: r.name, tag: r.tag, dir, manifestDigest: stamp.manifestDigest, built: false };
  }
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(join(outDir, `.build-${r.name}-`));
  try {
    const rootfs = join(work, 'rootfs');
    const layout = join(work, 'layout');
    mkdirSync(rootfs);
    await r.stage(rootfs);
    const result = writeLayout(layout, { tag: r.tag, config: r.config, layers: [tarTree(rootfs)] });
    // swap in the new layout; a concurrent builder of the same inputs writes identical bytes
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(layout, dir);
    } catch (e) {
      if (!existsSync(join(dir, 'index.json'))) throw e;
    }
    writeFileSync(stampPath, JSON.stringify({ fingerprint: fp, manifestDigest: result.manifestDigest } satisfies Stamp));
    return { name: r.name, tag: r.tag, dir, manifestDigest: result.manifestDigest, built: true };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export async function buildImages(outDir: string, recipes = RECIPES): Promise<Record<string, BuiltImage>> {
  const out: Record<string, BuiltImage> = {};
  for (const r of recipes) out[r.name] = await buildImage(resolve(outDir), r);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const outDir = process.argv[2];
  if (!outDir) {
    process.stderr.write('usage: node --import=tsx images/build.ts <outDir>\n');
    process.exit(2);
  }
  for (const img of Object.values(await buildImages(outDir))) {
    process.stdout.write(`${img.name}:${img.tag} ${img.manifestDigest} ${img.dir} ${img.built ? 'built' : 'current'}\n`);
  }
}
