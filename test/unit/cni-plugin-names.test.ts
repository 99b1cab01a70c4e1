// The CNI plugin names are declared once (cni-plugins/names.ts): the daemon's table, the install's
// wrappers and the entry points agree with it, and no source keeps a hand list of the names.
import test from 'ava';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CNI_PLUGINS, cniPluginEntry } from '../../cni-plugins/names.ts';
import { ALL_PLUGINS } from '../../cni-plugins/daemon/plugins.ts';
import { DEFAULT_SETTINGS } from '../../agents/cli/install/configs.ts';
import { installPlan } from '../../agents/cli/install/plan.ts';

test('the daemon serves exactly the declared plugins', (t) => {
  t.deepEqual(Object.keys(ALL_PLUGINS).sort(), [...CNI_PLUGINS].sort());
});

test('each declared plugin has its entry point and plugin module', (t) => {
  for (const p of CNI_PLUGINS) {
    t.true(existsSync(cniPluginEntry(p)), cniPluginEntry(p));
    t.true(existsSync(`cni-plugins/${p}/plugin.ts`), p);
  }
});

test('an agent install wraps every declared plugin whose bundle is in the build', (t) => {
  const files = ['dist/hawser.cjs', ...CNI_PLUGINS.map((p) => `dist/cni/${p}.cjs`)];
  const plan = installPlan(
    { ...DEFAULT_SETTINGS, role: 'agent', nodeName: 'w1' },
    {
      sourceDir: '/src',
      files,
      units: Object.fromEntries(['hawser-agent.service', 'containerd.service.d/10-hawser.conf'].map((u) => [u, ''])),
      nodeBinary: '/usr/bin/node',
    },
  );
  t.deepEqual(
    plan.map((e) => e.path).filter((p) => p.startsWith('/opt/cni/bin/')),
    CNI_PLUGINS.map((p) => `/opt/cni/bin/${p}`).sort(),
  );
});

// A literal array naming two or more of the plugins is a second declaration.
const QUOTED = `['"](?:${CNI_PLUGINS.join('|')})['"]`;
const HAND_LIST = new RegExp(`\\[\\s*${QUOTED}\\s*,\\s*${QUOTED}`);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (n === 'node_modules') return [];
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|mjs)$/.test(n) ? [p] : [];
  });
}

test('no source keeps its own list of the plugin names', (t) => {
  const files = ['agents', 'cni-plugins', 'bench', 'release', 'images'].filter(existsSync).flatMap(sources).concat('build.mjs');
  const lists = files.filter((f) => f !== 'cni-plugins/names.ts' && HAND_LIST.test(readFileSync(f, 'utf8')));
  t.deepEqual(lists, []);
});
