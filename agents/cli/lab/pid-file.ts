// Pid files that name one process, not a number: a pid file records the pid and the process's start
// time (field 22 of /proc/<pid>/stat, clock ticks since boot), and a reader accepts the pid only while
// a live process with that start time holds it. pid_max is 32768 here and labs come and go all day,
// so a stale file from an earlier lab could otherwise point `lab down` at some other program and
// signal its whole process group (the likely cause of a machine lab's "destructive transaction").
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** The process's start time and state, or undefined when no such process exists. */
function statOf(pid: number): { start: string; zombie: boolean } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // after the command name (which may hold spaces and parentheses) come fields 3 (state) onwards
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { start: rest[22 - 3], zombie: rest[0] === 'Z' };
  } catch {
    return undefined;
  }
}

/** Records pid and start time; call right after spawning, while the child cannot have been reaped. */
export function writePidFile(path: string, pid: number): void {
  const s = statOf(pid);
  writeFileSync(path, s ? `${pid} ${s.start}\n` : `${pid}\n`);
}

/**
 * The recorded process if it still runs: the pid is alive, not a zombie, and started when the file
 * says. A file from before start times were recorded (one field) is trusted on the pid alone.
 */
export function readPidFile(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  const [p, start] = readFileSync(path, 'utf8').trim().split(/\s+/);
  const pid = Number(p);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const s = statOf(pid);
  if (!s || s.zombie) return undefined;
  return start === undefined || s.start === start ? pid : undefined;
}
