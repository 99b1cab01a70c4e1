// The exec shim and the resident daemon: the shim only uses a live daemon of its own network namespace,
// falls back to the one-shot plugin otherwise (no daemon, dead daemon, other namespace, stdio the
// daemon cannot reach), and gives the same answers either way.
import test from 'ava';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, utimesSync, existsSync, readdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlugins } from '../support/cni/build.ts';
import { startDaemon } from '../support/cni/daemon.ts';
import { invoke } from '../support/cni/invoke.ts';
import { inNs, Sandbox } from '../support/cni/netns.ts';
import { run } from '../../cni-plugins/pkg/exec.ts';
import { bridgeConf } from '../support/cni/cases.ts';

const bin = mkdtempSync(join(tmpdir(), 'hawser-cni-shim-'));
test.before(async () => {
  await buildPlugins(bin, { shim: true });
});
test.after.always(() => rmSync(bin, { recursive: true, force: true }));

const loopConf = { cniVersion: '1.0.0', name: 'lo', type: 'loopback' };

async function world(t: import('ava').ExecutionContext) {
  const sb = new Sandbox();
  t.teardown(() => sb.cleanup());
  const host = await sb.netns('dh');
  const pod = await sb.netns('dp');
  const runDir = join(sb.dir, 'run');
  return { sb, host, pod, runDir, env: { HAWSER_CNI_RUN_DIR: runDir } };
}

test.serial('without a daemon the shim runs the one-shot plugin', async (t) => {
  const w = await world(t);
  const o = await invoke(bin, 'loopback', w.host, { command: 'ADD', containerId: 'c1', netns: w.sb.path(w.pod), env: w.env }, loopConf);
  t.is(o.exitCode, 0, o.stdout + o.stderr);
  t.is((o.json?.interfaces as Array<{ name: string }>)[0].name, 'lo');
});

test.serial('a live daemon answers, errors included, with the one-shot answers', async (t) => {
  const w = await world(t);
  const d = await startDaemon(bin, w.host, w.runDir);
  t.teardown(() => d.stop());
  const ok = await invoke(bin, 'loopback', w.host, { command: 'ADD', containerId: 'c1', netns: w.sb.path(w.pod), env: w.env }, loopConf);
  const bad = await invoke(bin, 'loopback', w.host, { command: 'ADD', containerId: 'c1', netns: w.sb.path(w.pod), env: w.env }, '{"cniVersion":');
  const version = await invoke(bin, 'bridge', w.host, { command: 'VERSION', env: w.env }, '');
  await d.stop();
  t.regex(d.log(), /stopping after 3 requests/);
  t.is(ok.exitCode, 0, ok.stdout);
  t.is(bad.exitCode, 1);
  t.is(bad.json?.code, 6);
  t.deepEqual(version.json?.supportedVersions, ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']);
  // stopped cleanly: its spool dir is gone, so shims stop trying it
  t.deepEqual(existsSync(w.runDir) ? readdirSync(w.runDir) : [], []);
});

test.serial('a daemon of another namespace, a dead daemon and socket stdio all mean fallback', async (t) => {
  const w = await world(t);
  const other = await w.sb.netns('do');
  const d = await startDaemon(bin, other, w.runDir);
  t.teardown(() => d.stop());
  const a = await invoke(bin, 'loopback', w.host, { command: 'ADD', containerId: 'c1', netns: w.sb.path(w.pod), env: w.env }, loopConf);
  t.is(a.exitCode, 0, a.stdout);

  // same namespace, but the caller's stdio are sockets (Node's spawn): declined, then fallback
  const d2 = await startDaemon(bin, w.host, join(w.sb.dir, 'run2'));
  t.teardown(() => d2.stop());
  const env = {
    PATH: process.env.PATH,
    HAWSER_CNI_RUN_DIR: join(w.sb.dir, 'run2'),
    CNI_COMMAND: 'ADD',
    CNI_CONTAINERID: 'c2',
    CNI_NETNS: w.sb.path(w.pod),
    CNI_IFNAME: 'eth0',
    CNI_PATH: bin,
  };
  const s = await run('nsenter', [`--net=/run/netns/${w.host}`, join(bin, 'loopback')], { env, input: JSON.stringify(loopConf) });
  t.is(s.code, 0, s.stdout + s.stderr);

  // a daemon killed outright leaves its dir; the shim sees it is dead and falls back
  d2.child.kill('SIGKILL');
  await new Promise((r) => d2.child.once('close', r));
  const b = await invoke(
    bin,
    'loopback',
    w.host,
    { command: 'ADD', containerId: 'c3', netns: w.sb.path(w.pod), env: { HAWSER_CNI_RUN_DIR: join(w.sb.dir, 'run2') } },
    loopConf,
  );
  t.is(b.exitCode, 0, b.stdout);
  // and a new daemon takes the stale dir over
  const d3 = await startDaemon(bin, w.host, join(w.sb.dir, 'run2'));
  t.teardown(() => d3.stop());
  const c = await invoke(
    bin,
    'loopback',
    w.host,
    { command: 'ADD', containerId: 'c4', netns: w.sb.path(w.pod), env: { HAWSER_CNI_RUN_DIR: join(w.sb.dir, 'run2') } },
    loopConf,
  );
  t.is(c.exitCode, 0, c.stdout);
  await d3.stop();
  t.regex(d3.log(), /stopping after 1 requests/);
  await d.stop();
  t.regex(d.log(), /stopping after 0 requests/);
  const lo = await inNs(w.pod, 'ip', ['-j', 'link', 'show', 'dev', 'lo']);
  t.true((JSON.parse(lo.stdout) as Array<{ flags: string[] }>)[0].flags.includes('UP'));
});

test.serial('a daemon that dies mid-request: the shim answers error 11 and does not run the plugin again', async (t) => {
  const w = await world(t);
  // a stand-in daemon for the test's own namespace: it takes the request, then closes the FIFO unanswered
  const spool = join(w.runDir, 'fake');
  mkdirSync(join(spool, 'q'), { recursive: true });
  symlinkSync(`/proc/${process.pid}/ns/net`, join(spool, 'netns'));
  const answer = invoke(bin, 'loopback', null, { command: 'ADD', containerId: 'c1', netns: w.sb.path(w.pod), env: w.env }, loopConf);
  let fd = -1;
  for (let i = 0; i < 2000 && fd < 0; i++) {
    const [req] = readdirSync(join(spool, 'q'));
    try {
      if (req) fd = openSync(join(spool, 'q', req), constants.O_WRONLY | constants.O_NONBLOCK);
    } catch {
      /* the shim has not opened its end yet */
    }
    if (fd < 0) await new Promise((r) => setTimeout(r, 5));
  }
  t.true(fd >= 0, 'the shim made its request FIFO');
  closeSync(fd);
  const o = await answer;
  t.is(o.exitCode, 1);
  // (the one-shot plugin, run behind the dead daemon's back, would have answered with a result)
  t.is(o.json?.code, 11, o.stdout);
  t.regex(String(o.json?.msg), /daemon stopped while handling the request/);
});

test.serial('a second daemon for the same namespace steps aside; a rebuilt bundle retires the first', async (t) => {
  const w = await world(t);
  const d = await startDaemon(bin, w.host, w.runDir);
  t.teardown(() => d.stop());
  const second = await run('nsenter', [`--net=/run/netns/${w.host}`, process.execPath, join(bin, 'cnid.cjs')], { env: { ...process.env, ...w.env } });
  t.is(second.code, 0);
  t.regex(second.stderr, /another daemon already serves/);
  // touching cnid.cjs (a rebuild) makes the daemon finish after its next request
  const now = new Date();
  utimesSync(join(bin, 'cnid.cjs'), now, new Date(now.getTime() + 5000));
  const o = await invoke(bin, 'loopback', w.host, { command: 'ADD', containerId: 'c1', netns: w.sb.path(w.pod), env: w.env }, loopConf);
  t.is(o.exitCode, 0, o.stdout);
  for (let i = 0; i < 50 && d.child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
  t.not(d.child.exitCode, null, 'the daemon should have exited');
});

test.serial('the daemon judges a bridge address conflict on fresh state: a former podCIDR gateway removed meanwhile no longer blocks ADD', async (t) => {
  const w = await world(t);
  const d = await startDaemon(bin, w.host, w.runDir);
  t.teardown(() => d.stop());
  const dataDir = join(w.sb.dir, 'ipam');
  const conf = (subnet: string) => JSON.stringify(bridgeConf({}, { ranges: [[{ subnet }]], dataDir }));
  const pod2 = await w.sb.netns('dp2');
  const first = await invoke(bin, 'bridge', w.host, { command: 'ADD', containerId: 'c1', netns: w.sb.path(w.pod), env: w.env }, conf('10.250.1.0/24'));
  t.is(first.exitCode, 0, first.stdout + first.stderr);
  // the node got another podCIDR: podnet takes the old gateway off the bridge, as the reference
  // bridge plugin would otherwise refuse; the daemon still remembers the old address
  await inNs(w.host, 'ip', ['addr', 'del', '10.250.1.1/24', 'dev', 'cni0']);
  const second = await invoke(bin, 'bridge', w.host, { command: 'ADD', containerId: 'c2', netns: w.sb.path(pod2), env: w.env }, conf('10.250.2.0/24'));
  t.is(second.exitCode, 0, second.stdout + second.stderr);
  t.is((second.json?.ips as Array<{ address: string }>)[0].address, '10.250.2.2/24');
  const br = JSON.parse((await inNs(w.host, 'ip', ['-j', 'addr', 'show', 'dev', 'cni0'])).stdout) as Array<{
    addr_info: Array<{ family: string; local: string }>;
  }>;
  t.deepEqual(
    br[0].addr_info.filter((a) => a.family === 'inet').map((a) => a.local),
    ['10.250.2.1'],
  );
  // a conflict that is really there is still refused, as the reference refuses it
  const third = await invoke(bin, 'bridge', w.host, { command: 'ADD', containerId: 'c3', netns: w.sb.path(w.pod), env: w.env }, conf('10.250.3.0/24'));
  t.is(third.exitCode, 1, third.stdout);
  t.regex(String(third.json?.msg), /already has an IP address different from 10\.250\.3\.1\/24/);
  await d.stop();
  t.regex(d.log(), /stopping after 3 requests/);
});

test.serial(
  'health: /livez and /readyz on 127.0.0.1:10263 of its netns; /readyz is a 500 naming "serving" once shims cannot reach it; stop lets the process end',
  async (t) => {
    const w = await world(t);
    await inNs(w.host, 'ip', ['link', 'set', 'lo', 'up']);
    const d = await startDaemon(bin, w.host, w.runDir);
    t.teardown(() => d.stop());
    for (let i = 0; i < 100 && !/"healthz":10263/.test(d.log()); i++) await new Promise((r) => setTimeout(r, 50));
    const get = async (path: string) => {
      const r = await inNs(w.host, 'curl', ['-s', '-w', '\n%{http_code}', `http://127.0.0.1:10263${path}`]);
      const i = r.stdout.lastIndexOf('\n');
      return { status: Number(r.stdout.slice(i + 1)), body: r.stdout.slice(0, i) };
    };
    t.deepEqual(await get('/livez'), { status: 200, body: 'ok' });
    t.deepEqual(await get('/readyz?verbose'), { status: 200, body: '[+]ping ok\n[+]log ok\n[+]serving ok\nreadyz check passed\n' });
    // its spool dir no longer leads shims to it
    const [dir] = readdirSync(w.runDir);
    unlinkSync(join(w.runDir, dir!, 'netns'));
    t.deepEqual(await get('/readyz'), { status: 500, body: '[+]ping ok\n[+]log ok\n[-]serving failed: reason withheld\nreadyz check failed\n' });
    t.deepEqual(await get('/healthz?exclude=serving'), { status: 200, body: 'ok' });
    t.like(await get('/readyz/serving'), { status: 500 });
    t.deepEqual(await get('/livez'), { status: 200, body: 'ok' }, 'alive all the same');
    await d.stop();
    t.is(d.child.signalCode, null, 'ended by itself after SIGTERM, not killed: the health server let go');
  },
);
