// What the bundle loader's V8 code cache (agents/cli/code-cache) saves per start of `hawser`: the
// bundle run directly by Node (as before the loader) against the loader with its cache, and the
// loader with HAWSER_CODE_CACHE=off (its own overhead), interleaved in one run so that the host's
// load falls on all three alike. Wall time and the process's CPU (user + system, from wait4).
// `node build.mjs && node --import=tsx bench/code-cache.ts [runs] [-- hawser args]`; prints
// RESULT hawser-start-ms direct=<p50> cached=<p50> ratio=<r> and the CPU figures, with the load.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleOf, cachePath } from '../agents/cli/code-cache/cache-file.ts';

const REPO = new URL('..', import.meta.url).pathname;
const LOADER = join(REPO, 'dist/hawser.cjs');
const BUNDLE = bundleOf(LOADER);
const RUNS = Number(process.argv[2] ?? 15);
const dash = process.argv.indexOf('--');
const ARGS = dash > 0 ? process.argv.slice(dash + 1) : ['--version'];

if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: node build.mjs`);

/** One start under /usr/bin/time: wall ms and CPU ms (user + system). */
function once(file: string, env: Record<string, string> = {}): { wall: number; cpu: number } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', process.execPath, file, ...ARGS], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const [e, u, s] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall: e * 1000, cpu: (u + s) * 1000 };
}

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];

// the first start through the loader writes the cache where it is missing
once(LOADER);
if (!existsSync(cachePath(BUNDLE))) throw new Error(`no ${cachePath(BUNDLE)} after a start: dist/ not writable?`);
const kinds = { direct: () => once(BUNDLE), cached: () => once(LOADER), 'loader-off': () => once(LOADER, { HAWSER_CODE_CACHE: 'off' }) };
const seen: Record<string, { wall: number[]; cpu: number[] }> = {};
const loadBefore = load();
for (let i = 0; i < RUNS; i++)
  for (const [k, f] of i % 2 ? Object.entries(kinds).reverse() : Object.entries(kinds)) {
    const r = f();
    seen[k] ??= { wall: [], cpu: [] };
    seen[k].wall.push(r.wall);
    seen[k].cpu.push(r.cpu);
  }
console.log(`hawser ${ARGS.join(' ')}: ${RUNS} starts of each, interleaved; load ${loadBefore} -> ${load()}`);
for (const [k, v] of Object.entries(seen))
  console.log(`${k.padEnd(11)} wall p50 ${p50(v.wall).toFixed(0).padStart(5)} ms   cpu p50 ${p50(v.cpu).toFixed(0).padStart(5)} ms`);
const [d, c] = [seen.direct, seen.cached];
console.log(`RESULT hawser-start-ms direct=${p50(d.wall).toFixed(0)} cached=${p50(c.wall).toFixed(0)} ratio=${(p50(c.wall) / p50(d.wall)).toFixed(2)}`);
console.log(`RESULT hawser-start-cpu-ms direct=${p50(d.cpu).toFixed(0)} cached=${p50(c.cpu).toFixed(0)} ratio=${(p50(c.cpu) / p50(d.cpu)).toFixed(2)}`);
