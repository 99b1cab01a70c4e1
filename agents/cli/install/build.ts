// The project's own build as an install source: the bundles in dist/, the few node_modules files
// the bundle loads at run time, and the unit files in systemd/. The same layout is what an install
// leaves in /usr/local/lib/hawser, so `hawser install` also works from an installed copy.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { RUNTIME_MODULES } from './layout.ts';
import type { BuildInfo } from './plan.ts';

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.isFile() ? [p] : [];
  });
}

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
  } catch { return undefined; }
}

export function readBuild(sourceDir: string, o: { nodeBinary?: string; systemdVersion?: number } = {}): BuildInfo {
  const src = resolve(sourceDir);
  const rel = (p: string) => relative(src, p);
  if (!existsSync(join(src, 'dist/hawser.cjs'))) throw new Error(`${src}/dist/hawser.cjs is missing: build first (make build)`);
  const dist = walk(join(src, 'dist')).filter((f) => f.endsWith('.cjs')).map(rel);
  const modules: string[] = [];
  for (const [mod, parts] of Object.entries(RUNTIME_MODULES)) {
    for (const part of parts) {
      const p = join(src, 'node_modules', mod, part);
      if (!existsSync(p)) {
        if (part.startsWith('LICENSE')) continue;
        throw new Error(`${p} is missing: the build needs node_modules with ${mod} built (make build)`);
      }
      modules.push(...(statSync(p).isDirectory() ? walk(p) : [p]).map(rel));
    }
  }
  const unitFiles = walk(join(src, 'systemd'));
  if (!unitFiles.length) throw new Error(`${src}/systemd has no unit files`);
  const units = Object.fromEntries(unitFiles.map((f) => [relative(join(src, 'systemd'), f), readFileSync(f, 'utf8')]));
  return {
    sourceDir: src,
    files: [...dist, ...modules, ...unitFiles.map(rel)].sort(),
    units,
    nodeBinary: o.nodeBinary ?? process.execPath,
    systemdVersion: o.systemdVersion ?? localSystemdVersion(),
  };
}
