// Bundles every entry point into one CommonJS file under dist/, so that a CNI plugin or an agent
// starts from a single file (Node pays ~0.1 s per exec; resolving hundreds of modules would add to it).
// CommonJS output because several dependencies are CommonJS and use dynamic require().
import { build } from 'esbuild';
import { chmodSync, copyFileSync } from 'node:fs';

const entries = {
  'hawser': 'agents/cli/main.ts',
  'cni/bridge': 'cni-plugins/bridge/main.ts',
  'cni/host-local': 'cni-plugins/host-local/main.ts',
  'cni/loopback': 'cni-plugins/loopback/main.ts',
  'cni/portmap': 'cni-plugins/portmap/main.ts',
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
  chmodSync(outfile, 0o755);
}

// Each plugin name is the shell shim: it hands the request to a CNI daemon in the same network
// namespace when one runs (shell builtins + one mkfifo, ~15 ms) and otherwise execs <name>.cjs.
for (const p of ['bridge', 'host-local', 'loopback', 'portmap']) {
  copyFileSync('cni-plugins/shim/shim.sh', `dist/cni/${p}`);
  chmodSync(`dist/cni/${p}`, 0o755);
}
