// The pure parts of the per-node runtime setup: containerd's TOML, the registry's YAML, mirror
// endpoint normalisation and the mountinfo parsing that teardown relies on.
import test from 'ava';
import { parse as parseYaml } from 'yaml';
import { DISABLED_PLUGINS, mirrorEndpoint, renderContainerdConfig, type ContainerdConfigInput } from '../../agents/kubelet/cri/containerd-config.ts';
import { mountsUnder } from '../../agents/kubelet/cri/teardown.ts';
import { renderRegistryConfig } from '../../images/registry.ts';

const input: ContainerdConfigInput = {
  root: '/var/lib/hawser/node-a/containerd',
  state: '/run/hawser/node-a/containerd',
  socket: '/run/hawser/node-a/containerd.sock',
  cniBinDir: '/opt/hawser/cni/bin',
  cniConfDir: '/etc/hawser/node-a/cni/net.d',
  sandboxImage: 'registry.hawser.local/pause:3.10',
  registryMirrors: { 'registry.hawser.local': 'http://10.77.0.1:5000', 'docker.io': '10.77.0.1:5000' },
};

/** Minimal reader for the TOML subset we emit: [tables] and key = value lines. */
function tables(toml: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>([['', new Map()]]);
  let current = '';
  for (const raw of toml.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const t = /^\[(.+)\]$/.exec(line);
    if (t) {
      current = t[1]!;
      if (out.has(current)) throw new Error(`table [${current}] defined twice`);
      out.set(current, new Map());
      continue;
    }
    const kv = /^([A-Za-z0-9_]+) = (.+)$/.exec(line);
    if (!kv) throw new Error(`unexpected TOML line: ${line}`);
    if (out.get(current)!.has(kv[1]!)) throw new Error(`key ${kv[1]} twice in [${current}]`);
    out.get(current)!.set(kv[1]!, kv[2]!);
  }
  return out;
}

const CRI = 'plugins."io.containerd.grpc.v1.cri"';

test('containerd config carries the node-specific settings', (t) => {
  const toml = renderContainerdConfig(input);
  const tb = tables(toml);
  t.is(tb.get('')!.get('version'), '2');
  t.is(tb.get('')!.get('root'), JSON.stringify(input.root));
  t.is(tb.get('')!.get('state'), JSON.stringify(input.state));
  t.is(tb.get('grpc')!.get('address'), JSON.stringify(input.socket));
  const cri = tb.get(CRI)!;
  t.is(cri.get('restrict_oom_score_adj'), 'true');
  t.is(cri.get('sandbox_image'), '"registry.hawser.local/pause:3.10"');
  t.is(cri.get('systemd_cgroup'), 'false');
  t.is(tb.get(`${CRI}.cni`)!.get('bin_dir'), JSON.stringify(input.cniBinDir));
  t.is(tb.get(`${CRI}.cni`)!.get('conf_dir'), JSON.stringify(input.cniConfDir));
  t.is(tb.get(`${CRI}.containerd`)!.get('snapshotter'), '"overlayfs"');
  const runc = tb.get(`${CRI}.containerd.runtimes.runc.options`)!;
  t.is(runc.get('SystemdCgroup'), 'false');
  t.is(runc.get('Root'), JSON.stringify(`${input.state}/runc`));
  t.is(tb.get(`${CRI}.registry.mirrors."registry.hawser.local"`)!.get('endpoint'), '["http://10.77.0.1:5000"]');
  t.is(tb.get(`${CRI}.registry.mirrors."docker.io"`)!.get('endpoint'), '["http://10.77.0.1:5000"]');
  for (const p of ['aufs', 'btrfs', 'zfs', 'devmapper']) t.true(DISABLED_PLUGINS.includes(`io.containerd.snapshotter.v1.${p}`));
  // the tasks service needs the v1 runtime plugin in containerd 1.6: disabling it kills CRI
  t.false(DISABLED_PLUGINS.includes('io.containerd.runtime.v1.linux'));
});

test('containerd config is a pure function and honours options', (t) => {
  t.is(renderContainerdConfig(input), renderContainerdConfig({ ...input, registryMirrors: { ...input.registryMirrors } }));
  const tb = tables(
    renderContainerdConfig({
      ...input,
      snapshotter: 'native',
      streamServerAddress: '10.77.0.2',
      streamServerPort: 10010,
      logLevel: 'warn',
      registryMirrors: {},
    }),
  );
  t.is(tb.get(`${CRI}.containerd`)!.get('snapshotter'), '"native"');
  t.is(tb.get(CRI)!.get('stream_server_address'), '"10.77.0.2"');
  t.is(tb.get(CRI)!.get('stream_server_port'), '"10010"');
  t.is(tb.get('debug')!.get('level'), '"warn"');
  t.false([...tb.keys()].some((k) => k.includes('registry.mirrors')));
});

test('containerd config rejects what would silently misbehave', (t) => {
  t.throws(() => renderContainerdConfig({ ...input, root: 'relative/root' }), { message: /root must be an absolute path/ });
  t.throws(() => renderContainerdConfig({ ...input, sandboxImage: '' }), { message: /sandboxImage/ });
  t.throws(() => renderContainerdConfig({ ...input, registryMirrors: { 'bad host"': 'http://x' } }), { message: /not host/ });
  t.throws(() => renderContainerdConfig({ ...input, registryMirrors: { h: 'ftp://x' } }), { message: /not http/ });
});

test('mirror endpoints get a scheme', (t) => {
  t.is(mirrorEndpoint('10.77.0.1:5000'), 'http://10.77.0.1:5000');
  t.is(mirrorEndpoint('http://10.77.0.1:5000/'), 'http://10.77.0.1:5000');
  t.is(mirrorEndpoint('https://mirror.example:443'), 'https://mirror.example:443');
  t.is(mirrorEndpoint('[fd00::1]:5000'), 'http://[fd00::1]:5000');
  t.throws(() => mirrorEndpoint('http://a/b c'));
});

test('registry config is valid YAML with our settings', (t) => {
  const y = parseYaml(renderRegistryConfig({ listen: '10.77.0.1:5000', storageDir: '/var/lib/hawser/registry/storage', secret: 's3' }));
  t.is(y.version, 0.1);
  t.is(y.http.addr, '10.77.0.1:5000');
  t.is(y.http.secret, 's3');
  t.is(y.storage.filesystem.rootdirectory, '/var/lib/hawser/registry/storage');
  t.true(y.storage.delete.enabled);
  t.is(parseYaml(renderRegistryConfig({ listen: '127.0.0.1:5000', storageDir: '/x' })).http.secret, undefined);
});

test('mountsUnder finds nested mounts deepest first and decodes escapes', (t) => {
  const mi = [
    '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '100 22 0:50 / /tmp/hawser-ctd-x/root/io.containerd.snapshotter.v1.overlayfs/snapshots/1/fs rw - overlay overlay rw',
    '101 22 0:51 / /tmp/hawser-ctd-x/state/io.containerd.runtime.v2.task/k8s.io/abc/rootfs rw - overlay overlay rw',
    '102 101 0:52 / /tmp/hawser-ctd-x/state/io.containerd.runtime.v2.task/k8s.io/abc/rootfs/proc rw - proc proc rw',
    '103 22 0:53 / /tmp/hawser-ctd-xy/state/other rw - tmpfs tmpfs rw',
    '104 22 0:54 / /tmp/hawser-ctd-x/state/with\\040space rw - tmpfs tmpfs rw',
  ].join('\n');
  const got = mountsUnder(['/tmp/hawser-ctd-x/root', '/tmp/hawser-ctd-x/state'], mi);
  t.deepEqual(got, [
    '/tmp/hawser-ctd-x/root/io.containerd.snapshotter.v1.overlayfs/snapshots/1/fs',
    '/tmp/hawser-ctd-x/state/io.containerd.runtime.v2.task/k8s.io/abc/rootfs/proc',
    '/tmp/hawser-ctd-x/state/io.containerd.runtime.v2.task/k8s.io/abc/rootfs',
    '/tmp/hawser-ctd-x/state/with space',
  ]);
});
