// Bundles every entry point into one CommonJS file under dist/, so that a CNI plugin or an agent
// starts from a single file (Node pays ~0.1 s per exec; resolving hundreds of modules would add to it).
// CommonJS output because several dependencies are CommonJS and use dynamic require().
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

const entries = {
  'hawser': 'agents/cli/main.ts',
  'cni/bridge': 'cni-plugins/bridge/main.ts',
  'cni/host-local': 'cni-plugins/host-local/main.ts',
  'cni/loopback': 'cni-plugins/loopback/main.ts',
  'cni/portmap': 'cni-plugins/portmap/main.ts',
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
    external: ['better-sqlite3', 'cpu-features', 'ssh2', 'bufferutil', 'utf-8-validate'],
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'warning',
  });
  chmodSync(outfile, 0o755);
}
