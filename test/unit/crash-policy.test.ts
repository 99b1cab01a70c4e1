// Every hawser process dies loudly on an error nobody handled: one JSON log line with the stack
// through the project's logger, exit status 2 (systemd restarts the unit). Each case runs in a
// child process, since the policy ends the process it is installed in.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const PROBE = `
const { installCrashPolicy } = await import(process.env.POLICY);
const { logger } = await import(process.env.LOG);
installCrashPolicy(logger('probe'));
const how = process.env.HOW;
setTimeout(() => {
  if (how === 'reject') void Promise.reject(new Error('boom in a promise'));
  if (how === 'reject-string') void Promise.reject('a bare string');
  if (how === 'throw') throw new Error('boom in a timer');
}, 10);
setTimeout(() => process.exit(0), 5000);
`;

function probe(how: string): Promise<{ code: number | null; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-crash-'));
  const file = join(dir, 'probe.mts');
  writeFileSync(file, PROBE);
  return new Promise((res) => {
    const p = spawn(process.execPath, ['--import', 'tsx', file], {
      env: { ...process.env, HOW: how, POLICY: resolve('agents/cli/crash-policy.ts'), LOG: resolve('agents/api/log.ts') },
    });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.stdout.resume();
    p.on('close', (code) => {
      rmSync(dir, { recursive: true, force: true });
      res({ code, stderr });
    });
  });
}

const cases: [string, string, RegExp][] = [
  ['reject', 'unhandled promise rejection: exiting', /Error: boom in a promise\n\s+at /],
  ['reject-string', 'unhandled promise rejection: exiting', /a bare string/],
  ['throw', 'uncaught exception: exiting', /Error: boom in a timer\n\s+at /],
];
for (const [how, msg, stack] of cases) {
  test(`${how}: logged as one fatal JSON line with the stack, exit status 2`, async (t) => {
    const r = await probe(how);
    t.is(r.code, 2, r.stderr);
    const line = r.stderr
      .trim()
      .split('\n')
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return undefined;
        }
      })
      .find((l) => l?.level === 60);
    t.truthy(line, r.stderr);
    t.like(line, { component: 'probe', msg });
    t.regex(line.err.stack, stack);
  });
}
