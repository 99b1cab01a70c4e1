// Bundles every entry point into one CommonJS file under dist/, so that a CNI plugin or an agent
// starts from a single file (Node pays ~0.1 s per exec; resolving hundreds of modules would add to it).
// CommonJS output because several dependencies are CommonJS and use dynamic require().
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { asciiOnly } from './release/ascii-only.mjs';

// The plugin names are declared once in cni-plugins/names.ts; Node runs no TypeScript, so esbuild
// turns that import-free file into a module first.
const names = await build({ entryPoints: ['cni-plugins/names.ts'], write: false, format: 'esm', logLevel: 'warning' });
const { CNI_PLUGINS, cniPluginEntry } = await import(`data:text/javascript,${encodeURIComponent(names.outputFiles[0].text)}`);
const compile = await build({ entryPoints: ['cni-plugins/shim/compile.ts'], write: false, format: 'esm', logLevel: 'warning' });
const { SHIM_SOURCE, shimCompileArgs } = await import(`data:text/javascript,${encodeURIComponent(compile.outputFiles[0].text)}`);

const entries = {
  hawser: 'agents/cli/main.ts',
  ...Object.fromEntries(CNI_PLUGINS.map((p) => [`cni/${p}`, cniPluginEntry(p)])),
  'cni/cnid': 'cni-plugins/daemon/main.ts',
};

for (const [out, entry] of Object.entries(entries)) {
  const outfile = `dist/${out}.cjs`;
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'linked',
    // native addon and optional transports stay outside the bundle and resolve from node_modules
    // etcd3 reads its .proto files from its own package dir at run time, so it cannot be inlined either
    external: ['better-sqlite3', 'etcd3', 'cpu-features', 'ssh2', 'bufferutil', 'utf-8-validate'],
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'warning',
  });
  writeFileSync(outfile, asciiOnly(readFileSync(outfile, 'utf8')));
  chmodSync(outfile, 0o755);
}

// Each plugin name is the exec shim (cni-plugins/shim/shim.c, static): it hands the request to a CNI
// daemon in the same network namespace when one runs and otherwise execs <name>.cjs.
// (removed first: a running binary cannot be written over)
const [first, ...rest] = CNI_PLUGINS;
for (const p of CNI_PLUGINS) rmSync(`dist/cni/${p}`, { force: true });
execFileSync('gcc', shimCompileArgs(SHIM_SOURCE, `dist/cni/${first}`), { stdio: 'inherit' });
for (const p of rest) {
  copyFileSync(`dist/cni/${first}`, `dist/cni/${p}`);
  chmodSync(`dist/cni/${p}`, 0o755);
}
