// The previous release artifact, for the upgrade test: built from a fixed earlier commit of this
// repository (one with the same release layout: release/build.ts, `hawser install --from`), from
// `git archive` into a temporary directory that borrows this worktree's node_modules (when every
// package that commit's lockfile installs is here at the same version; else it runs its own
// `npm ci`) and its .build/bin (kubectl). Cached as .build/release-prev-<sha>/, so it is built once per clone.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The release before this round's (systemd Type=exec units, no READY notifications): session 5's
 * main plus its first commit of session 6, the one that changed the lockfile (systeminformation
 * dropped). Packages added since (@bufbuild/cel) do not stop it borrowing this worktree's.
 */
export const PREVIOUS_RELEASE_COMMIT = '531152a7678da5477c1ac2d9cc2000b19e928d8b';

type Lock = { packages?: Record<string, { version?: string }> };

/**
 * Can the old commit's build use this worktree's node_modules? Yes when every package its lockfile
 * installs is here at the same version (packages added since, such as @bufbuild/cel, are unused by
 * the old code); else it needs its own install.
 */
export function borrowable(oldLock: string, newLock: string): boolean {
  const have = (JSON.parse(newLock) as Lock).packages ?? {};
  return Object.entries((JSON.parse(oldLock) as Lock).packages ?? {}).every(([path, p]) => path === '' || have[path]?.version === p.version);
}

const git = (repo: string, args: string[]): string => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });

export function previousRelease(repo: string, commit = PREVIOUS_RELEASE_COMMIT, log: (l: string) => void = () => {}): string {
  const sha = git(repo, ['rev-parse', '--verify', `${commit}^{commit}`]).trim();
  const outDir = join(repo, '.build', `release-prev-${sha.slice(0, 12)}`);
  const cached = existsSync(outDir) ? readdirSync(outDir).find((f) => f.endsWith('.tar.gz')) : undefined;
  if (cached) return join(outDir, cached);
  const borrow = borrowable(git(repo, ['show', `${sha}:package-lock.json`]), readFileSync(join(repo, 'package-lock.json'), 'utf8'));
  const src = mkdtempSync(join(tmpdir(), 'hawser-prev-'));
  try {
    log(`building the previous release from ${sha.slice(0, 12)} in ${src}${borrow ? '' : " (its own npm ci: its packages differ from this worktree's)"}`);
    execFileSync('sh', ['-c', `git -C "$1" archive "$2" | tar -x -C "$3"`, 'sh', repo, sha, src]);
    if (borrow) symlinkSync(join(repo, 'node_modules'), join(src, 'node_modules'));
    else execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: src, stdio: ['ignore', 'pipe', 'pipe'], timeout: 900_000 });
    mkdirSync(join(src, '.build'));
    symlinkSync(join(repo, '.build/bin'), join(src, '.build/bin'));
    const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: src, stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
    run(['build.mjs']);
    mkdirSync(outDir, { recursive: true });
    run(['--import=tsx', 'release/build.ts', outDir]);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
  const built = readdirSync(outDir).find((f) => f.endsWith('.tar.gz'));
  if (!built) throw new Error(`the previous release build left no tarball in ${outDir}`);
  return join(outDir, built);
}
