// Runs a CommonJS bundle the way Node's own loader would, but compiled with V8's code cache from
// the file beside it (cache-file.ts), so that a start skips parsing and compiling the 7 MB bundle
// and the functions its start-up runs. Node 20 has no NODE_COMPILE_CACHE (Node 22), hence
// vm.Script's cachedData. A missing or rejected cache is made after the start-up has run (the
// functions it compiled are then in it) and written where the directory is writable; a cache that
// cannot be read or written is ignored, never fatal. HAWSER_CODE_CACHE=off runs without (A/B);
// HAWSER_CODE_CACHE=prepare only compiles and writes the cache, running nothing (the release build
// makes each bundle's cache so, with the release's own node: release/build.ts).
// No import() of an external: on Node 20 a script run from a code cache loses its dynamic import
// callback ("A dynamic import callback was not specified"), so build.mjs refuses such a bundle.
// Measured: bench/code-cache.ts.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';
import vm from 'node:vm';
import { cacheKey, cachePath, decodeCache, encodeCache } from './cache-file.ts';

/** How long a long-running process runs before its cache is written (a short one writes at exit). */
const WRITE_AFTER_MS = 10_000;

export type CacheState = 'off' | 'used' | 'missing' | 'rejected' | 'prepared';

function readCache(file: string, key: string): Buffer | undefined {
  try {
    return decodeCache(readFileSync(file), key);
  } catch {
    return undefined;
  }
}

/** Writes through a temp file and a rename, so that concurrent starts never read half a cache. */
export function writeCache(file: string, key: string, data: Buffer): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, encodeCache(key, data), { mode: 0o644 });
    renameSync(tmp, file);
    return true;
  } catch {
    rmSync(tmp, { force: true });
    return false;
  }
}

/** Compiles and runs the bundle as the module `parent` would require; returns what became of the cache. */
export function loadBundle(bundlePath: string, parent?: Module): CacheState {
  const bytes = readFileSync(bundlePath);
  const mode = process.env.HAWSER_CODE_CACHE;
  const off = mode === 'off';
  const key = off ? '' : cacheKey(bytes);
  const cacheFile = cachePath(bundlePath);
  const cached = off ? undefined : readCache(cacheFile, key);
  let body = bytes.toString('utf8');
  // a shebang is valid only at the very start of a script: keep the line, as a comment
  if (body.startsWith('#!')) body = `//${body.slice(2)}`;
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${body}\n})`, {
    filename: bundlePath,
    cachedData: cached,
  });
  if (mode === 'prepare') {
    if (!writeCache(cacheFile, key, script.createCachedData())) throw new Error(`cannot write ${cacheFile}`);
    return 'prepared';
  }
  const state: CacheState = off ? 'off' : !cached ? 'missing' : script.cachedDataRejected ? 'rejected' : 'used';
  if (state === 'missing' || state === 'rejected') {
    let written = false;
    const write = () => {
      if (written) return;
      written = true;
      writeCache(cacheFile, key, script.createCachedData());
    };
    process.once('exit', write);
    setTimeout(write, WRITE_AFTER_MS).unref();
  }
  const m = new Module(bundlePath, parent);
  m.filename = bundlePath;
  const fn = script.runInThisContext() as (e: unknown, r: NodeJS.Require, m: Module, f: string, d: string) => void;
  fn.call(m.exports, m.exports, createRequire(bundlePath), m, bundlePath, dirname(bundlePath));
  m.loaded = true;
  return state;
}
