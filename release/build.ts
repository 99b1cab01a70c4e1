// `make dist`: the release tarball a bare Debian/Ubuntu host installs from with no npm, compiler
// or Node.js of its own: dist/release/hawser-<version>-linux-amd64.tar.gz holding hawser-<version>/
// with the bundles, the runtime node_modules (better-sqlite3 built for the node binary shipped
// beside it, etcd3 and its dependencies), bin/node, bin/kubectl and the systemd units: exactly the
// files `hawser install --from <tarball>` reads (agents/cli/install/build.ts), nothing else.
// Run: node --import=tsx release/build.ts [outDir]   (after node build.mjs and make kubectl)
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleOf, cachePath } from '../agents/cli/code-cache/cache-file.ts';
import { readBuild, RELEASE_PREFIX, SUMS_FILE } from '../agents/cli/install/build.ts';

export interface Release {
  file: string;
  bytes: number;
  version: string;
}

/**
 * Each bundle's V8 code cache (agents/cli/code-cache), made by the release's own node through the
 * bundle's loader without running it, so that the first start on a host (and every start where
 * dist/ is read-only) skips compiling it. Returns the caches' paths, relative to the release.
 */
function prepareCodeCaches(top: string, files: string[]): string[] {
  const loaders = files.filter((f) => f.startsWith('dist/') && f.endsWith('.cjs') && !f.endsWith('.bundle.cjs'));
  const caches = loaders.map((l) => cachePath(bundleOf(l)));
  for (const [i, l] of loaders.entries()) {
    // a loader older than prepare mode would run its bundle (a daemon, for cnid): bounded
    execFileSync(join(top, 'bin/node'), [join(top, l)], {
      env: { ...process.env, HAWSER_CODE_CACHE: 'prepare' },
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 120_000,
    });
    if (!existsSync(join(top, caches[i]))) throw new Error(`${l} wrote no code cache: rebuild dist/ (node build.mjs)`);
  }
  return caches;
}

export function buildRelease(o: { sourceDir: string; outDir: string; stageDir: string }): Release {
  const src = resolve(o.sourceDir);
  const version = (JSON.parse(readFileSync(join(src, 'package.json'), 'utf8')) as { version: string }).version;
  const b = readBuild(src);
  if (!b.kubectlBinary) throw new Error(`no kubectl in ${src}/.build/bin: make kubectl`);
  const name = `${RELEASE_PREFIX}${version}`;
  const top = join(o.stageDir, name);
  rmSync(top, { recursive: true, force: true });
  const put = (rel: string, from: string) => {
    mkdirSync(dirname(join(top, rel)), { recursive: true });
    copyFileSync(from, join(top, rel));
    chmodSync(join(top, rel), statSync(from).mode & 0o777);
  };
  for (const f of b.files) put(f, join(src, f));
  put('bin/node', b.nodeBinary);
  put('bin/kubectl', b.kubectlBinary);
  const caches = prepareCodeCaches(top, b.files);
  // written last (newer than every file it lists): `hawser install` takes its hashes instead of
  // hashing the files again, and a user can check the unpacked release with `sha256sum -c`
  const listed = [...new Set([...b.files, ...caches])].sort().concat(['bin/node', 'bin/kubectl']);
  writeFileSync(
    join(top, SUMS_FILE),
    listed
      .map(
        (f) =>
          `${createHash('sha256')
            .update(readFileSync(join(top, f)))
            .digest('hex')}  ${f}\n`,
      )
      .join(''),
  );
  writeFileSync(join(top, 'VERSION'), `${version}\n`);
  writeFileSync(
    join(top, 'README'),
    [
      `hawser ${version} for linux-amd64: Node.js runtime, kubectl, bundles and systemd units.`,
      'Needs a Debian/Ubuntu host with systemd (>= 249); agents also need containerd and runc (apt-get install containerd runc).',
      '  server: sudo hawser-<version>/bin/node hawser-<version>/dist/hawser.cjs install --role server',
      '          then: sudo hawser token create; sudo hawser kubectl get nodes (admin kubeconfig: /etc/hawser/admin.kubeconfig)',
      '  agent:  sudo hawser-<version>/bin/node hawser-<version>/dist/hawser.cjs join --server https://<server>:6443 --token <token>',
      '          (run from the unpacked directory, hawser installs that directory; --from <tarball or dir> installs another)',
      '',
    ].join('\n'),
  );
  mkdirSync(o.outDir, { recursive: true });
  const file = join(resolve(o.outDir), `${name}-linux-amd64.tar.gz`);
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-C', o.stageDir, '-czf', `${file}.tmp`, name]);
  execFileSync('mv', ['-f', `${file}.tmp`, file]);
  rmSync(top, { recursive: true, force: true });
  return { file, bytes: statSync(file).size, version };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const t0 = Date.now();
  const r = buildRelease({ sourceDir: repo, outDir: resolve(process.argv[2] ?? join(repo, 'dist/release')), stageDir: join(repo, '.build/release') });
  process.stdout.write(`${r.file}: ${(r.bytes / 1048576).toFixed(1)} MiB (built in ${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
}
