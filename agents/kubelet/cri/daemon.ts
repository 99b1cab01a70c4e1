// Starting and stopping the daemons a node needs (containerd, the image registry): optionally inside
// a network namespace via `nsenter --net` (not `ip netns exec`, which remounts /sys and hides the
// cgroup mounts from containerd), output appended to a log file, readiness polled with a bound.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Daemon {
  pid: number;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
  hasExited(): boolean;
}

export function spawnDaemon(o: { cmd: string; args: string[]; logFile: string; netnsPath?: string }): Daemon {
  mkdirSync(dirname(o.logFile), { recursive: true });
  const fd = openSync(o.logFile, 'a');
  // nsenter without --fork execs the target in place: the pid we get is the daemon's own
  const [cmd, args] = o.netnsPath ? ['nsenter', [`--net=${o.netnsPath}`, '--', o.cmd, ...o.args]] : [o.cmd, o.args];
  let child;
  try {
    // own process group: a Ctrl-C meant for the caller does not take the node's runtime down with it
    child = spawn(cmd, args, { stdio: ['ignore', fd, fd], detached: true });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`could not start ${o.cmd}`);
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (e) => {
      done = true;
      resolve(String(e));
    });
  });
  child.unref();
  return { pid: child.pid, exited, hasExited: () => done };
}

/** True while the pid names a live (not zombie) process. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, wait up to graceMs, then SIGKILL and wait again (bounded). */
export async function stopPid(pid: number, graceMs = 10_000): Promise<void> {
  const waitGone = async (ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (!alive(pid)) return true;
    return !alive(pid);
  };
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  if (await waitGone(graceMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  if (!(await waitGone(5_000))) throw new Error(`process ${pid} survived SIGKILL`);
}

/** Thrown by a readiness probe when waiting longer cannot help (e.g. a plugin failed to load). */
export class NotStartingError extends Error {}

/** Polls `ready` until it resolves true; fails early when the daemon dies or the probe throws NotStartingError. */
export async function waitReady(d: Daemon, what: string, logFile: string, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (d.hasExited() || !alive(d.pid))
      throw new Error(`${what} exited during start (${await Promise.race([d.exited, sleep(100).then(() => '?')])}): ${logTail(logFile)}`);
    const ok = await ready().catch((e: unknown) => {
      if (e instanceof NotStartingError) throw new Error(`${what} will not become ready: ${e.message}: ${logTail(logFile)}`);
      return false;
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`${what} not ready after ${timeoutMs} ms: ${logTail(logFile)}`);
    await sleep(100);
  }
}

export function logTail(logFile: string, lines = 15): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
