// Which e2e files make up the suite and what tests they declare, read from their source: the
// suite is every test/e2e file named after a SIG area, and a test's title carries its SIG
// ("[sig-network] ...") and whether it is an upstream [Conformance] test. Declared titles are
// read statically so that a test that never reports (its file's before hook failed, its worker
// crashed) still gets a failing row instead of silently vanishing.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** File-name prefix -> SIG, for files whose tests do not name their SIG themselves. */
const FILE_SIGS: [RegExp, string][] = [
  [/^network-/, 'sig-network'],
  [/^dns[-.]/, 'sig-network'],
  [/^cli-/, 'sig-cli'],
  [/^api-machinery-/, 'sig-api-machinery'],
  [/^api-/, 'sig-api-machinery'],
  [/^node-/, 'sig-node'],
  [/^apps-/, 'sig-apps'],
  [/^storage-/, 'sig-storage'],
  [/^scheduling-/, 'sig-scheduling'],
  [/^auth-/, 'sig-auth'],
  [/^instrumentation-/, 'sig-instrumentation'],
];

export interface SuiteFile {
  /** path relative to the repository, e.g. test/e2e/network-pods.test.ts */
  path: string;
  /** ava's title prefix for the file when several files run: "network-pods" */
  prefix: string;
  sig: string;
  /** test titles declared as string literals that start with "[sig-" */
  titles: string[];
}

export type Kind = 'conformance' | 'upstream' | 'hawser';

export function fileSig(base: string): string | undefined {
  return FILE_SIGS.find(([re]) => re.test(base))?.[1];
}

/** ava's prefix for a file: the base name without ".test" and the extension. */
export const avaPrefix = (base: string): string =>
  base
    .replace(/\.test\./, '.')
    .replace(/test-/, '')
    .replace(/\.(ts|js|mjs|cjs)$/, '');

/**
 * Titles declared in a test file: a string literal opening a call's argument list and starting
 * with "[sig-" (test('[sig-x] ...', ...), it('[sig-x] ...', ...)). Escaped quotes are unescaped.
 */
export function declaredTitles(source: string): string[] {
  const out: string[] = [];
  const re = /\(\s*(['"`])(\[sig-(?:\\.|(?!\1)[^\\\n])*)\1\s*,/g;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    if (m[1] === '`' && m[2].includes('${')) continue;
    out.push(m[2].replace(/\\(.)/g, '$1'));
  }
  return out;
}

/** The SIG a title names ("[sig-network] ..."), else the file's. */
export function sigOf(title: string, fallback: string): string {
  return /^\[(sig-[a-z-]+)\]/.exec(title)?.[1] ?? fallback;
}

/**
 * conformance: an upstream test tagged [Conformance]; upstream: an upstream e2e test name without
 * that tag; hawser: a check with no upstream counterpart ("[sig-x] [hawser] ..." or no SIG at all).
 */
export function kindOf(title: string): Kind {
  if (/\[Conformance\]/.test(title)) return 'conformance';
  if (/^\[sig-[a-z-]+\] (?!\[hawser\])/.test(title)) return 'upstream';
  return 'hawser';
}

export function discover(dir = 'test/e2e'): SuiteFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts') && fileSig(f))
    .sort()
    .map((f) => {
      const path = join(dir, f);
      return { path, prefix: avaPrefix(f), sig: fileSig(f)!, titles: declaredTitles(readFileSync(path, 'utf8')) };
    });
}

/** Titles matching a focus regex and/or belonging to a named subset; undefined means "all". */
export function selectTitles(files: SuiteFile[], o: { focus?: RegExp; subset?: Set<string> }): Set<string> | undefined {
  if (!o.focus && !o.subset) return undefined;
  const all = files.flatMap((f) => f.titles);
  return new Set(all.filter((t) => (!o.focus || o.focus.test(t)) && (!o.subset || o.subset.has(t))));
}
