// Milestone 1: bridge + host-local give a container an address from the node's podCIDR and take it
// back on DEL, exactly as the reference plugins do on the same config; two containers talk through
// the bridge.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlugins } from '../support/cni/build.ts';
import { Twin } from '../support/cni/twin.ts';
import { maskResult } from '../support/cni/snapshot.ts';
import { inNs, Sandbox } from '../support/cni/netns.ts';
import { invoke } from '../support/cni/invoke.ts';
import { bridgeConf } from '../support/cni/cases.ts';

const binDir = mkdtempSync(join(tmpdir(), 'hawser-cni-bin-'));
test.before(async () => {
  await buildPlugins(binDir);
});
test.after.always(() => rmSync(binDir, { recursive: true, force: true }));

const labConf = (subnet: string) => bridgeConf({}, { ranges: [[{ subnet }]] });

test('ADD then DEL matches the reference: result, container and host state, IPAM files', async (t) => {
  const twin = await new Twin(binDir).init();
  t.teardown(() => twin.cleanup());
  const conf = labConf('10.244.1.0/24');

  const add = await twin.both('bridge', { command: 'ADD', containerId: 'pod-a' }, conf);
  t.is(add.ours.exitCode, 0, add.ours.stdout + add.ours.stderr);
  t.is(add.ref.exitCode, 0, add.ref.stdout + add.ref.stderr);
  t.deepEqual(maskResult(add.ours.json), maskResult(add.ref.json));
  t.is((add.ours.json?.ips as Array<{ address: string }>)[0].address, '10.244.1.2/24');

  const afterAdd = { ours: await twin.state('ours'), ref: await twin.state('ref') };
  t.deepEqual(afterAdd.ours, afterAdd.ref);
  t.is(afterAdd.ours.files['hawser/10.244.1.2'], `644 ${JSON.stringify('pod-a\r\neth0')}`);

  const del = await twin.both('bridge', { command: 'DEL', containerId: 'pod-a' }, conf);
  t.is(del.ours.exitCode, 0, del.ours.stdout);
  t.is(del.ref.exitCode, 0, del.ref.stdout);
  t.is(del.ours.stdout, '');
  const afterDel = { ours: await twin.state('ours'), ref: await twin.state('ref') };
  t.deepEqual(afterDel.ours, afterDel.ref);
  t.deepEqual(Object.keys(afterDel.ours.files).sort(), ['hawser/last_reserved_ip.0', 'hawser/lock']);

  // DEL is idempotent: again, and with the netns gone
  const again = await twin.both('bridge', { command: 'DEL', containerId: 'pod-a' }, conf);
  t.is(again.ours.exitCode, 0, again.ours.stdout);
  const gone = await twin.both('bridge', { command: 'DEL', containerId: 'pod-a', netns: '/run/netns/hc-does-not-exist' }, conf);
  t.is(gone.ours.exitCode, 0, gone.ours.stdout);
  t.is(gone.ref.exitCode, 0, gone.ref.stdout);
});

test('two containers on one bridge reach each other (ping and TCP), and the gateway', async (t) => {
  const sb = new Sandbox();
  t.teardown(() => sb.cleanup());
  const host = await sb.netns('conn-h');
  const c1 = await sb.netns('conn-c1');
  const c2 = await sb.netns('conn-c2');
  const conf = JSON.stringify(labConf('10.244.7.0/24')).replace('@DATADIR@', join(sb.dir, 'ipam'));
  const addrs: string[] = [];
  for (const [id, ns] of [
    ['c1', c1],
    ['c2', c2],
  ]) {
    const r = await invoke(binDir, 'bridge', host, { command: 'ADD', containerId: id, netns: sb.path(ns) }, conf);
    t.is(r.exitCode, 0, r.stdout);
    addrs.push((r.json?.ips as Array<{ address: string }>)[0].address.split('/')[0]);
  }
  t.deepEqual(addrs, ['10.244.7.2', '10.244.7.3']);

  const ping = await inNs(c1, 'busybox', ['ping', '-c', '1', '-W', '2', addrs[1]]);
  t.is(ping.code, 0, ping.stdout + ping.stderr);
  const gw = await inNs(c2, 'busybox', ['ping', '-c', '1', '-W', '2', '10.244.7.1']);
  t.is(gw.code, 0, gw.stdout + gw.stderr);

  // TCP: a one-shot busybox nc listener in c2, a client in c1
  const server = inNs(c2, 'timeout', ['5', 'busybox', 'nc', '-l', '-p', '7070']);
  let reply = '';
  for (let i = 0; i < 20 && !reply; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const c = await inNs(c1, 'timeout', ['2', 'busybox', 'nc', addrs[1], '7070'], 'hello over the bridge\n');
    if (c.code === 0) reply = 'sent';
  }
  t.is(reply, 'sent');
  const s = await server;
  t.is(s.stdout, 'hello over the bridge\n');

  for (const [id, ns] of [
    ['c1', c1],
    ['c2', c2],
  ]) {
    const r = await invoke(binDir, 'bridge', host, { command: 'DEL', containerId: id, netns: sb.path(ns) }, conf);
    t.is(r.exitCode, 0, r.stdout);
  }
  const links = await inNs(host, 'ip', ['-j', 'link', 'show', 'type', 'veth']);
  t.deepEqual(JSON.parse(links.stdout || '[]'), []);
});
