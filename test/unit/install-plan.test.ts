// What an install writes, decided from settings alone: files per role, configs whose keys are the
// components' flags, --node-ip passed through, the back-off drop-in gated on systemd's version,
// and which units a change restarts.
import test from 'ava';
import { Command } from 'commander';
import { parse } from 'yaml';
import { addFlags } from '../../agents/cli/flags/spec.ts';
import { controlPlaneSpec } from '../../agents/cli/flags/control-plane.ts';
import { agentCredentialFlags, agentOptions, kubeletFlags, podnetFlags, podnetOptions, proxyFlags, sharedNodeFlags } from '../../agents/cli/node-flags.ts';
import { agentSpec, podnetSpec } from '../../agents/cli/flags/node.ts';
import { settingsOf } from '../../agents/cli/flags/spec.ts';
import type { Component } from '../../agents/cli/install/layout.ts';
import { componentValues, DEFAULT_SETTINGS, type InstallSettings } from '../../agents/cli/install/configs.ts';
import { settingsFromFlags } from '../../agents/cli/install/commands.ts';
import { BACKOFF_DROPIN, installPlan, joinEntries, roleUnits, unitsToRestart, type BuildInfo } from '../../agents/cli/install/plan.ts';

const build = (systemdVersion?: number): BuildInfo => ({
  sourceDir: '/src',
  files: [
    'dist/hawser.cjs',
    'dist/cni/bridge.cjs',
    'dist/cni/host-local.cjs',
    'dist/cni/loopback.cjs',
    'node_modules/better-sqlite3/lib/index.js',
    'systemd/hawser-kubelet.service',
  ],
  units: Object.fromEntries(
    [
      'hawser-control-plane.service',
      'hawser-agent.service',
      'hawser-kubelet.service',
      'hawser-kube-proxy.service',
      'hawser-podnet.service',
      'containerd.service.d/10-hawser.conf',
      BACKOFF_DROPIN,
    ].map((u) => [u, `# ${u}\n`]),
  ),
  nodeBinary: '/usr/bin/node',
  systemdVersion,
});
const agent: InstallSettings = { ...DEFAULT_SETTINGS, role: 'agent', nodeName: 'w1' };
const separate: InstallSettings = { ...agent, separateUnits: true };
const server: InstallSettings = { ...DEFAULT_SETTINGS, role: 'server' };
const paths = (s: InstallSettings, v?: number) =>
  installPlan(s, build(v))
    .map((e) => e.path)
    .filter((p) => !p.startsWith('/usr/local/lib/hawser/'));

test('a server gets the suite, the control plane unit and its config; nothing of a node', (t) => {
  t.deepEqual(paths(server, 252), ['/etc/hawser/control-plane.yaml', '/etc/systemd/system/hawser-control-plane.service', '/usr/local/bin/hawser']);
  t.deepEqual(roleUnits(server), ['hawser-control-plane.service']);
});

test("an agent gets containerd's drop-in and config, one agent unit and config, CNI plugins present in the build, kernel settings", (t) => {
  t.deepEqual(paths(agent, 252), [
    '/etc/hawser/agent.yaml',
    '/etc/hawser/containerd.toml',
    '/etc/modules-load.d/hawser.conf',
    '/etc/sysctl.d/90-hawser.conf',
    '/etc/systemd/system/containerd.service.d/10-hawser.conf',
    '/etc/systemd/system/hawser-agent.service',
    '/opt/cni/bin/bridge',
    '/opt/cni/bin/host-local',
    '/opt/cni/bin/loopback',
    '/usr/local/bin/hawser',
  ]);
  t.deepEqual(roleUnits(agent), ['containerd.service', 'hawser-agent.service']);
  // one YAML holds every component's settings
  const yaml = parse(
    (
      installPlan({ ...agent, nodeIP: '10.0.0.5', proxyMode: 'nftables', podnetBackend: 'vxlan' }, build()).find(
        (e) => e.path === '/etc/hawser/agent.yaml',
      ) as { text: string }
    ).text,
  );
  t.like(yaml, {
    'node-name': 'w1',
    'node-ip': '10.0.0.5',
    'root-dir': '/var/lib/hawser/kubelet',
    'cni-conf-dir': '/etc/cni/net.d',
    backend: 'vxlan',
    'proxy-mode': 'nftables',
    'cluster-cidr': '10.244.0.0/16',
  });
});

test('--separate-units: podnet, kubelet and kube-proxy as units of their own', (t) => {
  t.deepEqual(paths(separate, 252), [
    '/etc/hawser/containerd.toml',
    '/etc/hawser/kube-proxy.yaml',
    '/etc/hawser/kubelet.yaml',
    '/etc/hawser/podnet.yaml',
    '/etc/modules-load.d/hawser.conf',
    '/etc/sysctl.d/90-hawser.conf',
    '/etc/systemd/system/containerd.service.d/10-hawser.conf',
    '/etc/systemd/system/hawser-kube-proxy.service',
    '/etc/systemd/system/hawser-kubelet.service',
    '/etc/systemd/system/hawser-podnet.service',
    '/opt/cni/bin/bridge',
    '/opt/cni/bin/host-local',
    '/opt/cni/bin/loopback',
    '/usr/local/bin/hawser',
  ]);
  t.deepEqual(roleUnits(separate), ['containerd.service', 'hawser-podnet.service', 'hawser-kubelet.service', 'hawser-kube-proxy.service']);
  const suite = installPlan(separate, build(252)).filter((e) => e.path.startsWith('/usr/local/lib/hawser/'));
  t.true(suite.some((e) => e.path === '/usr/local/lib/hawser/bin/node' && 'copyFrom' in e && e.copyFrom === '/usr/bin/node' && e.mode === 0o755));
  t.true(suite.some((e) => e.path === '/usr/local/lib/hawser/dist/hawser.cjs' && e.mode === 0o755));
});

test('the restart back-off drop-in only for systemd >= 254', (t) => {
  t.false(paths(agent, 253).includes(`/etc/systemd/system/${BACKOFF_DROPIN}`));
  t.true(paths(agent, 254).includes(`/etc/systemd/system/${BACKOFF_DROPIN}`));
  t.false(paths(agent, undefined).includes(`/etc/systemd/system/${BACKOFF_DROPIN}`));
});

test('--node-ip reaches the kubelet and kube-proxy configs; without it the kubelet picks the address itself', (t) => {
  const withIP = installPlan({ ...separate, nodeIP: '192.168.56.11' }, build());
  const yaml = (p: string, plan = withIP) => parse((plan.find((e) => e.path === p) as { text: string }).text);
  t.is(yaml('/etc/hawser/kubelet.yaml')['node-ip'], '192.168.56.11');
  t.is(yaml('/etc/hawser/kube-proxy.yaml')['node-ip'], '192.168.56.11');
  t.false('node-ip' in yaml('/etc/hawser/kubelet.yaml', installPlan(separate, build())));
  const cp = parse(
    (installPlan({ ...server, nodeIP: '192.168.56.10' }, build()).find((e) => e.path === '/etc/hawser/control-plane.yaml') as { text: string }).text,
  );
  t.is(cp['advertise-address'], '192.168.56.10', 'a server advertises its --node-ip');
});

test('containerd config: the sandbox image and registry mirrors from the settings', (t) => {
  const plan = installPlan(
    { ...agent, sandboxImage: 'registry.hawser.local/pause:3.10', registryMirrors: { 'registry.hawser.local': 'http://192.168.56.10:5000' } },
    build(),
  );
  const toml = (plan.find((e) => e.path === '/etc/hawser/containerd.toml') as { text: string }).text;
  t.regex(toml, /sandbox_image = "registry\.hawser\.local\/pause:3\.10"/);
  t.regex(toml, /mirrors\."registry\.hawser\.local"\]\n\s+endpoint = \["http:\/\/192\.168\.56\.10:5000"\]/);
  t.regex(toml, /bin_dir = "\/opt\/cni\/bin"/);
});

// the YAML keys must be flags of the command that reads them, or `hawser <cmd> --config` refuses the file
test('every config key is a flag of its command', (t) => {
  // the node components' flags are declared once in node-flags.ts
  const declared = (add: (c: Command) => Command): Set<string> => new Set(add(new Command()).options.map((o) => o.long!.slice(2)));
  const flags: Record<Component, Set<string>> = {
    'control-plane': declared((c) => addFlags(c, controlPlaneSpec)),
    kubelet: declared((c) => kubeletFlags(sharedNodeFlags(c))),
    podnet: declared((c) => podnetFlags(sharedNodeFlags(c))),
    'kube-proxy': declared((c) => proxyFlags(sharedNodeFlags(c))),
    agent: declared((c) => agentCredentialFlags(proxyFlags(podnetFlags(kubeletFlags(sharedNodeFlags(c))), false))),
  };
  t.true(flags['control-plane'].has('data-dir'));
  // every optional key set, so that each one is checked (backend: vxlan, proxy-mode: nftables)
  const full: InstallSettings = {
    ...agent,
    nodeIP: '10.0.0.1',
    tlsSANs: ['x'],
    advertiseAddress: '10.0.0.1',
    podnetBackend: 'vxlan',
    proxyMode: 'nftables',
    cgroupDriver: 'systemd',
  };
  for (const c of Object.keys(flags) as Component[]) {
    for (const [k, v] of Object.entries(componentValues(c, full))) if (v !== undefined) t.true(flags[c].has(k), `${c}: --${k}`);
  }
});

test('a change restarts only the units that read it', (t) => {
  t.deepEqual(unitsToRestart(['/etc/hawser/kubelet.yaml'], separate), ['hawser-kubelet.service']);
  t.deepEqual(unitsToRestart(['/etc/hawser/containerd.toml'], separate), ['containerd.service']);
  t.deepEqual(unitsToRestart(['/usr/local/lib/hawser/dist/hawser.cjs'], separate), [
    'hawser-podnet.service',
    'hawser-kubelet.service',
    'hawser-kube-proxy.service',
  ]);
  t.deepEqual(unitsToRestart(['/etc/hawser/kubelet.kubeconfig'], separate), ['hawser-podnet.service', 'hawser-kubelet.service', 'hawser-kube-proxy.service']);
  t.deepEqual(unitsToRestart(['/etc/hawser/kube-proxy.kubeconfig'], agent), ['hawser-agent.service']);
  t.deepEqual(unitsToRestart(['/etc/sysctl.d/90-hawser.conf'], separate), []);
  t.deepEqual(unitsToRestart(['/etc/hawser/agent.yaml'], agent), ['hawser-agent.service']);
  t.deepEqual(unitsToRestart(['/usr/local/lib/hawser/dist/hawser.cjs', '/etc/hawser/containerd.toml'], agent), ['containerd.service', 'hawser-agent.service']);
  t.deepEqual(unitsToRestart(['/etc/hawser/control-plane.yaml'], server), ['hawser-control-plane.service']);
});

test('join writes the CA, a private kubeconfig for each agent component and the private node password', (t) => {
  const e = joinEntries({ caPem: 'CA', kubeconfigs: { kubelet: 'KC', 'kube-proxy': 'KP', podnet: 'PN', ingress: 'IN' }, nodePassword: 'pw' });
  t.deepEqual(
    e.map((x) => [x.path, x.mode, x.group]),
    [
      ['/etc/hawser/ca.crt', 0o644, 'join'],
      ['/etc/hawser/kubelet.kubeconfig', 0o600, 'join'],
      ['/etc/hawser/kube-proxy.kubeconfig', 0o600, 'join'],
      ['/etc/hawser/podnet.kubeconfig', 0o600, 'join'],
      ['/etc/hawser/ingress.kubeconfig', 0o600, 'join'],
      ['/etc/hawser/node-password', 0o600, 'join'],
    ],
  );
});

test('flags: unset ones stay unset (the previous install keeps its values); bad values are refused', (t) => {
  const s = settingsFromFlags({ nodeIp: '10.1.1.1', registryMirror: ['a.b=http://c:5000'] });
  t.is(s.nodeIP, '10.1.1.1');
  t.deepEqual(s.registryMirrors, { 'a.b': 'http://c:5000' });
  t.is(s.podnetBackend, undefined);
  t.throws(() => settingsFromFlags({ backend: 'flannel' }), { message: /host-gw, vxlan/ });
  t.throws(() => settingsFromFlags({ registryMirror: ['nohost'] }), { message: /host=endpoint/ });
});

test("the cgroup driver goes to the kubelet's config and containerd's runc options alike", (t) => {
  const sd: InstallSettings = { ...agent, cgroupDriver: 'systemd' };
  const file = (s: InstallSettings, p: string) => {
    const e = installPlan(s, build(252)).find((x) => x.path === p);
    return e && 'text' in e ? e.text : '';
  };
  t.is(parse(file(sd, '/etc/hawser/agent.yaml'))['cgroup-driver'], 'systemd');
  t.regex(file(sd, '/etc/hawser/containerd.toml'), /\n\s*SystemdCgroup = true\n/);
  t.is(parse(file(agent, '/etc/hawser/agent.yaml'))['cgroup-driver'], undefined, "unset: the kubelet's default, cgroupfs");
  t.regex(file(agent, '/etc/hawser/containerd.toml'), /\n\s*SystemdCgroup = false\n/);
  t.is(settingsFromFlags({ cgroupDriver: 'systemd' }).cgroupDriver, 'systemd');
  t.throws(() => settingsFromFlags({ cgroupDriver: 'v2' }), { message: '--cgroup-driver must be one of cgroupfs, systemd; got "v2"' });
});

test("NetworkPolicy follows the proxy mode: podnet reads --proxy-mode from its own file and from the agent's", (t) => {
  const nft: InstallSettings = { ...separate, proxyMode: 'nftables' };
  t.is(componentValues('podnet', nft)['proxy-mode'], 'nftables');
  t.is(componentValues('podnet', separate)['proxy-mode'], undefined, 'the default is not written');
  t.is(podnetOptions(settingsOf(podnetSpec, {}, { nodeName: 'n1', proxyMode: 'nftables' })).proxyMode, 'nftables');
  const agentCmd = agentCredentialFlags(proxyFlags(podnetFlags(kubeletFlags(sharedNodeFlags(new Command()))), false)).parse(['--proxy-mode', 'nftables'], {
    from: 'user',
  });
  const opts = agentOptions(settingsOf(agentSpec, agentCmd.opts()));
  t.is(opts.podnet.proxyMode, 'nftables');
  t.is(opts.proxy.mode, 'nftables');
  t.throws(() => settingsOf(podnetSpec, {}, { proxyMode: 'nft' }), { message: /--proxy-mode must be iptables, nftables or ipvs/ });
});
