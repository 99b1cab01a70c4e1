// Bundles the plugins the way build.mjs does (one CommonJS file each, node shebang, mode 755) into a
// directory of the caller's choosing, plus the daemon (cnid.cjs). Beside each <name>.cjs goes <name>:
// either the exec shim (shim/shim.c compiled, as build.mjs does: the lab's install) or a symlink to the .cjs (one-shot Node.js
// plugins, the original install). Tests and the bench use it so they never depend on a stale dist/.
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CNI_PLUGINS as PLUGINS } from '../../../cni-plugins/names.ts';
import { SHIM_SOURCE, shimCompileArgs } from '../../../cni-plugins/shim/compile.ts';

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
  const shim = join(binDir, '.shim');
  if (opts.shim) execFileSync('gcc', shimCompileArgs(join(ROOT, '..', SHIM_SOURCE), shim), { stdio: 'inherit' });
  for (const p of PLUGINS) {
    await bundle(join(ROOT, p, 'main.ts'), join(binDir, `${p}.cjs`));
    const exe = join(binDir, p);
    rmSync(exe, { force: true });
    if (opts.shim) {
      copyFileSync(shim, exe);
      chmodSync(exe, 0o755);
    } else {
      symlinkSync(`${p}.cjs`, exe);
    }
  }
  rmSync(shim, { force: true });
  await bundle(join(ROOT, 'daemon', 'main.ts'), join(binDir, 'cnid.cjs'));
  return binDir;
}
