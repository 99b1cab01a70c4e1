// The node_modules files an installed hawser loads at run time: the packages the bundle leaves
// external (build.mjs). better-sqlite3 ships only its runtime parts (not its C sources or build
// tooling); etcd3 reads its .proto files from its package dir, so it ships whole with every package
// it depends on, resolved the way Node resolves them (nested node_modules first).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { RUNTIME_MODULES, WHOLE_RUNTIME_PACKAGES } from './layout.ts';

export function walkFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? walkFiles(p) : e.isFile() ? [p] : [];
  });
}

/** Node's lookup of `name` from a package dir: its own node_modules, then each parent's. */
function resolvePackage(fromDir: string, name: string, top: string): string | undefined {
  for (let d = fromDir; d.startsWith(top); d = dirname(d)) {
    const p = join(d, 'node_modules', name);
    if (existsSync(join(p, 'package.json'))) return p;
    if (d === top) break;
  }
  return undefined;
}

interface PackageJson {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** Package dirs of `roots` and of everything they depend on (type-only @types/* left out). */
export function packageClosure(sourceDir: string, roots: string[]): string[] {
  const found = new Set<string>();
  const queue = roots.map((r) => ({ from: sourceDir, name: r, required: true }));
  for (let i = 0; i < queue.length && i < 10_000; i++) {
    const { from, name, required } = queue[i];
    if (name.startsWith('@types/')) continue;
    const dir = resolvePackage(from, name, sourceDir);
    if (!dir) {
      if (required) throw new Error(`${name} is missing from ${sourceDir}/node_modules (needed at run time): make build`);
      continue;
    }
    if (found.has(dir)) continue;
    found.add(dir);
    const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
    for (const d of Object.keys(pj.dependencies ?? {})) queue.push({ from: dir, name: d, required: true });
    for (const d of Object.keys(pj.optionalDependencies ?? {})) queue.push({ from: dir, name: d, required: false });
  }
  return [...found].sort();
}

/** Every runtime module file, relative to sourceDir (node_modules/...). */
export function runtimeModuleFiles(sourceDir: string): string[] {
  const files: string[] = [];
  for (const [mod, parts] of Object.entries(RUNTIME_MODULES)) {
    for (const part of parts) {
      const p = join(sourceDir, 'node_modules', mod, part);
      if (!existsSync(p)) {
        if (part.startsWith('LICENSE')) continue;
        throw new Error(`${p} is missing: the build needs node_modules with ${mod} built (make build)`);
      }
      files.push(...(statSync(p).isDirectory() ? walkFiles(p) : [p]));
    }
  }
  for (const dir of packageClosure(sourceDir, WHOLE_RUNTIME_PACKAGES)) {
    // a nested package is listed by its own entry in the closure; skip it here
    files.push(...walkFiles(dir).filter((f) => !relative(dir, f).includes('node_modules/')));
  }
  return [...new Set(files.map((f) => relative(sourceDir, f)))].sort();
}
