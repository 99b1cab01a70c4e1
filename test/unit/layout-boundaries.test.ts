// Product folders (what build.mjs bundles from) never import test code: no ava, nothing under
// test/, no harness, so a test helper cannot end up in dist/ or pull its dependencies in.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const PRODUCT = ['agents', 'cni-plugins'];
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function* tsFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* tsFiles(p);
    else if (e.name.endsWith('.ts')) yield p;
  }
}

/** Every import of a product file that reaches test code: ava, or a path under test/. */
function testImports(file: string, text: string): string[] {
  const bad: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (spec === 'ava' || spec.startsWith('ava/')) bad.push(spec);
    else if (spec.startsWith('.') && relative(ROOT, resolve(join(file, '..'), spec)).split('/')[0] === 'test') bad.push(spec);
  }
  return bad;
}

test('the import scan sees ava and test/ paths', (t) => {
  const f = join(ROOT, 'agents/x/y.ts');
  t.deepEqual(
    testImports(f, "import type { TestFn } from 'ava';\nimport { a } from '../../test/support/etcd-server.ts';\nimport { b } from '../api/log.ts';"),
    ['ava', '../../test/support/etcd-server.ts'],
  );
});

test('agents/ and cni-plugins/ import nothing from ava or test/', (t) => {
  const found: string[] = [];
  for (const dir of PRODUCT) {
    for (const f of tsFiles(join(ROOT, dir))) {
      for (const spec of testImports(f, readFileSync(f, 'utf8'))) found.push(`${relative(ROOT, f)} -> ${spec}`);
    }
  }
  t.deepEqual(found, []);
});
