// The flag specs (agents/cli/flags/) and what is derived from them: commander options, the typed
// settings (command line over settings file over default), the YAML keys, each component's
// options, and docs/flags.md.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { addFlags, cliOnly, compose, int, settingsOf, text, toggle } from '../../agents/cli/flags/spec.ts';
import { kubeletSpec, proxySpec, agentSpec } from '../../agents/cli/flags/node.ts';
import { COMPONENT_SPECS } from '../../agents/cli/flags/components.ts';
import { flagReference } from '../../agents/cli/flags/reference.ts';
import { commandInput, settingsFrom } from '../../agents/cli/config.ts';
import { agentOptions, proxyOptions, toKubeletOptions } from '../../agents/cli/node-flags.ts';

const demo = {
  config: cliOnly(text('<file>', 'settings file')),
  'data-dir': text('<dir>', 'state', '/var/lib/x'),
  'max-pods': int('<n>', 'capacity', '110'),
  'node-ip': text('<ip>', 'address'),
  'masquerade-all': toggle('masquerade'),
} as const;

const parsed = (args: string[]) => {
  const cmd = addFlags(new Command('x').exitOverride(), demo);
  cmd.parse(args, { from: 'user' });
  return cmd;
};

/** A settings file in a temporary directory, removed after `f`. */
function withFile<T>(text: string, f: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-flags-'));
  try {
    writeFileSync(join(dir, 'x.yaml'), text);
    return f(join(dir, 'x.yaml'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a spec becomes commander options: long name, placeholder, parser, shown default', (t) => {
  const cmd = parsed(['--max-pods', '7', '--masquerade-all']);
  t.deepEqual(
    cmd.options.map((o) => o.flags),
    ['--config <file>', '--data-dir <dir>', '--max-pods <n>', '--node-ip <ip>', '--masquerade-all'],
  );
  t.deepEqual(cmd.opts(), { maxPods: 7, masqueradeAll: true });
  t.regex(cmd.helpInformation(), /--max-pods <n>\s+capacity \(default: 110\)/);
  t.throws(() => parsed(['--max-pods', 'many']), { message: '--max-pods: invalid value "many": a number' });
});

test('settings: the command line over the file over the default, typed; no default is undefined', (t) => {
  const s = settingsOf(demo, parsed(['--max-pods', '7']).opts(), { maxPods: 50, dataDir: '/srv', masqueradeAll: 'true' });
  t.deepEqual(s, { config: undefined, dataDir: '/srv', maxPods: 7, nodeIp: undefined, masqueradeAll: true });
  t.deepEqual(settingsOf(demo, {}), { config: undefined, dataDir: '/var/lib/x', maxPods: 110, nodeIp: undefined, masqueradeAll: false });
  t.throws(() => settingsOf(demo, {}, { masqueradeAll: 'yes' }), { message: '--masquerade-all: invalid switch value "yes": true or false' });
});

test('YAML keys are the flag names (or camelCase); others, and command-line-only flags, are refused', (t) => {
  withFile('data-dir: /srv\nmaxPods: 5\nmasquerade-all: true\n', (path) => {
    const cmd = parsed(['--config', path, '--data-dir', '/cli']);
    t.deepEqual(settingsFrom(demo, commandInput(demo, cmd, 'x')), { config: path, dataDir: '/cli', maxPods: 5, nodeIp: undefined, masqueradeAll: true });
  });
  for (const bad of ['data-dri: /srv\n', 'config: other.yaml\n']) {
    withFile(bad, (path) => {
      const key = bad.split(':')[0];
      t.throws(() => commandInput(demo, parsed(['--config', path]), 'x'), { message: `${path}: unknown setting "${key}"` });
    });
  }
  withFile('max-pods: lots\n', (path) => {
    t.throws(() => settingsFrom(demo, commandInput(demo, parsed(['--config', path]), 'x')), { message: `${path}: --max-pods: invalid value "lots": a number` });
  });
});

test('a flag declared twice is refused when the spec is composed', (t) => {
  t.throws(() => compose(demo, { 'max-pods': int('<n>', 'again', '5') }), { message: 'flag --max-pods is declared twice' });
  // every command's spec composed without a clash (the module would not load otherwise), and the agent has each flag once
  t.is(new Set(Object.keys(agentSpec)).size, Object.keys(agentSpec).length);
  for (const spec of Object.values(COMPONENT_SPECS)) t.notThrows(() => addFlags(new Command(), spec));
});

test("each component's options from its defaults are the ones the commands always had", (t) => {
  const k = toKubeletOptions(
    settingsOf(
      kubeletSpec,
      {},
      { nodeName: 'n1', containerRuntimeEndpoint: 'unix:///run/c.sock', registerWithTaints: 'a=b:NoSchedule', clusterDns: '10.96.0.10, 10.96.0.11' },
    ),
  );
  t.like(k, {
    nodeName: 'n1',
    runtimeEndpoint: '/run/c.sock',
    rootDir: '/var/lib/hawser/kubelet',
    cgroupDriver: 'cgroupfs',
    podPidsLimit: -1,
    maxPods: 110,
    port: 10250,
    healthzPort: 10248,
    nodeIP: undefined,
    nodeLabels: {},
    registerWithTaints: [{ key: 'a', value: 'b', effect: 'NoSchedule' }],
    clusterDNS: ['10.96.0.10', '10.96.0.11'],
    clusterDomain: 'cluster.local',
    imageMinimumGCAge: '2m',
    relistMs: 1000,
  });
  const p = proxyOptions(settingsOf(proxySpec, {}, { nodeName: 'n1', proxyMode: 'nftables', nodeportAddresses: '' }));
  t.like(p, {
    mode: 'nftables',
    minSyncPeriodMs: 1000,
    syncPeriodMs: 30_000,
    masqueradeAll: false,
    nodePortAddresses: undefined,
    clusterCIDR: '10.244.0.0/16',
    ipvsScheduler: 'rr',
  });
  t.throws(() => settingsOf(proxySpec, {}, { proxyMode: 'userspace' }), { message: '--proxy-mode must be iptables, nftables or ipvs, not "userspace"' });
  const a = agentOptions(settingsOf(agentSpec, {}, { kubeconfig: '/k', podnetKubeconfig: '/missing' }));
  t.is(a.podnet.kubeconfig, '/k');
  t.is(a.kubelet.kubeconfig, '/k');
});

test('docs/flags.md is the reference generated from the specs', (t) => {
  const file = readFileSync(new URL('../../docs/flags.md', import.meta.url), 'utf8');
  t.is(file, flagReference(), 'run `node --import=tsx agents/cli/flags/gen-reference.ts`');
  for (const name of Object.keys(COMPONENT_SPECS)) t.true(file.includes(`## hawser ${name}\n`));
});
