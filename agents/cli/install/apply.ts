// Applies a plan under a root directory and keeps the manifest of what it wrote, so that a rerun
// changes nothing when nothing differs and `hawser uninstall` removes exactly what was added.
// A file hawser did not write is never overwritten in place: it is kept as <path>.hawser-orig and
// put back by uninstall. Every write is a rename of a finished temp file.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { InstallSettings } from './configs.ts';
import { LAYOUT } from './layout.ts';
import type { Group, PlanEntry } from './plan.ts';
import { cachePath } from '../code-cache/cache-file.ts';

export interface ManifestFile {
  path: string;
  group: Group;
  sha256: string;
  mode: number;
  backup?: string;
  /** size, mtime, ctime and inode when written or last found intact: a rerun that sees them all unchanged does not hash the file again (as git's index) */
  stat?: string;
}

export interface Manifest {
  version: 1;
  settings: InstallSettings;
  files: ManifestFile[];
  /** directories the install created (removed by uninstall when empty) */
  dirs: string[];
  /** Debian packages: installed by hawser (removed by uninstall), planned (a --root install records them only) */
  packages: { installed: string[]; planned: string[] };
  units: string[];
  /** directories the node agents create at run time that did not exist before the first install (--purge removes them) */
  runtimeDirsAbsent?: string[];
}

export type Action = 'created' | 'updated' | 'removed' | 'restored' | 'kept-original';
export interface Change {
  path: string;
  action: Action;
}

export const under = (root: string, p: string) => (root === '/' ? p : join(root, p));

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function fileSha(p: string): string | undefined {
  try {
    return lstatSync(p).isFile() ? sha256(readFileSync(p)) : undefined;
  } catch {
    return undefined;
  }
}

function modeOf(p: string): number {
  return statSync(p).mode & 0o7777;
}

/**
 * What a file's inode says about its content, or undefined when it is not a regular file. ctime
 * moves on every write, chmod and rename and cannot be set back, so a file edited in place and
 * touched back to its old mtime still differs here. Measured: a rerun of `hawser join` in the VM
 * test's emulated guest spent about 6 s hashing 1,369 unchanged files (node and kubectl are 160 MB).
 */
function statKey(p: string): string | undefined {
  try {
    const st = lstatSync(p, { bigint: true });
    return st.isFile() ? `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}` : undefined;
  } catch {
    return undefined;
  }
}

/** Creates the missing parents of a host path, recording each one it made. */
function ensureParents(root: string, path: string, made: Set<string>): void {
  const missing: string[] = [];
  for (let d = dirname(path); d !== '/' && !existsSync(under(root, d)); d = dirname(d)) missing.unshift(d);
  for (const d of missing) {
    mkdirSync(under(root, d), { mode: 0o755 });
    made.add(d);
  }
}

/** Writes data, or copies a file (in the kernel: node's 99 MB and kubectl's 59 MB never pass through us). */
function writeAtomic(dest: string, data: Buffer | string | { copyFrom: string }, mode: number): void {
  const tmp = `${dest}.hawser-tmp`;
  if (typeof data === 'object' && 'copyFrom' in data) copyFileSync(data.copyFrom, tmp);
  else writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode); // umask would otherwise trim it
  renameSync(tmp, dest);
}

export interface ApplyResult {
  changes: Change[];
  unchanged: number;
  files: ManifestFile[];
  dirs: string[];
}

/**
 * Brings the files of `groups` under `root` to `entries`. Files of those groups in the old manifest
 * that the plan no longer has are removed (their originals restored); other groups are carried over.
 */
export function applyPlan(root: string, entries: PlanEntry[], old: Manifest | undefined, groups: Group[]): ApplyResult {
  const changes: Change[] = [];
  let unchanged = 0;
  const made = new Set(old?.dirs ?? []);
  ensureParents(root, LAYOUT.manifest, made); // the manifest's own directory is ours too
  const prev = new Map((old?.files ?? []).map((f) => [f.path, f]));
  const files: ManifestFile[] = [];
  for (const e of entries) {
    const dest = under(root, e.path);
    // a release's SHA256SUMS names a copied file's hash; a bare install then reads no big file at all
    const data = 'text' in e ? Buffer.from(e.text) : { copyFrom: e.copyFrom };
    const want = 'text' in e ? sha256(e.text) : (e.sha256 ?? sha256(readFileSync(e.copyFrom)));
    const mine = prev.get(e.path);
    let backup = mine?.backup;
    const st = mine?.stat && mine.sha256 === want && mine.mode === e.mode ? statKey(dest) : undefined;
    if (st && st === mine?.stat) {
      unchanged++;
    } else if (fileSha(dest) === want && modeOf(dest) === e.mode) {
      unchanged++;
    } else {
      ensureParents(root, e.path, made);
      const exists = existsSync(dest) || isSymlink(dest);
      if (exists && !mine) {
        backup = `${e.path}.hawser-orig`;
        renameSync(dest, under(root, backup));
        changes.push({ path: e.path, action: 'kept-original' });
      }
      writeAtomic(dest, data, e.mode);
      changes.push({ path: e.path, action: exists && mine ? 'updated' : 'created' });
    }
    const stat = statKey(dest);
    files.push({ path: e.path, group: e.group, sha256: want, mode: e.mode, ...(backup ? { backup } : {}), ...(stat ? { stat } : {}) });
  }
  const planned = new Set(entries.map((e) => e.path));
  for (const f of old?.files ?? []) {
    if (planned.has(f.path)) continue;
    if (!groups.includes(f.group)) {
      files.push(f);
      continue;
    }
    changes.push(...removeFile(root, f));
  }
  files.sort((a, b) => a.path.localeCompare(b.path));
  return { changes, unchanged, files, dirs: [...made].sort() };
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Removes one file hawser wrote, putting back the original it replaced. */
export function removeFile(root: string, f: ManifestFile): Change[] {
  const out: Change[] = [];
  const dest = under(root, f.path);
  if (existsSync(dest) || isSymlink(dest)) {
    rmSync(dest, { force: true });
    out.push({ path: f.path, action: 'removed' });
  }
  // a bundle's V8 code cache is written beside it at run time when the install brought none (code-cache/)
  if (f.path.endsWith('.bundle.cjs')) rmSync(under(root, cachePath(f.path)), { force: true });
  if (f.backup && existsSync(under(root, f.backup))) {
    renameSync(under(root, f.backup), dest);
    out.push({ path: f.path, action: 'restored' });
  }
  return out;
}

/** Removes the directories the install made, deepest first, when nothing else is left in them. */
export function removeDirs(root: string, dirs: string[]): string[] {
  const gone: string[] = [];
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(under(root, d));
      gone.push(d);
    } catch {
      /* not empty or gone: keep */
    }
  }
  return gone;
}

export const manifestPath = (root: string): string => under(root, LAYOUT.manifest);

export function readManifest(root: string): Manifest | undefined {
  const p = manifestPath(root);
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as Manifest) : undefined;
}

export function renderManifest(m: Manifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

/** Writes the manifest when its content changed; true when it did. */
export function writeManifest(root: string, m: Manifest): boolean {
  const p = manifestPath(root);
  const text = renderManifest(m);
  if (existsSync(p) && readFileSync(p, 'utf8') === text) return false;
  mkdirSync(dirname(p), { recursive: true });
  writeAtomic(p, text, 0o600);
  return true;
}
