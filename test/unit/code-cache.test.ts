// The bundle loader's V8 code cache (agents/cli/code-cache): a start without a cache writes one, the
// next start uses it, and a cache made for another bundle (even one of the same length, which V8's
// own check lets through), another Node or a damaged file is not used and never fatal. Each start is
// a real Node process, as the cache is written at its exit.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheKey, cachePath, decodeCache, encodeCache } from '../../agents/cli/code-cache/cache-file.ts';

const LOAD = new URL('../../agents/cli/code-cache/load.ts', import.meta.url).pathname;

/** Runs the bundle through loadBundle in a new process; its stdout, then the cache state on the last line. */
function start(bundle: string, env: Record<string, string> = {}): { out: string; state: string } {
  const out = execFileSync(
    process.execPath,
    ['--import=tsx', '-e', `import(${JSON.stringify(LOAD)}).then((m) => { const s = m.loadBundle(process.argv[1]); console.log(s); })`, bundle],
    { encoding: 'utf8', env: { ...process.env, ...env } },
  ).trim();
  const lines = out.split('\n');
  return { out: lines.slice(0, -1).join('\n'), state: lines.at(-1) ?? '' };
}

/** Runs fn with a fresh temp dir, removed afterwards also when an assertion throws. */
function inTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-code-cache-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const bundleWith = (dir: string, text: string): string => {
  const f = join(dir, 'b.bundle.cjs');
  writeFileSync(
    f,
    `#!/usr/bin/env node\n"use strict";\nconsole.log(${JSON.stringify(text)}, typeof require('node:path').join, __filename.endsWith('b.bundle.cjs'), module.exports === exports);\n`,
  );
  return f;
};

test('the first start writes the cache, the next uses it; the bundle runs as a CommonJS module either way', (t) => {
  inTempDir((dir) => {
    const b = bundleWith(dir, 'aaaa');
    const first = start(b);
    t.is(first.out, 'aaaa function true true');
    t.is(first.state, 'missing');
    t.true(existsSync(cachePath(b)));
    const second = start(b);
    t.is(second.out, 'aaaa function true true');
    t.is(second.state, 'used');
    t.is(start(b, { HAWSER_CODE_CACHE: 'off' }).state, 'off');
  });
});

test("a cache made for another bundle of the same length is not used: the new bundle's code runs", (t) => {
  inTempDir((dir) => {
    const b = bundleWith(dir, 'aaaa');
    start(b);
    bundleWith(dir, 'bbbb');
    const r = start(b);
    t.is(r.out, 'bbbb function true true');
    t.is(r.state, 'missing');
    t.is(start(b).state, 'used', 'rewritten for the new bundle');
  });
});

test('a damaged cache or one from another Node is never fatal', (t) => {
  inTempDir((dir) => {
    const b = bundleWith(dir, 'cccc');
    const bytes = readFileSync(b);
    writeFileSync(cachePath(b), encodeCache(cacheKey(bytes), Buffer.from('not V8 data at all')));
    const damaged = start(b);
    t.is(damaged.out, 'cccc function true true');
    t.is(damaged.state, 'rejected');
    t.is(start(b).state, 'used', 'replaced by a good one');
    writeFileSync(cachePath(b), encodeCache(cacheKey(bytes, 'v0.0.1'), Buffer.from('x')));
    t.is(start(b).state, 'missing');
  });
});

test('the cache file: the key line must match exactly, and carries the data after it', (t) => {
  const key = cacheKey(Buffer.from('x'), 'v20.20.2', 'x64');
  t.regex(key, /^hawser-code-cache 1 v20\.20\.2 x64 [0-9a-f]{64}$/);
  const data = Buffer.from([0, 1, 2, 10, 255]);
  t.deepEqual(decodeCache(encodeCache(key, data), key), data);
  t.is(decodeCache(encodeCache(key, data), cacheKey(Buffer.from('y'), 'v20.20.2', 'x64')), undefined);
  t.is(decodeCache(Buffer.from('garbage without a newline'), key), undefined);
  t.is(decodeCache(encodeCache(key, Buffer.alloc(0)), key), undefined);
});

test('writeCache reports a write into a directory that does not exist, and leaves no temp file', async (t) => {
  const { writeCache } = await import('../../agents/cli/code-cache/load.ts');
  t.false(writeCache('/nonexistent-hawser-dir/x.codecache', 'k', Buffer.from('d')));
});
