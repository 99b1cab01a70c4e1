// host-local in-process through the CNI dispatch (no root: files in a temp dir, flock on them).
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispatch } from '../../cni-plugins/skel/skel.ts';
import { hostLocal } from '../../cni-plugins/host-local/plugin.ts';

type Json = Record<string, unknown>;

function setup(t: import('ava').ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-hl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const conf = (ipam: Json, over: Json = {}): string =>
    JSON.stringify({ cniVersion: '1.0.0', name: 'net', type: 'host-local', ipam: { type: 'host-local', dataDir: dir, ...ipam }, ...over });
  const call = async (command: string, id: string, c: string, extra: Json = {}) => {
    const r = await dispatch(hostLocal, {
      env: { CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: '/proc/self/ns/net', CNI_IFNAME: 'eth0', CNI_PATH: '/nowhere', ...extra },
      stdin: c,
    });
    return { ...r, json: r.stdout ? (JSON.parse(r.stdout) as Json) : undefined };
  };
  const files = () => readdirSync(join(dir, 'net')).sort();
  return { dir, conf, call, files };
}

const addr = (j: Json | undefined, i = 0): string => (j?.ips as Json[])[i].address as string;

test('allocates in order, skips the gateway, round-robins after release, and stores the reference layout', async (t) => {
  const { dir, conf, call, files } = setup(t);
  const c = conf({ ranges: [[{ subnet: '10.1.0.0/29' }]] });
  t.is(addr((await call('ADD', 'a', c)).json), '10.1.0.2/29');
  t.is(addr((await call('ADD', 'b', c)).json), '10.1.0.3/29');
  t.is(readFileSync(join(dir, 'net', '10.1.0.2'), 'utf8'), 'a\r\neth0');
  t.is(readFileSync(join(dir, 'net', 'last_reserved_ip.0'), 'utf8'), '10.1.0.3');
  t.is((await call('DEL', 'a', c)).exitCode, 0);
  // round robin: continues after the last reserved address rather than reusing .2
  t.is(addr((await call('ADD', 'c', c)).json), '10.1.0.4/29');
  t.deepEqual(files(), ['10.1.0.3', '10.1.0.4', 'last_reserved_ip.0', 'lock']);
});

test('exhaustion is an error and leaves no file; the broadcast address is never used', async (t) => {
  const { conf, call, files } = setup(t);
  const c = conf({ ranges: [[{ subnet: '10.2.0.0/30' }]] });
  t.is(addr((await call('ADD', 'a', c)).json), '10.2.0.2/30');
  const r = await call('ADD', 'b', c);
  t.is(r.exitCode, 1);
  t.is(r.json?.code, 999);
  t.regex(String(r.json?.msg), /no IP addresses available in range set: 10\.2\.0\.1-10\.2\.0\.2/);
  t.deepEqual(files(), ['10.2.0.2', 'last_reserved_ip.0', 'lock']);
});

test('dual stack with rangeStart/rangeEnd/gateway, routes and the result shape', async (t) => {
  const { conf, call } = setup(t);
  const c = conf({
    ranges: [[{ subnet: '10.3.0.0/24', rangeStart: '10.3.0.10', rangeEnd: '10.3.0.11', gateway: '10.3.0.10' }], [{ subnet: 'fd00:3::/64' }]],
    routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0', gw: 'fd00:3::1' }],
  });
  const r = await call('ADD', 'a', c);
  t.deepEqual(r.json, {
    cniVersion: '1.0.0',
    ips: [
      { address: '10.3.0.11/24', gateway: '10.3.0.10' },
      { address: 'fd00:3::2/64', gateway: 'fd00:3::1' },
    ],
    routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0', gw: 'fd00:3::1' }],
    dns: {},
  });
  // a second container: the v4 range (the gateway taken out) is full, and the v6 one is given back
  const second = await call('ADD', 'b', c);
  t.is(second.exitCode, 1);
  t.regex(String(second.json?.msg), /failed to allocate for range 0/);
});

test('requested IPs: CNI_ARGS, args.cni.ips, runtimeConfig.ips; taken or outside the range is an error', async (t) => {
  const { conf, call } = setup(t);
  const c = conf({ ranges: [[{ subnet: '10.4.0.0/24' }]] });
  t.is(addr((await call('ADD', 'a', c, { CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=x;IP=10.4.0.50' })).json), '10.4.0.50/24');
  t.is(addr((await call('ADD', 'b', conf({ ranges: [[{ subnet: '10.4.0.0/24' }]] }, { args: { cni: { ips: ['10.4.0.51'] } } }))).json), '10.4.0.51/24');
  t.is(addr((await call('ADD', 'c', conf({ ranges: [[{ subnet: '10.4.0.0/24' }]] }, { runtimeConfig: { ips: ['10.4.0.52/24'] } }))).json), '10.4.0.52/24');
  const taken = await call('ADD', 'd', c, { CNI_ARGS: 'IP=10.4.0.50' });
  t.regex(String(taken.json?.msg), /requested IP address 10\.4\.0\.50 is not available/);
  const outside = await call('ADD', 'e', c, { CNI_ARGS: 'IP=10.9.0.1' });
  t.regex(String(outside.json?.msg), /failed to allocate all requested IPs: 10\.9\.0\.1/);
  const unknownArg = await call('ADD', 'f', c, { CNI_ARGS: 'FOO=bar' });
  t.regex(String(unknownArg.json?.msg), /ARGS: unknown args/);
});

test('DEL is idempotent, CHECK finds allocations, duplicate ADD is refused', async (t) => {
  const { conf, call } = setup(t);
  const c = conf({ ranges: [[{ subnet: '10.5.0.0/24' }]] });
  await call('ADD', 'a', c);
  const dup = await call('ADD', 'a', c);
  t.regex(String(dup.json?.msg), /duplicate allocation is not allowed/);
  t.is((await call('CHECK', 'a', c)).exitCode, 0);
  t.is((await call('DEL', 'a', c)).exitCode, 0);
  t.is((await call('DEL', 'a', c)).exitCode, 0);
  t.is((await call('DEL', 'never', c)).exitCode, 0);
  const check = await call('CHECK', 'a', c);
  t.regex(String(check.json?.msg), /Failed to find address added by container a/);
});

test('GC (1.1.0) frees allocations of attachments that are gone; STATUS answers', async (t) => {
  const { conf, call, files } = setup(t);
  const c = conf({ ranges: [[{ subnet: '10.6.0.0/24' }]] }, { cniVersion: '1.1.0' });
  for (const id of ['a', 'b', 'c']) await call('ADD', id, c);
  const gcConf = JSON.stringify({ ...JSON.parse(c), 'cni.dev/valid-attachments': [{ containerID: 'b', ifname: 'eth0' }] });
  const gc = await call('GC', '', gcConf, { CNI_CONTAINERID: undefined, CNI_IFNAME: undefined, CNI_NETNS: undefined });
  t.is(gc.exitCode, 0, gc.stdout);
  t.deepEqual(files(), ['10.6.0.3', 'last_reserved_ip.0', 'lock']);
  t.is((await call('STATUS', '', c, { CNI_CONTAINERID: undefined })).exitCode, 0);
  // GC needs a 1.1.0 config
  const old = await call('GC', '', conf({ ranges: [[{ subnet: '10.6.0.0/24' }]] }), { CNI_CONTAINERID: undefined });
  t.is(old.json?.code, 1);
});

test('config errors: missing ipam, bad subnet, host bits, overlapping ranges, too small', async (t) => {
  const { conf, call } = setup(t);
  const cases: Array<[string, RegExp]> = [
    [JSON.stringify({ cniVersion: '1.0.0', name: 'net', type: 'host-local' }), /IPAM config missing 'ipam' key/],
    [conf({ ranges: [[{ subnet: 'banana' }]] }), /invalid CIDR address: banana/],
    [conf({ ranges: [[{ subnet: '10.7.0.1/24' }]] }), /Network has host bits set/],
    [conf({ ranges: [[{ subnet: '10.7.0.0/24' }], [{ subnet: '10.7.0.0/25' }]] }), /range set 0 overlaps with 1/],
    [conf({ ranges: [[{ subnet: '10.7.0.0/31' }]] }), /too small to allocate from/],
    [conf({ ranges: [] }), /no IP ranges specified/],
    [conf({ ranges: [[{ subnet: '10.7.0.0/24', rangeStart: '10.8.0.1' }]] }), /RangeStart 10\.8\.0\.1 not in network 10\.7\.0\.0\/24/],
  ];
  for (const [c, re] of cases) {
    const r = await call('ADD', 'a', c);
    t.is(r.exitCode, 1, c);
    t.regex(String(r.json?.msg), re);
  }
});
