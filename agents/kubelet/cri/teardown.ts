// Tearing a node's containerd down completely: sandboxes through CRI while it still answers, then
// the daemon, then whatever survived (shims and their containers, overlay and netns mounts under
// root/state, empty cgroups, the directories). Used by `lab down` and by integration tests, which
// must leave nothing behind even when the runtime is wedged.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CriClient } from './client.ts';
import { alive, stopPid } from './daemon.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stops and removes every sandbox (and so every container) through CRI. Best effort, bounded. */
export async function removeAllSandboxes(socket: string, timeoutMs = 30_000): Promise<void> {
  const client = new CriClient(socket, { timeoutMs: Math.min(timeoutMs, 10_000), slowTimeoutMs: timeoutMs });
  try {
    for (const s of await client.listPodSandbox()) {
      await client.stopPodSandbox(s.id).catch(() => undefined);
      await client.removePodSandbox(s.id).catch(() => undefined);
    }
  } catch {
    // runtime gone or wedged: the process-level cleanup below still runs
  } finally {
    client.close();
  }
}

function readProc(pid: string, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

/** Shims started by the containerd on `socket` (their argv carries `-address <socket>`). */
export function shimPids(socket: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    const argv = readProc(pid, 'cmdline').split('\0');
    if (!argv[0]?.includes('containerd-shim')) continue;
    const i = argv.indexOf('-address');
    if (i >= 0 && argv[i + 1] === socket) out.push(Number(pid));
  }
  return out;
}

/** All descendants of the given pids (children before their parents are not guaranteed). */
export function descendants(roots: number[]): number[] {
  const children = new Map<number, number[]>();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    const stat = readProc(pid, 'stat');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)!.push(Number(pid));
  }
  const seen: number[] = [];
  const queue = [...roots];
  while (queue.length) {
    for (const c of children.get(queue.shift()!) ?? []) {
      if (seen.includes(c)) continue;
      seen.push(c);
      queue.push(c);
    }
  }
  return seen;
}

/** SIGKILLs the shims of this containerd and the containers under them. */
export async function killShims(socket: string): Promise<number> {
  const shims = shimPids(socket);
  const victims = [...descendants(shims), ...shims];
  for (const pid of victims) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const end = Date.now() + 5_000; Date.now() < end && victims.some(alive); ) await sleep(50);
  return victims.length;
}

/** Mount points at or under any of `dirs`, deepest first (so nested mounts go before their parents). */
export function mountsUnder(dirs: string[], mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const decode = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const points = mountinfo
    .split('\n')
    .filter(Boolean)
    .map((l) => decode(l.split(' ')[4]!))
    .filter((p) => dirs.some((d) => p === d || p.startsWith(d.endsWith('/') ? d : `${d}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Unmounts everything at or under dirs (lazily when busy); returns the mount points still there. */
export function unmountUnder(dirs: string[]): string[] {
  // further passes catch mounts stacked on the same point
  for (let pass = 0; pass < 3; pass++) {
    const points = mountsUnder(dirs);
    if (points.length === 0) return [];
    for (const p of points) {
      try {
        execFileSync('umount', [p], { stdio: 'ignore' });
      } catch {
        try {
          execFileSync('umount', ['-l', p], { stdio: 'ignore' });
        } catch {
          /* reported below if it stays */
        }
      }
    }
  }
  return mountsUnder(dirs);
}

/** rmdir a cgroup path (e.g. /hawser-test-1) in every v1 hierarchy, children first; cgroups must be empty. */
export function removeCgroupTree(rel: string, cgroupRoot = '/sys/fs/cgroup'): void {
  const rmTree = (dir: string): void => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) rmTree(join(dir, e.name));
    try {
      rmdirSync(dir);
    } catch {
      /* busy or gone */
    }
  };
  let hierarchies: string[] = [];
  try {
    hierarchies = readdirSync(cgroupRoot);
  } catch {
    return;
  }
  for (const h of hierarchies) rmTree(join(cgroupRoot, h, rel));
}

export interface TeardownTarget {
  socket: string;
  root: string;
  state: string;
  /** containerd's pid, when this caller started it */
  pid?: number;
  /** cgroup parents the pods used, removed when empty */
  cgroupParents?: string[];
  /** extra directories to delete after unmounting (e.g. the test's temp dir) */
  removeDirs?: string[];
}

/** Returns a list of problems that remained (empty when everything is gone). */
export async function teardownContainerd(t: TeardownTarget): Promise<string[]> {
  const problems: string[] = [];
  if (t.pid === undefined || alive(t.pid)) await removeAllSandboxes(t.socket);
  if (t.pid !== undefined) await stopPid(t.pid, 10_000).catch((e) => problems.push(String(e)));
  await killShims(t.socket);
  const stuck = unmountUnder([t.root, t.state]);
  if (stuck.length) problems.push(`mounts left: ${stuck.join(', ')}`);
  for (const cg of t.cgroupParents ?? []) removeCgroupTree(cg);
  if (!stuck.length) {
    for (const d of [t.root, t.state, ...(t.removeDirs ?? [])]) rmSync(d, { recursive: true, force: true });
    rmSync(t.socket, { force: true });
  }
  return problems;
}
