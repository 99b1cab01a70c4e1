// A delegated plugin runs in-process only when the file CNI_PATH names is ours: the exec shim, or
// <type>.cjs, which since the code-cache loader is a small loader beside <type>.bundle.cjs.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLE_MARKER, isOwnPlugin } from '../../cni-plugins/pkg/inprocess.ts';

test('<type>.cjs counts as ours through the bundle its loader runs, and not without one', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-cni-own-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'host-local.cjs'), '#!/usr/bin/env node\n// loader\n');
  t.false(isOwnPlugin('host-local', join(dir, 'host-local.cjs')));
  const other = mkdtempSync(join(tmpdir(), 'hawser-cni-own-'));
  t.teardown(() => rmSync(other, { recursive: true, force: true }));
  writeFileSync(join(other, 'host-local.cjs'), '#!/usr/bin/env node\n// loader\n');
  writeFileSync(join(other, 'host-local.bundle.cjs'), `about: '${BUNDLE_MARKER} host-local'\n`);
  t.true(isOwnPlugin('host-local', join(other, 'host-local.cjs')));
});
