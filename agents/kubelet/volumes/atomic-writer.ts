// Writes a volume payload so that readers never see half of an update, in upstream's layout:
//   <dir>/..2026_01_02_03_04_05.123456789/<files>   the current generation
//   <dir>/..data -> ..2026_...                      swapped with one rename(2)
//   <dir>/<top-level name> -> ..data/<name>         stable names the container opens
// A container that bind-mounted <dir> sees every update; a subPath mount of one file does not,
// as upstream documents.
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { checkRelative, type Payload } from './payload.ts';

const DATA = '..data';
const DATA_TMP = '..data_tmp';

function stamp(d = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const ns = `${p(d.getUTCMilliseconds(), 3)}${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
  return `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.${ns}`;
}

/** Does the current generation already hold exactly this payload (bytes and modes)? */
function unchanged(dir: string, payload: Payload, fsGroup?: number): boolean {
  const data = join(dir, DATA);
  if (!existsSync(data)) return false;
  const current = new Set<string>();
  const walk = (rel: string) => {
    for (const e of readdirSync(join(data, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else current.add(r);
    }
  };
  walk('');
  if (current.size !== payload.size) return false;
  for (const [path, f] of payload) {
    if (!current.has(path)) return false;
    const file = join(data, path);
    const st = statSync(file);
    if ((st.mode & 0o7777) !== fileMode(f.mode, fsGroup) || (fsGroup !== undefined && st.gid !== fsGroup)) return false;
    if (!readFileSync(file).equals(f.data)) return false;
  }
  return true;
}

const fileMode = (mode: number, fsGroup?: number) => (fsGroup !== undefined ? mode | 0o040 : mode) & 0o7777;

/** Brings `dir` to hold `payload`; returns false when nothing had to change. */
export function writePayload(dir: string, payload: Payload, fsGroup?: number): boolean {
  for (const p of payload.keys()) checkRelative(p);
  mkdirSync(dir, { recursive: true });
  if (unchanged(dir, payload, fsGroup)) return false;
  const gen = stamp();
  const genDir = join(dir, gen);
  mkdirSync(genDir, { mode: 0o755 });
  for (const [path, f] of payload) {
    const file = join(genDir, path);
    mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
    writeFileSync(file, f.data);
    if (fsGroup !== undefined) chownSync(file, 0, fsGroup);
    chmodSync(file, fileMode(f.mode, fsGroup));
  }
  chmodSync(genDir, 0o755);
  const old = existsSync(join(dir, DATA)) ? readlinkSync(join(dir, DATA)) : undefined;
  rmSync(join(dir, DATA_TMP), { force: true });
  symlinkSync(gen, join(dir, DATA_TMP));
  renameSync(join(dir, DATA_TMP), join(dir, DATA));
  // user-visible names: one symlink per top-level entry of the payload
  const top = new Set([...payload.keys()].map((p) => p.split('/')[0]));
  for (const name of top) {
    const link = join(dir, name);
    let ok = false;
    try {
      ok = lstatSync(link).isSymbolicLink() && readlinkSync(link) === join(DATA, name);
    } catch {
      /* absent */
    }
    if (!ok) {
      rmSync(link, { recursive: true, force: true });
      symlinkSync(join(DATA, name), link);
    }
  }
  for (const e of readdirSync(dir)) {
    if (e.startsWith('..')) {
      if (e !== DATA && e !== gen && e.startsWith('..2')) rmSync(join(dir, e), { recursive: true, force: true });
      continue;
    }
    if (!top.has(e)) rmSync(join(dir, e), { recursive: true, force: true });
  }
  if (old && old !== gen) rmSync(join(dir, old), { recursive: true, force: true });
  return true;
}
