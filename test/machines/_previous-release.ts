// The previous release artifact, for the upgrade test: built from a fixed earlier commit of this
// repository (one with the same release layout: release/build.ts, `hawser install --from`), from
// `git archive` into a temporary directory that borrows this worktree's node_modules (only when
// that commit's lockfile is this one's: a different lockfile would need its own install) and its
// .build/bin (kubectl). Cached as .build/release-prev-<sha>/, so it is built once per clone.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The release before this round's (systemd Type=exec units, no READY notifications): session 5's
 * main plus its first commit of session 6, the one that changed the lockfile (systeminformation
 * dropped), so that its node_modules are this worktree's. When the lockfile changes again, move
 * this to the last commit before that change, or give the build its own `npm ci`.
 */
export const PREVIOUS_RELEASE_COMMIT = '531152a7678da5477c1ac2d9cc2000b19e928d8b';

const git = (repo: string, args: string[]): string => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });

export function previousRelease(repo: string, commit = PREVIOUS_RELEASE_COMMIT, log: (l: string) => void = () => {}): string {
  const sha = git(repo, ['rev-parse', '--verify', `${commit}^{commit}`]).trim();
  const outDir = join(repo, '.build', `release-prev-${sha.slice(0, 12)}`);
  const cached = existsSync(outDir) ? readdirSync(outDir).find((f) => f.endsWith('.tar.gz')) : undefined;
  if (cached) return join(outDir, cached);
  const lock = git(repo, ['show', `${sha}:package-lock.json`]);
  if (lock !== readFileSync(join(repo, 'package-lock.json'), 'utf8')) {
    throw new Error(`${sha.slice(0, 12)}'s package-lock.json differs from this worktree's: its node_modules cannot be borrowed`);
  }
  const src = mkdtempSync(join(tmpdir(), 'hawser-prev-'));
  try {
    log(`building the previous release from ${sha.slice(0, 12)} in ${src}`);
    execFileSync('sh', ['-c', `git -C "$1" archive "$2" | tar -x -C "$3"`, 'sh', repo, sha, src]);
    symlinkSync(join(repo, 'node_modules'), join(src, 'node_modules'));
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
