// Bundles every entry point into one CommonJS file under dist/, so that a CNI plugin or an agent
// starts from a single file (Node pays ~0.1 s per exec; resolving hundreds of modules would add to it).
// CommonJS output because several dependencies are CommonJS and use dynamic require().
// Each entry is two files: <name>.bundle.cjs, the bundle, and <name>.cjs, the small loader Node
// runs, which compiles the bundle with V8's code cache (agents/cli/code-cache/).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

// what every output shares: one CommonJS file for Node 20, runnable as a script
const nodeScript = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', banner: { js: '#!/usr/bin/env node' }, logLevel: 'warning' };
const loader = await build({ ...nodeScript, entryPoints: ['agents/cli/code-cache/main.ts'], write: false });

for (const [out, entry] of Object.entries(entries)) {
  const outfile = `dist/${out}.bundle.cjs`;
  await build({
    ...nodeScript,
    entryPoints: [entry],
    outfile,
    sourcemap: 'linked',
    // native addon and optional transports stay outside the bundle and resolve from node_modules
    // etcd3 reads its .proto files from its own package dir at run time, so it cannot be inlined either
    external: ['better-sqlite3', 'etcd3', 'cpu-features', 'ssh2', 'bufferutil', 'utf-8-validate'],
  });
  const text = asciiOnly(readFileSync(outfile, 'utf8'));
  // on Node 20 a script run from a V8 code cache has no dynamic import callback (code-cache/load.ts)
  const dynamicImport = /[^.\w]import\("[^"]*"\)/.exec(text);
  if (dynamicImport)
    throw new Error(`${outfile}: ${dynamicImport[0].slice(1)} of an external module cannot run through the code-cache loader: import it statically`);
  writeFileSync(outfile, text);
  writeFileSync(`dist/${out}.cjs`, loader.outputFiles[0].text);
  chmodSync(`dist/${out}.cjs`, 0o755);
}
// a code cache of the previous build would be rejected (its bundle hash differs): drop it
for (const dir of ['dist', 'dist/cni']) for (const f of readdirSync(dir)) if (f.endsWith('.codecache')) rmSync(`${dir}/${f}`);

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
