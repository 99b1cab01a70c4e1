// Long-running lab processes: started detached in their own session (so `hawser lab up` can exit
// and a kill takes the whole group), optionally inside a node's network namespace, with a pid file
// and a log file each.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { readPidFile, writePidFile } from './pid-file.ts';

export interface ProcSpec {
  id: string;
  argv: string[];
  netns?: string;
  logFile: string;
  pidFile: string;
  env?: Record<string, string>;
}

export function startProc(p: ProcSpec): number {
  mkdirSync(dirname(p.logFile), { recursive: true });
  mkdirSync(dirname(p.pidFile), { recursive: true });
  // nsenter --net, not `ip netns exec`: the latter remounts /sys and hides the cgroup mounts
  const argv = p.netns ? ['nsenter', `--net=/run/netns/${p.netns}`, '--', ...p.argv] : p.argv;
  const out = openSync(p.logFile, 'a');
  const child = spawn(argv[0], argv.slice(1), {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, ...p.env },
  });
  child.unref();
  if (!child.pid) throw new Error(`could not start ${p.id}`);
  writePidFile(p.pidFile, child.pid);
  return child.pid;
}

/** A zombie counts as dead: our detached children are reaped by PID 1, which may take its time. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The pid file's process while it runs; never a later process that reused its pid. */
export function pidOf(pidFile: string): number | undefined {
  const pid = readPidFile(pidFile);
  return pid !== undefined && alive(pid) ? pid : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM to the process group, then SIGKILL after graceMs. */
export async function stopProc(pidFile: string, graceMs = 5000): Promise<void> {
  const pid = pidOf(pidFile);
  if (pid) {
    const kill = (sig: NodeJS.Signals) => {
      try {
        process.kill(-pid, sig);
      } catch {
        try {
          process.kill(pid, sig);
        } catch {
          /* gone */
        }
      }
    };
    kill('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (alive(pid) && Date.now() < deadline) await sleep(50);
    if (alive(pid)) kill('SIGKILL');
    while (alive(pid)) await sleep(20);
  }
  rmSync(pidFile, { force: true });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
