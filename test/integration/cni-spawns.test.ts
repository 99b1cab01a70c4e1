// What the plugins run per pod (issue #26: every process a CNI verb starts costs CPU on a loaded
// node). The plugins' own trace (HAWSER_CNI_TRACE=1) names each program they run: inside the
// container's netns a verb runs one `ip -n` (no nsenter, no sh) where it needs no sysctls, and the
// host-local lock leaves no process behind while it is held. Results stay the reference's: the
// matrix, bridge and concurrency files check that.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlugins } from '../support/cni/build.ts';
import { bridgeConf } from '../support/cni/cases.ts';
import { invoke, type Invocation } from '../support/cni/invoke.ts';
import { Sandbox } from '../support/cni/netns.ts';
import { withLock } from '../../cni-plugins/host-local/lock.ts';

const bin = mkdtempSync(join(tmpdir(), 'hawser-cni-spawns-'));
test.before(async () => {
  await buildPlugins(bin);
});
test.after.always(() => rmSync(bin, { recursive: true, force: true }));

/** The programs a one-shot plugin ran for one verb, in order, from its trace lines. */
async function programs(plugin: string, host: string, inv: Invocation, conf: unknown) {
  const o = await invoke(bin, plugin, host, { ...inv, env: { HAWSER_CNI_TRACE: '1' } }, conf);
  const ran = [...o.stderr.matchAll(/^hawser-cni trace: [\d.]+ ms exit \d+: (\S+)(.*)$/gm)].map((m) => `${m[1]}${m[2]}`);
  return { o, ran, names: ran.map((r) => r.split(' ')[0]) };
}

test.serial('loopback ADD and DEL run one ip inside the container netns, and nothing else', async (t) => {
  const sb = new Sandbox();
  t.teardown(() => sb.cleanup());
  const host = await sb.netns('sp-h');
  const pod = await sb.netns('sp-p');
  const conf = { cniVersion: '1.0.0', name: 'lo', type: 'loopback' };
  const add = await programs('loopback', host, { command: 'ADD', containerId: 'c1', netns: sb.path(pod) }, conf);
  t.is(add.o.exitCode, 0, add.o.stdout + add.o.stderr);
  t.deepEqual(
    (add.o.json?.ips as Array<{ address: string }>).map((i) => i.address),
    ['127.0.0.1/8', '::1/128'],
  );
  t.deepEqual(add.names, ['ip'], add.ran.join('\n'));
  t.regex(add.ran[0], new RegExp(`^ip -n \\S+${sb.path(pod)} -j -batch -$`));
  const del = await programs('loopback', host, { command: 'DEL', containerId: 'c1', netns: sb.path(pod) }, conf);
  t.is(del.o.exitCode, 0, del.o.stdout + del.o.stderr);
  t.deepEqual(del.names, ['ip'], del.ran.join('\n'));
});

test.serial('bridge DEL reads the addresses and deletes the interface with one ip; a second DEL finds nothing and succeeds', async (t) => {
  const sb = new Sandbox();
  t.teardown(() => sb.cleanup());
  const host = await sb.netns('sb-h');
  const pod = await sb.netns('sb-p');
  const conf = JSON.stringify(bridgeConf({}, { ranges: [[{ subnet: '10.244.9.0/24' }]] })).replace('@DATADIR@', join(sb.dir, 'ipam'));
  const inv = { containerId: 'c1', netns: sb.path(pod) };
  const add = await programs('bridge', host, { command: 'ADD', ...inv }, conf);
  t.is(add.o.exitCode, 0, add.o.stdout + add.o.stderr);
  const del = await programs('bridge', host, { command: 'DEL', ...inv }, conf);
  t.is(del.o.exitCode, 0, del.o.stdout + del.o.stderr);
  t.deepEqual(del.names, ['ip'], del.ran.join('\n'));
  t.regex(del.ran[0], / -j -batch -$/);
  const links = spawnSync('ip', ['-n', pod, '-j', 'link', 'show'], { encoding: 'utf8' });
  t.deepEqual(
    (JSON.parse(links.stdout) as Array<{ ifname: string }>).map((l) => l.ifname),
    ['lo'],
    'eth0 is gone',
  );
  t.deepEqual(readdirSync(join(sb.dir, 'ipam', 'hawser')).sort(), ['last_reserved_ip.0', 'lock'], 'the address is released');
  const again = await programs('bridge', host, { command: 'DEL', ...inv }, conf);
  t.is(again.o.exitCode, 0, again.o.stdout + again.o.stderr);
});

/** Our live child processes (pid, command). */
function children(): string[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const s = readFileSync(`/proc/${d}/stat`, 'utf8');
        const ppid = Number(s.slice(s.lastIndexOf(') ') + 2).split(' ')[1]);
        return ppid === process.pid ? [s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'))] : [];
      } catch {
        return [];
      }
    });
}

test.serial('the host-local lock excludes other processes while held, with no process of ours left running', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-cni-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const tryLock = () => spawnSync('flock', ['-n', '-x', join(dir, 'lock'), 'true']).status;
  await withLock(dir, () => {
    t.not(tryLock(), 0, 'another process cannot take the lock');
    t.deepEqual(
      children().filter((c) => c !== 'esbuild'),
      [],
      'no helper process stays alive to hold it',
    ); // esbuild: the test's bundler service
  });
  t.is(tryLock(), 0, 'released after use');
});

test.serial('a DEL with nothing allocated answers without waiting for the host-local lock, and leaves the lock file', async (t) => {
  const sb = new Sandbox();
  t.teardown(() => sb.cleanup());
  const host = await sb.netns('sl-h');
  const ipam = join(sb.dir, 'ipam');
  const conf = JSON.stringify(bridgeConf({}, { ranges: [[{ subnet: '10.244.9.0/24' }]] })).replace('@DATADIR@', ipam);
  mkdirSync(join(ipam, 'hawser'), { recursive: true });
  // another process holds the lock; the runtime's second DEL of a pod (netns already gone) comes meanwhile
  const outcome = await withLock(join(ipam, 'hawser'), () =>
    Promise.race([
      programs('bridge', host, { command: 'DEL', containerId: 'gone', netns: '' }, conf).then((p) => p.o),
      new Promise<null>((r) => setTimeout(() => r(null), 5000)),
    ]),
  );
  t.not(outcome, null, 'the DEL waited for the lock');
  t.is(outcome?.exitCode, 0, outcome ? outcome.stdout + outcome.stderr : '');
  t.deepEqual(readdirSync(join(ipam, 'hawser')), ['lock']);
});
