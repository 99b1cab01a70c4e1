// 20 concurrent ADDs on one node get 20 distinct addresses, and DEL of all leaves the range empty:
// with one-shot plugin processes (cross-process flock), with the shim + daemon (one process,
// concurrent requests), and with ours and the reference sharing one IPAM dir (the same lock file).
import test from 'ava';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlugins } from '../support/cni/build.ts';
import { startDaemon } from '../support/cni/daemon.ts';
import { invoke, REFERENCE_BIN } from '../support/cni/invoke.ts';
import { inNs, Sandbox } from '../support/cni/netns.ts';

const root = mkdtempSync(join(tmpdir(), 'hawser-cni-conc-'));
const oneShot = join(root, 'oneshot');
const shim = join(root, 'shim');
test.before(async () => {
  await buildPlugins(oneShot);
  await buildPlugins(shim, { shim: true });
});
test.after.always(() => rmSync(root, { recursive: true, force: true }));

const N = 20;

async function storm(t: import('ava').ExecutionContext, bins: (i: number) => string, env: Record<string, string> = {}, withDaemon = false): Promise<void> {
  const sb = new Sandbox();
  t.teardown(() => sb.cleanup());
  const host = await sb.netns('conc-h');
  const daemon = withDaemon ? await startDaemon(shim, host, env.HAWSER_CNI_RUN_DIR) : undefined;
  t.teardown(() => daemon?.stop());
  const dataDir = join(sb.dir, 'ipam');
  const conf = JSON.stringify({
    cniVersion: '1.0.0',
    name: 'storm',
    type: 'bridge',
    bridge: 'cni0',
    isGateway: true,
    ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.5.0/27' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir },
  });
  const pods = await Promise.all(Array.from({ length: N }, (_, i) => sb.netns(`p${i}`)));
  const adds = await Promise.all(
    pods.map((ns, i) => invoke(bins(i), 'bridge', host, { command: 'ADD', containerId: `pod${i}`, netns: sb.path(ns), env }, conf)),
  );
  for (const a of adds) t.is(a.exitCode, 0, a.stdout);
  const ips = adds.map((a) => (a.json?.ips as Array<{ address: string }>)[0].address);
  t.is(new Set(ips).size, N, `distinct: ${ips.join(' ')}`);
  const files = readdirSync(join(dataDir, 'storm')).filter((f) => f.startsWith('10.'));
  t.is(files.length, N);
  // every address is really on its pod's interface
  const onIface = await Promise.all(pods.map((ns) => inNs(ns, 'ip', ['-j', '-4', 'addr', 'show', 'dev', 'eth0'])));
  t.deepEqual(
    onIface.map((r) => `${(JSON.parse(r.stdout) as Array<{ addr_info: Array<{ local: string }> }>)[0].addr_info[0].local}/27`),
    ips,
  );

  const dels = await Promise.all(
    pods.map((ns, i) => invoke(bins(i), 'bridge', host, { command: 'DEL', containerId: `pod${i}`, netns: sb.path(ns), env }, conf)),
  );
  for (const d of dels) t.is(d.exitCode, 0, d.stdout);
  t.deepEqual(
    readdirSync(join(dataDir, 'storm')).filter((f) => !['lock', 'last_reserved_ip.0'].includes(f)),
    [],
  );
  const veths = await inNs(host, 'ip', ['-j', 'link', 'show', 'type', 'veth']);
  t.deepEqual(JSON.parse(veths.stdout || '[]'), []);
  if (daemon) {
    await daemon.stop();
    t.regex(daemon.log(), new RegExp(`stopping after ${2 * N} requests`));
  }
}

test.serial('20 concurrent ADDs, one-shot processes', (t) => storm(t, () => oneShot));

test.serial('20 concurrent ADDs through the shim and one daemon', (t) => storm(t, () => shim, { HAWSER_CNI_RUN_DIR: join(root, 'run') }, true));

test.serial('20 concurrent ADDs, ours and the reference sharing one IPAM dir', (t) => storm(t, (i) => (i % 2 ? oneShot : REFERENCE_BIN)));
