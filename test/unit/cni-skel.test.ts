// The CNI protocol layer: environment rules, CNI_ARGS, versions, result conversion, error JSON.
import test from 'ava';
import { dispatch, type PluginFuncs } from '../../cni-plugins/skel/skel.ts';
import { parseCniArgs } from '../../cni-plugins/skel/args.ts';
import { parseResult, resultToVersion, type Result } from '../../cni-plugins/skel/result.ts';
import { versionAtLeast } from '../../cni-plugins/skel/version.ts';

type Json = Record<string, unknown>;

const seen: Json[] = [];
const fake: PluginFuncs = {
  about: 'fake',
  add: async (a) => {
    seen.push({ id: a.containerId, version: a.version });
    return { cniVersion: a.version, ok: true };
  },
  del: async () => undefined,
  check: async () => undefined,
};

const env = (over: Record<string, string | undefined> = {}) => ({
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'abc',
  CNI_NETNS: '/run/netns/x',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin',
  ...over,
});
const conf = (over: Json = {}) => JSON.stringify({ cniVersion: '1.0.0', name: 'net', type: 'fake', ...over });

async function code(e: Record<string, string | undefined>, stdin = conf()): Promise<number | null> {
  const r = await dispatch(fake, { env: e, stdin });
  if (r.exitCode === 0) return null;
  const j = JSON.parse(r.stdout) as Json;
  if (typeof j.msg !== 'string') throw new Error('error without msg');
  return j.code as number;
}

test('environment: required variables per verb, container ID and interface name rules', async (t) => {
  t.is(await code(env()), null);
  t.is(await code(env({ CNI_NETNS: undefined })), 4);
  t.is(await code(env({ CNI_COMMAND: 'DEL', CNI_NETNS: undefined })), null);
  t.is(await code(env({ CNI_PATH: undefined })), 4);
  t.is(await code(env({ CNI_CONTAINERID: undefined })), 4);
  t.is(await code(env({ CNI_CONTAINERID: '-bad' })), 4);
  t.is(await code(env({ CNI_IFNAME: 'a'.repeat(16) })), 4);
  t.is(await code(env({ CNI_IFNAME: 'a/b' })), 4);
  t.is(await code(env({ CNI_IFNAME: '..' })), 4);
  t.is(await code(env({ CNI_COMMAND: 'NOPE' })), 4);
});

test('config: JSON, name, versions, verbs newer than the config', async (t) => {
  t.is(await code(env(), '{'), 6);
  t.is(await code(env(), conf({ name: '' })), 7);
  t.is(await code(env(), conf({ name: 'bad name' })), 7);
  t.is(await code(env(), conf({ cniVersion: '9.9.9' })), 1);
  t.is(await code(env(), conf({ cniVersion: 'x.y' })), 1);
  t.is(await code(env({ CNI_COMMAND: 'CHECK' }), conf({ cniVersion: '0.3.1' })), 1);
  t.is(await code(env({ CNI_COMMAND: 'CHECK' }), conf({ cniVersion: '0.4.0' })), null);
  t.is(await code(env({ CNI_COMMAND: 'GC' }), conf()), 1);
  t.is(await code(env({ CNI_COMMAND: 'STATUS' }), conf({ cniVersion: '1.1.0' })), null);
  seen.length = 0;
  await dispatch(fake, { env: env(), stdin: JSON.stringify({ name: 'net', type: 'fake' }) });
  t.deepEqual(seen, [{ id: 'abc', version: '0.1.0' }]); // no cniVersion means 0.1.0
});

test('error JSON carries the config version, code, msg and details; plain errors are 999', async (t) => {
  const boom: PluginFuncs = { ...fake, add: async () => Promise.reject(new Error('kaboom')) };
  const r = await dispatch(boom, { env: env(), stdin: conf({ cniVersion: '0.4.0' }) });
  t.is(r.exitCode, 1);
  t.deepEqual(JSON.parse(r.stdout), { cniVersion: '0.4.0', code: 999, msg: 'kaboom' });
  const v = await dispatch(fake, { env: env(), stdin: conf({ cniVersion: '9.9.9' }) });
  t.regex((JSON.parse(v.stdout) as Json).details as string, /config is "9.9.9", plugin supports \["0.1.0" .* "1.1.0"\]/);
});

test('VERSION ignores stdin; no CNI_COMMAND prints the about line', async (t) => {
  const v = await dispatch(fake, { env: { CNI_COMMAND: 'VERSION' }, stdin: 'not json' });
  t.deepEqual(JSON.parse(v.stdout), { cniVersion: '1.1.0', supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  const about = await dispatch(fake, { env: {}, stdin: '' });
  t.is(about.exitCode, 0);
  t.regex(about.stderr, /^fake\nCNI protocol versions supported: 0\.1\.0/);
});

test('CNI_ARGS: pairs, IgnoreUnknown, malformed pairs', (t) => {
  t.deepEqual(parseCniArgs('IP=10.0.0.1;IgnoreUnknown=1;K8S_POD_NAME=x', ['IP']), { IP: '10.0.0.1' });
  t.throws(() => parseCniArgs('K8S_POD_NAME=x', ['IP']), { message: /unknown args/ });
  t.throws(() => parseCniArgs('IP', ['IP']), { message: /invalid pair/ });
  t.throws(() => parseCniArgs('IgnoreUnknown=maybe', ['IP']), { message: /boolean/ });
  t.deepEqual(parseCniArgs('', ['IP']), {});
});

const result: Result = {
  cniVersion: '1.0.0',
  interfaces: [
    { name: 'cni0', mac: 'aa:bb:cc:dd:ee:ff' },
    { name: 'eth0', mac: '11:22:33:44:55:66', sandbox: '/run/netns/x', mtu: 1400 },
  ],
  ips: [
    { interface: 1, address: '10.0.0.2/24', gateway: '10.0.0.1' },
    { interface: 1, address: 'fd00::2/64', gateway: 'fd00::1' },
    { interface: 1, address: '10.0.1.2/24' },
  ],
  routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0', gw: 'fd00::1', mtu: 1300 }],
  dns: { nameservers: ['10.96.0.10'], search: [] },
};

test('results convert to every version, in the reference key order', (t) => {
  const v1 = resultToVersion(result, '1.0.0');
  t.is(
    JSON.stringify(v1),
    JSON.stringify({
      cniVersion: '1.0.0',
      interfaces: [
        { name: 'cni0', mac: 'aa:bb:cc:dd:ee:ff' },
        { name: 'eth0', mac: '11:22:33:44:55:66', sandbox: '/run/netns/x' },
      ],
      ips: [
        { interface: 1, address: '10.0.0.2/24', gateway: '10.0.0.1' },
        { interface: 1, address: 'fd00::2/64', gateway: 'fd00::1' },
        { interface: 1, address: '10.0.1.2/24' },
      ],
      routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0', gw: 'fd00::1' }],
      dns: { nameservers: ['10.96.0.10'] },
    }),
  );
  const v11 = resultToVersion(result, '1.1.0') as { interfaces: Json[]; routes: Json[] };
  t.is(v11.interfaces[1].mtu, 1400);
  t.is(v11.routes[1].mtu, 1300);
  const v04 = resultToVersion(result, '0.4.0') as { ips: Json[] };
  t.deepEqual(v04.ips[0], { version: '4', interface: 1, address: '10.0.0.2/24', gateway: '10.0.0.1' });
  t.is(v04.ips[1].version, '6');
  t.deepEqual(resultToVersion(result, '0.2.0'), {
    cniVersion: '0.2.0',
    ip4: { ip: '10.0.0.2/24', gateway: '10.0.0.1', routes: [{ dst: '0.0.0.0/0' }] },
    ip6: { ip: 'fd00::2/64', gateway: 'fd00::1', routes: [{ dst: '::/0', gw: 'fd00::1' }] },
    dns: { nameservers: ['10.96.0.10'] },
  });
  t.throws(() => resultToVersion({ cniVersion: '1.0.0', dns: {} }, '0.2.0'), { message: /no valid IP addresses/ });
});

test('results parse back from any version', (t) => {
  for (const v of ['0.3.0', '0.3.1', '0.4.0', '1.0.0']) {
    const back = parseResult(resultToVersion(result, v));
    t.deepEqual(back.ips, result.ips, v);
    t.deepEqual(
      back.routes?.map((r) => r.dst),
      ['0.0.0.0/0', '::/0'],
    );
  }
  const old = parseResult(resultToVersion(result, '0.2.0'));
  t.deepEqual(
    old.ips?.map((i) => i.address),
    ['10.0.0.2/24', 'fd00::2/64'],
  );
  t.true(versionAtLeast('1.0.0', '0.4.0'));
  t.false(versionAtLeast('0.3.1', '0.4.0'));
  t.true(versionAtLeast('0.10.0', '0.9.0'));
});
