// The upgrade test's previous release borrows this worktree's node_modules only when every package
// the old lockfile installs is here at the same version; packages added since do not matter.
import test from 'ava';
import { borrowable } from '../machines/_previous-release.ts';

const lock = (packages: Record<string, string>) =>
  JSON.stringify({
    packages: { '': { version: '0.0.0' }, ...Object.fromEntries(Object.entries(packages).map(([k, v]) => [`node_modules/${k}`, { version: v }])) },
  });

test('added packages keep it borrowable; a removed or changed one does not', (t) => {
  const old = lock({ a: '1.0.0', b: '2.0.0' });
  t.true(borrowable(old, lock({ a: '1.0.0', b: '2.0.0', '@bufbuild/cel': '0.6.1' })));
  t.false(borrowable(old, lock({ a: '1.0.0' })), 'b is gone');
  t.false(borrowable(old, lock({ a: '1.0.1', b: '2.0.0' })), 'a changed');
});
