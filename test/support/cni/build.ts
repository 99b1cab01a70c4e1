// Bundles the plugins the way build.mjs does (one CommonJS file each, node shebang, mode 755) into a
// directory of the caller's choosing, plus the daemon (cnid.cjs). Beside each <name>.cjs goes <name>:
// either the exec shim (shim/shim.sh, the proposed install) or a symlink to the .cjs (one-shot Node.js
// plugins, the original install). Tests and the bench use it so they never depend on a stale dist/.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CNI_PLUGINS as PLUGINS } from '../../../cni-plugins/names.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../cni-plugins');

async function bundle(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'warning',
  });
  chmodSync(outfile, 0o755);
}

export async function buildPlugins(binDir: string, opts: { shim?: boolean } = {}): Promise<string> {
  mkdirSync(binDir, { recursive: true });
  for (const p of PLUGINS) {
    await bundle(join(ROOT, p, 'main.ts'), join(binDir, `${p}.cjs`));
    const exe = join(binDir, p);
    rmSync(exe, { force: true });
    if (opts.shim) {
      copyFileSync(join(ROOT, 'shim', 'shim.sh'), exe);
      chmodSync(exe, 0o755);
    } else {
      symlinkSync(`${p}.cjs`, exe);
    }
  }
  await bundle(join(ROOT, 'daemon', 'main.ts'), join(binDir, 'cnid.cjs'));
  return binDir;
}
