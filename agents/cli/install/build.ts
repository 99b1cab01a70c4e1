// What an install copies, from one of three sources with the same layout: the project's own build
// (dist/, node_modules, systemd/, .build/bin/kubectl), a release tarball from `make dist` (the same
// plus bin/node and bin/kubectl, unpacked to a temp dir first), or an installed copy in
// /usr/local/lib/hawser, so that `hawser install` also reruns from what it installed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { BuildInfo } from './plan.ts';
import { runtimeModuleFiles, walkFiles } from './runtime-modules.ts';

/** The source dir of a running bundle (<src>/dist/hawser.cjs), or undefined when run from sources. */
export function sourceOfBundle(argv1 = process.argv[1] ?? ''): string | undefined {
  const bundle = resolve(argv1);
  return basename(bundle) === 'hawser.cjs' && basename(dirname(bundle)) === 'dist' ? dirname(dirname(bundle)) : undefined;
}

/** systemd's version on this host ("systemd 252 (252.39-1)" -> 252), when systemctl exists. */
export function localSystemdVersion(): number | undefined {
  try {
    const m = /^systemd (\d+)/.exec(execFileSync('systemctl', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const firstExisting = (...paths: string[]): string | undefined => {
  const p = paths.find((f) => existsSync(f));
  return p && realpathSync(p);
};

/** A release's checksums, in sha256sum's format (`sha256sum -c SHA256SUMS` in the unpacked release checks them). */
export const SUMS_FILE = 'SHA256SUMS';

/**
 * The hashes of a release's SHA256SUMS by path (as given and real), so that an install copies
 * without reading node's 99 MB and kubectl's 59 MB to hash them. A file changed since the sums
 * were written (newer than SHA256SUMS) is left out: the install hashes it itself.
 */
function readSums(src: string): Record<string, string> | undefined {
  const file = join(src, SUMS_FILE);
  if (!existsSync(file)) return undefined;
  const written = statSync(file).mtimeMs;
  const sums: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    const p = m && join(src, m[2]);
    if (!m || !p || !existsSync(p) || statSync(p).mtimeMs > written) continue;
    sums[p] = m[1];
    sums[realpathSync(p)] = m[1];
  }
  return sums;
}

export function readBuild(sourceDir: string, o: { nodeBinary?: string; systemdVersion?: number } = {}): BuildInfo {
  const src = resolve(sourceDir);
  const rel = (p: string) => relative(src, p);
  if (!existsSync(join(src, 'dist/hawser.cjs'))) throw new Error(`${src}/dist/hawser.cjs is missing: build first (make build)`);
  // the bundles, their loaders and the loaders' V8 code caches (agents/cli/code-cache)
  const dist = walkFiles(join(src, 'dist'))
    .filter((f) => f.endsWith('.cjs') || f.endsWith('.cjs.codecache'))
    .map(rel);
  const modules = runtimeModuleFiles(src);
  const unitFiles = walkFiles(join(src, 'systemd'));
  if (!unitFiles.length) throw new Error(`${src}/systemd has no unit files`);
  const units = Object.fromEntries(unitFiles.map((f) => [relative(join(src, 'systemd'), f), readFileSync(f, 'utf8')]));
  return {
    sourceDir: src,
    files: [...dist, ...modules, ...unitFiles.map(rel)].sort(),
    units,
    // a release (or an installed copy) brings its own runtime; a dev build runs under this node
    nodeBinary: o.nodeBinary ?? firstExisting(join(src, 'bin/node')) ?? process.execPath,
    kubectlBinary: firstExisting(join(src, 'bin/kubectl'), join(src, '.build/bin/kubectl')),
    systemdVersion: o.systemdVersion ?? localSystemdVersion(),
    sums: readSums(src),
  };
}

/** A release tarball's top directory name: hawser-<version>. */
export const RELEASE_PREFIX = 'hawser-';

/**
 * The install source named by --from: a directory as is, or a release tarball unpacked into a
 * temp dir (removed by `done`). Uses the host's tar and gzip, which every Debian/Ubuntu host has.
 */
export function openSource(from: string): { dir: string; done: () => void } {
  const p = resolve(from);
  if (!existsSync(p)) throw new Error(`--from ${from}: no such file or directory`);
  if (statSync(p).isDirectory()) return { dir: p, done: () => {} };
  const tmp = mkdtempSync(join(tmpdir(), 'hawser-release-'));
  const done = () => rmSync(tmp, { recursive: true, force: true });
  try {
    execFileSync('tar', ['-xzf', p, '-C', tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
    const tops = readdirSync(tmp).filter((d) => d.startsWith(RELEASE_PREFIX));
    if (tops.length !== 1) throw new Error(`${from} is not a hawser release: expected one ${RELEASE_PREFIX}<version>/ directory inside`);
    return { dir: join(tmp, tops[0]), done };
  } catch (e) {
    done();
    throw e;
  }
}
