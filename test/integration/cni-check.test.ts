// bridge CHECK really looks: after ADD, one thing is broken in the container or on the host (the same
// in both worlds), and CHECK must fail, as the reference's does.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlugins } from '../support/cni/build.ts';
import { inNs } from '../support/cni/netns.ts';
import { errorCode, FLAVOURS, Twin, type Flavour } from '../support/cni/twin.ts';

const binDir = mkdtempSync(join(tmpdir(), 'hawser-cni-bin-'));
test.before(async () => {
  await buildPlugins(binDir);
});
test.after.always(() => rmSync(binDir, { recursive: true, force: true }));

const conf = {
  cniVersion: '1.0.0',
  name: 'hawser',
  type: 'bridge',
  bridge: 'cni0',
  isGateway: true,
  ipam: {
    type: 'host-local',
    ranges: [[{ subnet: '10.244.1.0/24' }]],
    routes: [{ dst: '0.0.0.0/0' }, { dst: '192.168.7.0/24', gw: '10.244.1.254' }],
    dataDir: '@DATADIR@',
  },
};

type Breaker = (w: { host: string; pod: string }) => Promise<unknown>;
const BREAKERS: Array<[string, Breaker | null]> = [
  ['nothing broken', null],
  ['default route removed', (w) => inNs(w.pod, 'ip', ['route', 'del', 'default'])],
  ['static route removed', (w) => inNs(w.pod, 'ip', ['route', 'del', '192.168.7.0/24'])],
  ['address removed', (w) => inNs(w.pod, 'ip', ['addr', 'flush', 'dev', 'eth0'])],
  ['container MAC changed', (w) => inNs(w.pod, 'ip', ['link', 'set', 'dev', 'eth0', 'address', '02:00:00:00:00:42'])],
  ['bridge set promiscuous', (w) => inNs(w.host, 'ip', ['link', 'set', 'dev', 'cni0', 'promisc', 'on'])],
  [
    'veth taken off the bridge',
    (w) => inNs(w.host, 'sh', ['-c', 'for v in $(ip -o link show type veth | cut -d: -f2 | cut -d@ -f1); do ip link set dev $v nomaster; done']),
  ],
];

for (const [name, breaker] of BREAKERS) {
  test.serial(`CHECK: ${name}`, async (t) => {
    const twin = await new Twin(binDir).init();
    t.teardown(() => twin.cleanup());
    const add = await twin.both('bridge', { command: 'ADD', containerId: 'c1' }, conf);
    for (const f of FLAVOURS) t.is(add[f].exitCode, 0, add[f].stdout);
    if (breaker) for (const f of FLAVOURS) await breaker({ host: twin.worlds[f].hostNs, pod: twin.worlds[f].containers.get('c1')! });
    const check: Record<Flavour, Awaited<ReturnType<Twin['run']>>> = {} as never;
    for (const f of FLAVOURS) check[f] = await twin.run(f, 'bridge', { command: 'CHECK', containerId: 'c1' }, { ...conf, prevResult: add[f].json });
    t.is(check.ours.exitCode, breaker ? 1 : 0, check.ours.stdout);
    t.is(errorCode(check.ours), errorCode(check.ref), `ours ${check.ours.stdout} ref ${check.ref.stdout}`);
    const del = await twin.both('bridge', { command: 'DEL', containerId: 'c1' }, conf);
    for (const f of FLAVOURS) t.is(del[f].exitCode, 0, del[f].stdout);
  });
}
