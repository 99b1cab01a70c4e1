// agents/api/exec.ts, the one way the agents run a tool: typed result, stdin, a timeout that kills,
// errors naming the command with its stderr; and no long-running agent runs a tool any other way.
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ExecError, makeExec, run, runOk } from '../../agents/api/exec.ts';
import { SYSTEM_PATH } from '../../agents/api/system-path.ts';

test('run gives the exit status, stdout and stderr of a failing tool without rejecting', async (t) => {
  const r = await run('sh', ['-c', 'echo out; echo err >&2; exit 3']);
  t.like(r, { code: 3, signal: null, timedOut: false, stdout: 'out\n', stderr: 'err\n' });
});

test('run feeds stdin and sets PATH to the system tools', async (t) => {
  t.is((await run('cat', [], { input: 'hello' })).stdout, 'hello');
  t.is((await run('sh', ['-c', 'printf %s "$PATH"'])).stdout, SYSTEM_PATH);
});

test('a tool that outlives its timeout is killed and reported as timed out', async (t) => {
  const t0 = performance.now();
  const r = await run('sleep', ['30'], { timeoutMs: 100 });
  t.true(performance.now() - t0 < 5000);
  t.like(r, { timedOut: true, signal: 'SIGKILL' });
  const err = await t.throwsAsync(runOk('sleep', ['30'], { timeoutMs: 100 }), { instanceOf: ExecError });
  t.is(err?.message, 'sleep 30 timed out: ');
});

test('runOk and an Exec reject with the command line and its stderr', async (t) => {
  const err = await t.throwsAsync(runOk('sh', ['-c', 'echo nope >&2; exit 2']), { instanceOf: ExecError });
  t.is(err?.message, 'sh -c echo nope >&2; exit 2 exited 2: nope');
  t.is(err?.code, 2);
  t.is(err?.stderr, 'nope\n');
  const x = makeExec();
  t.is(await x('tr', ['a-z', 'A-Z'], 'abc'), 'ABC');
  await t.throwsAsync(x('false', []), { instanceOf: ExecError, message: 'false exited 1: ' });
});

test('a tool that does not exist rejects', async (t) => {
  await t.throwsAsync(run('hawser-no-such-tool', []), { code: 'ENOENT' });
});

// The long-running agents (and the notifier every unit uses) never spawn a tool themselves.
// Allowed: the runner itself, containerd's daemon start, and the test harnesses still under agents/.
const ALLOWED = new Set([
  'agents/api/exec.ts',
  'agents/kubelet/cri/daemon.ts',
  'agents/kubelet/cri/gen-types.ts',
  'agents/kubelet/cri/throwaway.ts',
  'agents/kubelet/cri/snapshotter.ts',
  'agents/kubelet/cri/teardown.ts',
  'agents/kube-proxy/testbed.ts',
  'agents/control-plane/storage/etcd-server.ts',
]);
const LONG_RUNNING = [
  'agents/api',
  'agents/control-plane',
  'agents/ingress',
  'agents/kube-proxy',
  'agents/kubelet',
  'agents/netpol',
  'agents/podnet',
  'agents/cli/sd-notify.ts',
  'agents/cli/agent.ts',
];

function sources(p: string): string[] {
  if (!statSync(p).isDirectory()) return [p];
  return readdirSync(p).flatMap((n) => (n.endsWith('.ts') || statSync(join(p, n)).isDirectory() ? sources(join(p, n)) : []));
}

test('no long-running agent imports node:child_process', (t) => {
  const spawning = LONG_RUNNING.flatMap(sources).filter((f) => !ALLOWED.has(f) && /from 'node:child_process'/.test(readFileSync(f, 'utf8')));
  t.deepEqual(spawning, []);
});
